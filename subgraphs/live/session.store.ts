/**
 * SQL for live sessions, monthly usage and the XP outbox. Every write that decides a credit or an
 * end runs on a row locked `for update` (or skipped when another process holds it), so two tabs,
 * a retrying client and the sweepers of several processes never credit or end anything twice.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { HEARTBEAT_TIMEOUT_SECONDS, MAX_CREDIT_SECONDS, type LivePlan } from './quota.ts';

export type LiveSessionType = 'voice' | 'avatar';
export type LiveEndReason = 'client' | 'timeout';

/** A live session as services see it. */
export interface LiveSession {
  id: string;
  userId: string;
  sessionType: LiveSessionType;
  plan: LivePlan;
  startedAt: Date;
  lastHeartbeatAt: Date;
  endedAt: Date | null;
  endReason: LiveEndReason | null;
  billedSeconds: number;
  durationSeconds: number | null;
  xpAwarded: number | null;
}

interface SessionRow {
  id: string;
  user_id: string;
  session_type: LiveSessionType;
  plan: LivePlan;
  started_at: Date | string;
  last_heartbeat_at: Date | string;
  ended_at: Date | string | null;
  end_reason: LiveEndReason | null;
  billed_seconds: number;
  duration_seconds: number | null;
  xp_awarded: number | null;
}

const date = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

function toSession(r: SessionRow): LiveSession {
  return {
    id: r.id,
    userId: r.user_id,
    sessionType: r.session_type,
    plan: r.plan,
    startedAt: date(r.started_at),
    lastHeartbeatAt: date(r.last_heartbeat_at),
    endedAt: r.ended_at === null ? null : date(r.ended_at),
    endReason: r.end_reason,
    billedSeconds: Number(r.billed_seconds),
    durationSeconds: r.duration_seconds === null ? null : Number(r.duration_seconds),
    xpAwarded: r.xp_awarded === null ? null : Number(r.xp_awarded),
  };
}

const S = '"live"."sessions"';
const U = '"live"."usage"';

/**
 * The user's session `id` and the seconds used in the month starting `periodStart`, both rows
 * locked until the transaction ends, in one statement: the session first (the usage upsert reads
 * it), then the usage row, created if needed (the upsert takes its lock). Null when the session is
 * absent or another user's (and then no usage row is touched).
 */
export async function lockSessionAndUsage(tx: EntityManager, userId: string, id: string, periodStart: Date): Promise<{ session: LiveSession; used: number } | null> {
  const rows = await tx.execute<(SessionRow & { used: number })[]>(
    `with "s" as (select * from ${S} where "id" = ? and "user_id" = ? for update),
     "u" as (insert into ${U} ("user_id", "period_start", "used_seconds") select "user_id", ?, 0 from "s"
             on conflict ("user_id", "period_start") do update set "used_seconds" = ${U}."used_seconds" returning "used_seconds")
     select "s".*, (select "used_seconds" from "u") as "used" from "s"`,
    [id, userId, periodStart],
  );
  const row = rows[0];
  return row ? { session: toSession(row), used: Number(row.used) } : null;
}

/** The user's active session, locked; null when there is none. */
export async function lockActiveSession(tx: EntityManager, userId: string): Promise<LiveSession | null> {
  const rows = await tx.execute<SessionRow[]>(`select * from ${S} where "user_id" = ? and "ended_at" is null for update`, [userId]);
  return rows[0] ? toSession(rows[0]) : null;
}

/** The user's active session id, unlocked (quota reads). */
export async function findActiveSession(em: EntityManager, userId: string): Promise<LiveSession | null> {
  const rows = await em.execute<SessionRow[]>(`select * from ${S} where "user_id" = ? and "ended_at" is null`, [userId]);
  return rows[0] ? toSession(rows[0]) : null;
}

/** Up to `limit` active sessions silent since before `cutoff`, locked; rows another process holds are skipped. */
export async function lockSilentSessions(tx: EntityManager, cutoff: Date, limit: number): Promise<LiveSession[]> {
  const rows = await tx.execute<SessionRow[]>(
    `select * from ${S} where "ended_at" is null and "last_heartbeat_at" < ? order by "last_heartbeat_at", "id" limit ? for update skip locked`,
    [cutoff, limit],
  );
  return rows.map(toSession);
}

export async function insertSession(tx: EntityManager, s: LiveSession): Promise<void> {
  await tx.execute(
    `insert into ${S} ("id", "user_id", "session_type", "plan", "started_at", "last_heartbeat_at", "billed_seconds") values (?, ?, ?, ?, ?, ?, 0)`,
    [s.id, s.userId, s.sessionType, s.plan, s.startedAt, s.lastHeartbeatAt],
    'run',
  );
}

/**
 * Writes a credit in one statement: the session's new `last_heartbeat_at` and billed total and,
 * when seconds were credited, the month's usage (its row locked by lockSessionAndUsage) and the
 * credit added to the session's open `live_credit` record (creditRecord).
 */
