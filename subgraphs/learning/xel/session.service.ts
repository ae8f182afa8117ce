/**
 * XEL sessions (XEL-10..13, §4.7): one active session per user; a new start replaces it. A
 * session idle for 1800 s is closed lazily on the user's next session call, at its last activity
 * (`timeout`). Every end records the `xel_session` XP (1 per full minute, at most 30) and the
 * learning time in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../../../kernel/errors.ts';
import type { Clock } from '../clock.ts';
import type { AwardService } from '../award.service.ts';

export const XEL_IDLE_SECONDS = 1800;
export const MAX_TRANSCRIPT_ENTRIES = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface SessionRow {
  id: string;
  user_id: string;
  module_id: string | null;
  started_at: Date | string;
  last_activity_at: Date | string;
  ended_at: Date | string | null;
  end_reason: string | null;
  duration_seconds: number | null;
  xp_awarded: number | null;
}

const SQL = {
  active: `select * from "learning"."xel_sessions" where "user_id" = ? and "ended_at" is null for update`,
  /** A transaction-scoped lock per user (class 1 of this subgraph's advisory locks: XEL session starts). */
  lockUserStarts: `select pg_advisory_xact_lock(1, hashtext(?))`,
  due: `select "id", "user_id" from "learning"."xel_sessions" where "ended_at" is null and "last_activity_at" < ? order by "last_activity_at" limit 100`,
  claimDue: `select * from "learning"."xel_sessions" where "id" = ? and "ended_at" is null and "last_activity_at" < ? for update skip locked`,
  exists: `select "id" from "learning"."xel_sessions" where "id" = ? and "user_id" = ?`,
  byId: `select * from "learning"."xel_sessions" where "id" = ? and "user_id" = ? for update`,
  end: `update "learning"."xel_sessions" set "ended_at" = ?, "end_reason" = ?, "duration_seconds" = ?, "xp_awarded" = ? where "id" = ?`,
  insert: `insert into "learning"."xel_sessions" ("id", "user_id", "module_id", "started_at", "last_activity_at") values (?, ?, ?, ?, ?) returning *`,
  touch: `update "learning"."xel_sessions" set "last_activity_at" = ? where "id" = ?`,
  moduleExists: `select "id" from "learning"."xel_modules" where "id" = ?`,
  count: `select count(*)::int as n from "learning"."xel_transcripts" where "session_id" = ?`,
  addEntry: `insert into "learning"."xel_transcripts" ("id", "session_id", "sequence", "role", "text", "timestamp", "created_at") values (?, ?, ?, ?, ?, ?, ?) returning *`,
  entries: `select * from "learning"."xel_transcripts" where "session_id" = ? order by "sequence"`,
};

const at = (v: Date | string): Date => new Date(v);
const seconds = (from: Date, to: Date): number => Math.max(0, Math.floor((to.getTime() - from.getTime()) / 1000));

/** `XELSessionResponse` of a row. */
export function sessionView(r: SessionRow) {
  return {
    id: r.id,
    moduleId: r.module_id,
    status: r.ended_at ? 'ended' : 'active',
    startedAt: at(r.started_at),
    lastActivityAt: at(r.last_activity_at),
    endedAt: r.ended_at ? at(r.ended_at) : null,
    durationSeconds: r.duration_seconds,
  };
}

export class XelSessionService {
  constructor(
    private readonly awards: AwardService,
    private readonly clock: Clock,
  ) {}

  /** Ends `s` (timeout at its last activity, otherwise now) and records its award in `tx`. */
  private async close(tx: EntityManager, s: SessionRow, reason: 'client' | 'timeout' | 'replaced', now: Date, zone: string): Promise<SessionRow> {
    const endedAt = reason === 'timeout' ? at(s.last_activity_at) : now;
    const duration = seconds(at(s.started_at), endedAt);
    const base = Math.min(30, Math.floor(duration / 60));
    const awarded = await this.awards.record(tx, { source: 'xel_session', sourceId: s.id, userId: s.user_id, baseXp: base, session: { startedAt: at(s.started_at), seconds: duration } }, zone);
    await tx.execute(SQL.end, [endedAt, reason, duration, awarded.xp, s.id]);
    return { ...s, ended_at: endedAt, end_reason: reason, duration_seconds: duration, xp_awarded: awarded.xp };
  }

