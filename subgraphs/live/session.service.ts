/**
 * Live sessions and the monthly quota (LIVE-1..4, §4.8). Each call runs in one transaction on the
 * session's row, locked: a heartbeat credits `min(floor(now − last_heartbeat_at), 60)` capped at
 * what the month has left, then moves `last_heartbeat_at` to now, so concurrent heartbeats of one
 * session never credit a second twice. A silent session (more than 60 s) is ended at its last
 * heartbeat by whichever comes first: the sweeper, or the user's next call. Events are published
 * after commit; every end also records its `live_session` award in the outbox for learning.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../kernel/errors.ts';
import type { UserContext } from '../../kernel/authz.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import { creditOf, isSilent, liveSessionXp, monthOf, quotaOf, QUOTA_LOW_SECONDS, wholeSeconds, HEARTBEAT_TIMEOUT_SECONDS, type LivePlan } from './quota.ts';
import * as store from './session.store.ts';
import type { LiveEndReason, LiveSession, LiveSessionType } from './session.store.ts';
import { publishLiveEvents, type LiveEvent, type LiveEventType, type LiveQuota } from './live.events.ts';

/** A session with the month's quota after the call. */
export interface SessionWithQuota {
  session: LiveSession;
  quota: LiveQuota;
}

type Events = LiveEvent[];

const notFound = () => new AppError('NOT_FOUND', { message: 'Live session not found' });

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (('code' in err && err.code === '23505') || err.constructor.name === 'UniqueConstraintViolationException');
}

function quotaView(plan: LivePlan, now: Date, used: number, activeSessionId: string | null): LiveQuota {
  const { start, end } = monthOf(now);
  const quotaSeconds = quotaOf(plan);
  return { plan, periodStart: start, periodEnd: end, quotaSeconds, usedSeconds: used, remainingSeconds: Math.max(0, quotaSeconds - used), activeSessionId };
}

function event(type: LiveEventType, s: LiveSession, quota: LiveQuota, at: Date, creditedSeconds: number | null = null): LiveEvent {
  return { type, userId: s.userId, at, creditedSeconds, session: { ...s }, quota: { ...quota } };
}

export class LiveSessionService {
  constructor(
    private readonly pubsub: PubSub,
    /** Called after a transaction that ended a session committed (the outbox's nudge). */
    private readonly onAwardsRecorded: () => void = () => {},
    /** How long credited seconds add up in the outbox before they are due (config.liveCreditDeliveryMs). */
    private readonly creditDeliveryMs = 0,
  ) {}

  /** LIVE-1: the month's quota and the active session (a silent one is ended first). */
  async quota(em: EntityManager, user: UserContext): Promise<LiveQuota> {
    return this.run(em, async (tx, events) => {
      const now = new Date();
      let active = await store.lockActiveSession(tx, user.userId);
      if (active && isSilent(active.lastHeartbeatAt, now)) {
        await this.close(tx, active, active.lastHeartbeatAt, 'timeout', now, events, plan(user));
        active = null;
      }
      return quotaView(plan(user), now, await store.usedSeconds(tx, user.userId, monthOf(now).start), active?.id ?? null);
    });
  }

  /**
   * LIVE-2: starts a session after ending the user's silent one.
   * @throws LIVE_SESSION_ACTIVE with `session_id`; LIVE_QUOTA_EXCEEDED when nothing is left this month.
   */
  async start(em: EntityManager, user: UserContext, sessionType: LiveSessionType): Promise<SessionWithQuota> {
    try {
      return await this.startOnce(em, user, sessionType);
    } catch (err) {
      // Another start of this user won the one-active index: this one now meets its session.
      if (!isUniqueViolation(err)) throw err;
      return this.startOnce(em, user, sessionType);
    }
  }