export async function saveCredit(tx: EntityManager, s: LiveSession, usage: { periodStart: Date; used: number } | null, award: { record: AwardRecord; dueAt: Date } | null, now: Date): Promise<void> {
  const writes: string[] = [];
  const params: unknown[] = [];
  if (usage) {
    writes.push(`"usage" as (update ${U} set "used_seconds" = ? where "user_id" = ? and "period_start" = ?)`);
    params.push(usage.used, s.userId, usage.periodStart);
  }
  if (award) {
    writes.push(`"award" as (${CREDIT_UPSERT})`);
    params.push(openCreditId(s.id), award.record.userId, JSON.stringify(award.record), now, award.dueAt);
  }
  await tx.execute(
    `${writes.length ? `with ${writes.join(', ')} ` : ''}update ${S} set "last_heartbeat_at" = ?, "billed_seconds" = ? where "id" = ?`,
    [...params, s.lastHeartbeatAt, s.billedSeconds, s.id],
    'run',
  );
}

/** What a heartbeat credited in one statement (creditHeartbeat): the session after it, the month's seconds used before it, and the credit. */
export interface HeartbeatCredit {
  session: LiveSession;
  usedBefore: number;
  credited: number;
}

/**
 * A heartbeat of an active, not silent session as one autocommitted statement (one round trip,
 * no BEGIN/COMMIT): locks the session, then the month's usage row (the order every other path
 * takes), computes the credit on the locked rows (`min(floor(now − last_heartbeat_at), 60)`,
 * capped at `quotaSeconds − used`, as quota.ts's creditOf), and writes what saveCredit writes.
 * `for update` returns the latest version of a row another heartbeat updated meanwhile, and the
 * updates re-check that version, so parallel heartbeats of a session never credit a second twice.
 * Null, having written nothing, when the session is absent, another user's, ended or silent, or
 * the month has no usage row yet: the caller then takes the transactional path.
 *
 * This statement alone commits asynchronously (`synchronous_commit` off for its own implicit
 * transaction, through `set_config(…, true)`): it does not wait for its WAL flush, which was most
 * of a heartbeat's time in PostgreSQL. Locks and visibility are unchanged, so parallel heartbeats
 * still never credit a second twice. What a database crash can lose is the last fraction of a
 * second of heartbeats (PostgreSQL flushes within 3 × `wal_writer_delay`); the session's
 * `last_heartbeat_at` is lost with its credit, so the next heartbeat credits those seconds again
 * (within the 60 s cap) and nothing is billed twice. Starts, ends and transcripts stay synchronous.
 */
export async function creditHeartbeat(
  em: EntityManager,
  userId: string,
  id: string,
  now: Date,
  periodStart: Date,
  quotaSeconds: number,
  creditDue: Date,
): Promise<HeartbeatCredit | null> {
  const rows = await em.execute<(SessionRow & { used: number; credited: number })[]>(
    `with "async" as materialized (select set_config('synchronous_commit', 'off', true)),
     "s" as materialized (select * from ${S} where "id" = ? and "user_id" = ? for update),
     "u" as materialized (select "used_seconds" from ${U} where "user_id" = (select "user_id" from "s") and "period_start" = ? for update),
     "c" as materialized (
       select "s".*, "u"."used_seconds" as "used",
         greatest(0, least(floor(extract(epoch from (?::timestamptz - "s"."last_heartbeat_at")))::int, ${MAX_CREDIT_SECONDS}, ?::int - "u"."used_seconds")) as "credited"
       from "s", "u" where "s"."ended_at" is null and ?::timestamptz - "s"."last_heartbeat_at" <= make_interval(secs => ${HEARTBEAT_TIMEOUT_SECONDS})),
     "session" as (update ${S} as "t" set "last_heartbeat_at" = greatest("c"."last_heartbeat_at", ?::timestamptz), "billed_seconds" = "c"."billed_seconds" + "c"."credited"
       from "c" where "t"."id" = "c"."id" returning "t".*),
     "usage" as (update ${U} as "t" set "used_seconds" = "c"."used" + "c"."credited" from "c"
       where "c"."credited" > 0 and "t"."user_id" = "c"."user_id" and "t"."period_start" = ?),
     "award" as (${OUTBOX_COLUMNS} select ?, "c"."user_id", jsonb_build_object('source', 'live_credit', 'sourceId', ?::text, 'userId', "c"."user_id", 'baseXp', 0, 'amount', "c"."credited"), ?, ?
       from "c" where "c"."credited" > 0 ${CREDIT_CONFLICT})
     select "session".*, "c"."used", "c"."credited" from "session", "c", "async"`,
    [id, userId, periodStart, now, quotaSeconds, now, now, periodStart, openCreditId(id), `${id}:${now.toISOString()}`, now, creditDue],
  );
  const row = rows[0];
  return row ? { session: toSession(row), usedBefore: Number(row.used), credited: Number(row.credited) } : null;
}