  /** The caller's session `id` locked, closed first if it has been idle too long. @throws NOT_FOUND "Session not found" */
  async owned(tx: EntityManager, userId: string, id: string, now: Date, zone: string): Promise<SessionRow> {
    if (!UUID.test(id)) throw notFound('Session');
    const [s] = await tx.execute<SessionRow[]>(SQL.byId, [id, userId]);
    if (!s) throw notFound('Session');
    if (!s.ended_at && now.getTime() - at(s.last_activity_at).getTime() > XEL_IDLE_SECONDS * 1000) return this.close(tx, s, 'timeout', now, zone);
    return s;
  }

  /** Whether `id` is one of the caller's sessions (checked before a request's other rules). */
  async isOwned(em: EntityManager, userId: string, id: string): Promise<boolean> {
    return UUID.test(id) && (await em.execute(SQL.exists, [id, userId])).length > 0;
  }

  /** Records activity on an active session (XEL-5/XEL-7 with its id). @throws NOT_FOUND; SESSION_ALREADY_ENDED */
  async touch(tx: EntityManager, userId: string, id: string, now: Date, zone: string): Promise<void> {
    const s = await this.owned(tx, userId, id, now, zone);
    if (s.ended_at) throw new AppError('SESSION_ALREADY_ENDED', { extras: { session_id: s.id } });
    await tx.execute(SQL.touch, [now, s.id]);
  }