  private startOnce(em: EntityManager, user: UserContext, sessionType: LiveSessionType): Promise<SessionWithQuota> {
    return this.run(em, async (tx, events) => {
      const now = new Date();
      const active = await store.lockActiveSession(tx, user.userId);
      if (active && !isSilent(active.lastHeartbeatAt, now)) return new AppError('LIVE_SESSION_ACTIVE', { extras: { session_id: active.id } });
      if (active) await this.close(tx, active, active.lastHeartbeatAt, 'timeout', now, events, plan(user));
      const used = await store.lockUsage(tx, user.userId, monthOf(now).start);
      if (quotaView(plan(user), now, used, null).remainingSeconds === 0) return new AppError('LIVE_QUOTA_EXCEEDED');
      const session: LiveSession = {
        id: randomUUID(),
        userId: user.userId,
        sessionType,
        plan: plan(user),
        startedAt: now,
        lastHeartbeatAt: now,
        endedAt: null,
        endReason: null,
        billedSeconds: 0,
        durationSeconds: null,
        xpAwarded: null,
      };
      await store.insertSession(tx, session);
      const quota = quotaView(plan(user), now, used, session.id);
      events.push(event('STARTED', session, quota, now));
      return { session, quota };
    });
  }

  /**
   * LIVE-3: credits the seconds since the last heartbeat.
   * @throws NOT_FOUND "Live session not found"; SESSION_ALREADY_ENDED with `session_id` (also
   * when it has just timed out); LIVE_QUOTA_EXCEEDED when nothing is left after this credit (the
   * credit is kept and the session stays active).
   */
  async heartbeat(em: EntityManager, user: UserContext, sessionId: string): Promise<SessionWithQuota> {
    const now = new Date();
    const userPlan = plan(user);
    // The common case, an active session's credit, is one statement; anything else (absent,
    // ended, silent, the month's first credit) takes the transaction below.
    const done = await store.creditHeartbeat(em, user.userId, sessionId, now, monthOf(now).start, quotaOf(userPlan), new Date(now.getTime() + this.creditDeliveryMs));
    if (done) {
      const { session: s, usedBefore, credited } = done;
      const events: Events = [];
      const quota = this.credited(s, now, usedBefore, credited, events, userPlan);
      await publishLiveEvents(this.pubsub, events);
      if (quota.remainingSeconds === 0) throw new AppError('LIVE_QUOTA_EXCEEDED');
      return { session: s, quota };
    }
    return this.run(em, async (tx, events) => {
      // Taken before the locks: a heartbeat that waited for another credits nothing twice (the
      // other moved `last_heartbeat_at` past this `now`; credits never go back).
      const now = new Date();
      const locked = await store.lockSessionAndUsage(tx, user.userId, sessionId, monthOf(now).start);
      if (!locked) return notFound();
      const s = locked.session;
      if (s.endedAt === null && isSilent(s.lastHeartbeatAt, now)) await this.close(tx, s, s.lastHeartbeatAt, 'timeout', now, events, plan(user));
      if (s.endedAt !== null) return new AppError('SESSION_ALREADY_ENDED', { extras: { session_id: s.id } });
      const quota = await this.credit(tx, s, now, locked.used, events, plan(user));
      if (quota.remainingSeconds === 0) return new AppError('LIVE_QUOTA_EXCEEDED');
      return { session: s, quota };
    });
  }

  /**
   * LIVE-4: ends the session now, crediting its last seconds. Idempotent: an ended session (by
   * the client, or by timeout, also one noticed just now) returns its stored summary.
   * @throws NOT_FOUND "Live session not found"
   */
  async end(em: EntityManager, user: UserContext, sessionId: string): Promise<SessionWithQuota> {
    return this.run(em, async (tx, events) => {
      const now = new Date();
      const locked = await store.lockSessionAndUsage(tx, user.userId, sessionId, monthOf(now).start);
      if (!locked) return notFound();
      const s = locked.session;
      if (s.endedAt === null && isSilent(s.lastHeartbeatAt, now)) await this.close(tx, s, s.lastHeartbeatAt, 'timeout', now, events, plan(user));
      if (s.endedAt !== null) {
        const active = await store.findActiveSession(tx, user.userId);
        return { session: s, quota: quotaView(plan(user), now, locked.used, active?.id ?? null) };
      }
      await this.credit(tx, s, now, locked.used, events, plan(user));
      const quota = await this.close(tx, s, now, 'client', now, events, plan(user));
      return { session: s, quota };
    });
  }