/** Writes an end (the caller holds the row's lock and checked it was active). */
export async function saveEnd(tx: EntityManager, s: LiveSession): Promise<void> {
  await tx.execute(
    `update ${S} set "last_heartbeat_at" = ?, "billed_seconds" = ?, "ended_at" = ?, "end_reason" = ?, "duration_seconds" = ?, "xp_awarded" = ? where "id" = ?`,
    [s.lastHeartbeatAt, s.billedSeconds, s.endedAt, s.endReason, s.durationSeconds, s.xpAwarded, s.id],
    'run',
  );
}

/**
 * Seconds the user has used in the month starting `periodStart`, its usage row created (0) when
 * absent and locked until the transaction ends: a start makes sure its heartbeats find the row
 * creditHeartbeat needs.
 */
export async function lockUsage(tx: EntityManager, userId: string, periodStart: Date): Promise<number> {
  const rows = await tx.execute<{ used_seconds: number }[]>(
    `insert into ${U} ("user_id", "period_start", "used_seconds") values (?, ?, 0)
     on conflict ("user_id", "period_start") do update set "used_seconds" = ${U}."used_seconds" returning "used_seconds"`,
    [userId, periodStart],
  );
  return Number(rows[0]?.used_seconds ?? 0);
}

/** Seconds the user has used in the month starting `periodStart` (0 when none). */
export async function usedSeconds(em: EntityManager, userId: string, periodStart: Date): Promise<number> {
  const rows = await em.execute<{ used_seconds: number }[]>(`select "used_seconds" from ${U} where "user_id" = ? and "period_start" = ?`, [userId, periodStart]);
  return Number(rows[0]?.used_seconds ?? 0);
}

/** An award for learning's idempotent `award` procedure, keyed by (source, sourceId). */
export interface AwardRecord {
  source: 'live_session' | 'live_credit';
  sourceId: string;
  userId: string;
  baseXp: number;
  session?: { startedAt: string; seconds: number };
  amount?: number;
}

const OUTBOX_INSERT = `insert into "live"."xp_outbox" ("id", "user_id", "payload", "created_at", "next_attempt_at") values (?, ?, ?, ?, ?) on conflict do nothing`;
const outboxParams = (award: AwardRecord, now: Date): unknown[] => [`${award.source}:${award.sourceId}`, award.userId, JSON.stringify(award), now, now];

/**
 * Credits are coalesced: a session's credits add up in one open record,
 * `live_credit_open:<session id>`, whose award keeps the `sourceId` of its first credit
 * (`<session id>:<its time>`) and sums the seconds; it falls due a delivery delay after that first
 * credit. Taking it (the outbox's claim once due, or the session's end) seals it: it is renamed
 * `live_credit:<sourceId>` and never grows again, so a sealed record delivered twice is still one
 * award for learning, and the session's next credit opens a new record. A heartbeat whose upsert
 * waited for a claim renaming the row meets no conflict any more (PostgreSQL checks again after
 * the wait) and opens the next record.
 */
export const OPEN_CREDIT_PREFIX = 'live_credit_open:';
const openCreditId = (sessionId: string): string => `${OPEN_CREDIT_PREFIX}${sessionId}`;
const OUTBOX_COLUMNS = `insert into "live"."xp_outbox" ("id", "user_id", "payload", "created_at", "next_attempt_at")`;
const CREDIT_CONFLICT = `on conflict ("id") do update set "payload" = jsonb_set("live"."xp_outbox"."payload", '{amount}',
    to_jsonb(("live"."xp_outbox"."payload"->>'amount')::int + (excluded."payload"->>'amount')::int))`;
const CREDIT_UPSERT = `${OUTBOX_COLUMNS} values (?, ?, ?, ?, ?) ${CREDIT_CONFLICT}`;
/** SQL: the sealed id of an open credit record (as is for any other record). */
export const SEALED_ID = `case when "id" like '${OPEN_CREDIT_PREFIX}%' then 'live_credit:' || ("payload"->>'sourceId') else "id" end`;

/**
 * Records an award in the outbox, in the transaction that earned it (a record is written once).
 * An end's award also seals the session's open credit record and makes it due at its first
 * credit, before the end's award: the session's seconds reach learning before its XP (which a
 * quest's booster may multiply), as they did when each credit went at once.
 */
export async function enqueueAward(tx: EntityManager, award: AwardRecord, now: Date): Promise<void> {
  const seal = award.source === 'live_session' ? `with "sealed" as (update "live"."xp_outbox" set "id" = ${SEALED_ID}, "next_attempt_at" = "created_at" where "id" = ?) ` : '';
  await tx.execute(`${seal}${OUTBOX_INSERT}`, [...(seal ? [openCreditId(award.sourceId)] : []), ...outboxParams(award, now)], 'run');
}