  /**
   * The sweeper's pass (every replica runs it at least every 60 s): closes every session idle for
   * more than 1800 s at its last activity, each in its own transaction under a row lock taken with
   * SKIP LOCKED, so with several processes each session is closed and awarded exactly once.
   * Returns how many it closed.
   */
  async sweep(em: EntityManager): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - XEL_IDLE_SECONDS * 1000);
    const due = await em.execute<{ id: string; user_id: string }[]>(SQL.due, [cutoff]);
    const zones = new Map<string, string>();
    let closed = 0;
    for (const d of due) {
      if (!zones.has(d.user_id)) zones.set(d.user_id, await this.awards.zoneOf(d.user_id).catch(() => 'UTC'));
      const zone = zones.get(d.user_id) ?? 'UTC';
      closed += await this.awards.transaction(em.fork(), async (tx) => {
        const [s] = await tx.execute<SessionRow[]>(SQL.claimDue, [d.id, cutoff]);
        if (!s) return 0;
        await this.close(tx, s, 'timeout', this.clock.now(), zone);
        return 1;
      });
    }
    return closed;
  }

  /** The caller's active session (closing it first when it has been idle too long), or null. */
  async active(em: EntityManager, userId: string) {
    const zone = await this.awards.zoneOf(userId);
    return this.awards.transaction(em, async (tx) => {
      const now = this.clock.now();
      const [s] = await tx.execute<SessionRow[]>(SQL.active, [userId]);
      if (!s) return null;
      if (now.getTime() - at(s.last_activity_at).getTime() > XEL_IDLE_SECONDS * 1000) {
        await this.close(tx, s, 'timeout', now, zone);
        return null;
      }
      return sessionView(s);
    });
  }

  /** XEL-10: starts a session, replacing the active one. @throws NOT_FOUND "Module not found" */
  async start(em: EntityManager, userId: string, moduleId: string | null) {
    if (moduleId && (!UUID.test(moduleId) || (await em.execute(SQL.moduleExists, [moduleId])).length === 0)) throw notFound('Module');
    const zone = await this.awards.zoneOf(userId);
    return this.awards.transaction(em, async (tx) => {
      // Starts of one user wait for each other: without a row to lock when none is active, two
      // would both insert and the second would break the one-active index (a 500).
      await tx.execute(SQL.lockUserStarts, [userId]);
      const now = this.clock.now();
      const [active] = await tx.execute<SessionRow[]>(SQL.active, [userId]);
      if (active) {
        const idle = now.getTime() - at(active.last_activity_at).getTime() > XEL_IDLE_SECONDS * 1000;
        await this.close(tx, active, idle ? 'timeout' : 'replaced', now, zone);
      }
      const [row] = await tx.execute<SessionRow[]>(SQL.insert, [randomUUID(), userId, moduleId, now, now]);
      return sessionView(row!);
    });
  }

  /** XEL-11. @throws NOT_FOUND; SESSION_ALREADY_ENDED (also when it had just timed out) */
  async end(em: EntityManager, userId: string, id: string) {
    const zone = await this.awards.zoneOf(userId);
    const result = await this.awards.transaction(em, async (tx) => {
      const now = this.clock.now();
      const s = await this.owned(tx, userId, id, now, zone);
      if (s.ended_at) return new AppError('SESSION_ALREADY_ENDED', { extras: { session_id: s.id } });
      const ended = await this.close(tx, s, 'client', now, zone);
      return {
        id: ended.id,
        moduleId: ended.module_id,
        startedAt: at(ended.started_at),
        endedAt: at(ended.ended_at!),
        durationSeconds: ended.duration_seconds ?? 0,
        endReason: 'client',
        xpAwarded: ended.xp_awarded ?? 0,
      };
    });
    // Refused without rolling back: a timeout found on the way stays recorded.
    if (result instanceof AppError) throw result;
    return result;
  }

  /** XEL-12. @throws NOT_FOUND; SESSION_ALREADY_ENDED; TRANSCRIPT_LIMIT_REACHED */
  async addEntry(em: EntityManager, userId: string, id: string, entry: { role: string; text: string; timestamp?: Date | null }) {
    const zone = await this.awards.zoneOf(userId);
    const result = await this.awards.transaction(em, async (tx) => {
      const now = this.clock.now();
      const s = await this.owned(tx, userId, id, now, zone);
      if (s.ended_at) return new AppError('SESSION_ALREADY_ENDED', { extras: { session_id: s.id } });
      const [{ n } = { n: 0 }] = await tx.execute<{ n: number }[]>(SQL.count, [s.id]);
      if (n >= MAX_TRANSCRIPT_ENTRIES) return new AppError('TRANSCRIPT_LIMIT_REACHED', { extras: { max_entries: MAX_TRANSCRIPT_ENTRIES } });
      await tx.execute(SQL.touch, [now, s.id]);
      const [row] = await tx.execute<TranscriptRow[]>(SQL.addEntry, [randomUUID(), s.id, n + 1, entry.role, entry.text, entry.timestamp ?? now, now]);
      return entryView(row!);
    });
    if (result instanceof AppError) throw result;
    return result;
  }

  /** XEL-13. @throws NOT_FOUND */
  async entries(em: EntityManager, userId: string, id: string) {
    const zone = await this.awards.zoneOf(userId);
    return this.awards.transaction(em, async (tx) => {
      const s = await this.owned(tx, userId, id, this.clock.now(), zone);
      const rows = await tx.execute<TranscriptRow[]>(SQL.entries, [s.id]);
      return { sessionId: s.id, entries: rows.map(entryView) };
    });
  }
}

interface TranscriptRow {
  id: string;
  session_id: string;
  sequence: number;
  role: string;
  text: string;
  timestamp: Date | string;
  created_at: Date | string;
}

const entryView = (r: TranscriptRow) => ({ id: r.id, sessionId: r.session_id, sequence: r.sequence, role: r.role, text: r.text, timestamp: at(r.timestamp), createdAt: at(r.created_at) });