  /**
   * Ends up to `limit` sessions silent for more than 60 s, at their last heartbeat, with reason
   * `timeout` and nothing further credited. Rows another process is ending are skipped, so with
   * several processes on one database each session is ended (and awarded) once. Returns how many.
   */
  async sweep(em: EntityManager, limit = 500): Promise<number> {
    return this.run(em, async (tx, events) => {
      const now = new Date();
      const silent = await store.lockSilentSessions(tx, new Date(now.getTime() - HEARTBEAT_TIMEOUT_SECONDS * 1000), limit);
      for (const s of silent) await this.close(tx, s, s.lastHeartbeatAt, 'timeout', now, events, s.plan);
      return silent.length;
    });
  }

  /**
   * Credits `s` at `now` against the month's `used` seconds (its row locked with the session) and
   * writes it (session, usage and the credit's award in one statement); adds CREDITED and any
   * threshold events.
   */
  private async credit(tx: EntityManager, s: LiveSession, now: Date, used: number, events: Events, userPlan: LivePlan): Promise<LiveQuota> {
    const { start } = monthOf(now);
    const before = quotaView(userPlan, now, used, s.id);
    const credited = creditOf(s.lastHeartbeatAt, now, before.remainingSeconds);
    s.billedSeconds += credited;
    // The seconds count for the `live_minutes` quest (on the day learning records them); they
    // join the session's open credit record (session.store.ts), delivered once it is due or the
    // session ends: one learning award per session and delivery delay, not one per heartbeat.
    const award = credited > 0 ? { record: { source: 'live_credit' as const, sourceId: `${s.id}:${now.toISOString()}`, userId: s.userId, baseXp: 0, amount: credited }, dueAt: new Date(now.getTime() + this.creditDeliveryMs) } : null;
    if (now > s.lastHeartbeatAt) s.lastHeartbeatAt = now;
    await store.saveCredit(tx, s, credited > 0 ? { periodStart: start, used: used + credited } : null, award, now);
    return this.credited(s, now, used, credited, events, userPlan);
  }

  /** The quota after `credited` seconds were added to the month's `used`; adds CREDITED and any threshold events. */
  private credited(s: LiveSession, now: Date, used: number, credited: number, events: Events, userPlan: LivePlan): LiveQuota {
    const before = quotaView(userPlan, now, used, s.id);
    const after = quotaView(userPlan, now, used + credited, s.id);
    events.push(event('CREDITED', s, after, now, credited));
    if (before.remainingSeconds > QUOTA_LOW_SECONDS && after.remainingSeconds <= QUOTA_LOW_SECONDS) events.push(event('QUOTA_LOW', s, after, now));
    if (before.remainingSeconds > 0 && after.remainingSeconds === 0) events.push(event('QUOTA_EXHAUSTED', s, after, now));
    return after;
  }

  /** Ends `s` (locked, active) at `endedAt`; records its award and the ENDED event. */
  private async close(tx: EntityManager, s: LiveSession, endedAt: Date, reason: LiveEndReason, now: Date, events: Events, userPlan: LivePlan): Promise<LiveQuota> {
    s.endedAt = endedAt;
    s.endReason = reason;
    s.durationSeconds = wholeSeconds(s.startedAt, endedAt);
    s.xpAwarded = liveSessionXp(s.billedSeconds);
    await store.saveEnd(tx, s);
    await store.enqueueAward(tx, { source: 'live_session', sourceId: s.id, userId: s.userId, baseXp: s.xpAwarded, session: { startedAt: s.startedAt.toISOString(), seconds: s.billedSeconds } }, now);
    const quota = quotaView(userPlan, now, await store.usedSeconds(tx, s.userId, monthOf(now).start), null);
    events.push(event('ENDED', s, quota, now));
    return quota;
  }

  /**
   * Runs `fn` in one transaction. `fn` returns an AppError to refuse without rolling back (a
   * timeout or a credit found on the way is kept). Events are published after commit.
   */
  private async run<T>(em: EntityManager, fn: (tx: EntityManager, events: Events) => Promise<T | AppError>): Promise<T> {
    const events: Events = [];
    const result = await em.transactional((tx) => fn(tx, events));
    await publishLiveEvents(this.pubsub, events);
    // Credits wait in their open record (due later, coalesced); an end's awards go at once.
    if (events.some((e) => e.type === 'ENDED')) this.onAwardsRecorded();
    if (result instanceof AppError) throw result;
    return result;
  }
}

function plan(user: UserContext): LivePlan {
  return user.plan ?? 'free';
}
