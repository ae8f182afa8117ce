/**
 * Records awards (§4.2–§4.7) in one transaction per award, with the user's profile row
 * locked: reconciliation (§4.4), the ledger row (booster applied), streak, learning time, quest
 * progress with its rewards (§4.5) and the booster the third quest starts (§4.6). Every award is
 * unique by (source, source id): a producer that delivers twice gets the first result back.
 */
import { randomUUID } from 'node:crypto';
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '../../kernel/errors.ts';
import type { Clock } from './clock.ts';
import type { IdentityGateway } from './identity.client.ts';
import { LearningProfileSchema, type LearningProfile } from './profile.entity.ts';
import { BOOSTER, QUEST_REWARD_XP, boosted, extendStreak, levelOf, reconcile, selectQuests, type QuestType } from './rules.ts';
import { QUEST_COUNTERS, SQL, type QuestCounters } from './sql.ts';
import { localDate } from './time.ts';
import { publishAll, type LearningEvent } from './events.ts';
import type { PubSub } from '../../kernel/pubsub.ts';

/** Sources with an XP award (the keys of `XPSourceBreakdown` but `quest`, which learning records itself). */
export const XP_SOURCES = ['xel_task', 'xel_module', 'xel_evaluation', 'chat_session', 'xel_session', 'live_session'] as const;
/** Activity that counts for quests without XP: a CONV-2 call, live seconds credited at a heartbeat. */
export const ACTIVITY_KINDS = ['chat_message', 'live_credit'] as const;
export type AwardSource = (typeof XP_SOURCES)[number] | (typeof ACTIVITY_KINDS)[number];

const SESSION_SOURCE: Partial<Record<AwardSource, string>> = { chat_session: 'chat', xel_session: 'xel', live_session: 'live' };

export interface AwardInput {
  source: AwardSource;
  /** The producer's id of what earned it (a session id, a submission id …); unique per source. */
  sourceId: string;
  userId: string;
  /** §4.2 base XP before any booster (0 for activity kinds). */
  baseXp: number;
  /** An ended session's start and counted seconds (`duration_seconds`, or `billed_seconds` for live): learning time (§4.7). */
  session?: { startedAt: Date; seconds: number };
  /** Activity amount: 1 per chat message, the seconds credited for `live_credit`. */
  amount?: number;
  /** The user's IANA zone when the producer knows it (otherwise asked of identity). */
  timezone?: string;
}

export interface AwardResult {
  /** False when this (source, source id) had been recorded before: nothing changed. */
  recorded: boolean;
  /** XP of the award's ledger row (after the booster); 0 for activity kinds. */
  xp: number;
  /** Quests this award completed (their 10 XP each are recorded too). */
  questsCompleted: string[];
  boosterStarted: boolean;
  /** What to publish once the transaction commits (learning-events.ts). */
  events: LearningEvent[];
}

const isXpSource = (s: AwardSource): s is (typeof XP_SOURCES)[number] => (XP_SOURCES as readonly string[]).includes(s);

export class AwardService {
  constructor(
    private readonly identity: IdentityGateway,
    private readonly clock: Clock,
    private readonly pubsub: PubSub,
  ) {}

  /** Events recorded in each open transaction, published once it commits. */
  private readonly pending = new WeakMap<EntityManager, LearningEvent[]>();

  /** Runs `fn` in a transaction; the learning events recorded in it are published after it commits. */
  async transaction<T>(em: EntityManager, fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    let events: LearningEvent[] = [];
    const out = await em.transactional((tx) => {
      events = [];
      this.pending.set(tx, events);
      return fn(tx);
    });
    await publishAll(this.pubsub, events);
    return out;
  }

  /** Adds an event to `tx`'s (published after commit; dropped if it rolls back). */
  note(tx: EntityManager, event: LearningEvent): void {
    this.pending.get(tx)?.push(event);
  }

  /** The user's zone: given, or identity's. @throws NOT_FOUND "User not found" */
  async zoneOf(userId: string, given?: string): Promise<string> {
    if (given) return given;
    const user = await this.identity.user(userId);
    if (!user) throw notFound('User');
    return user.timezone;
  }

  /** Records one award exactly once. @throws NOT_FOUND "User not found" */
  async award(em: EntityManager, input: AwardInput): Promise<AwardResult> {
    const zone = await this.zoneOf(input.userId, input.timezone);
    return this.transaction(em, (tx) => this.record(tx, input, zone));
  }

  /** Records one award inside the caller's transaction `tx`, in the user's zone `zone` (asked before the transaction). */
  async record(tx: EntityManager, input: AwardInput, zone: string): Promise<AwardResult> {
    const now = this.clock.now();
    const today = localDate(now, zone);
    const result: AwardResult = { recorded: true, xp: 0, questsCompleted: [], boosterStarted: false, events: [] };
    const event = (e: Omit<LearningEvent, 'userId' | 'at'>): void => void result.events.push({ ...e, userId: input.userId, at: now.toISOString() });
    // A streak that reconciliation ends (a missed day, no freeze) is a change of its own, before the award's.
    const p = await lockProfile(tx, input.userId, today, () => event({ type: 'streak_changed', streak: 0 }));
    const before = { xp: p.xp, streak: p.currentStreak };
    if (isXpSource(input.source)) {
      const active = p.boosterExpiresAt && p.boosterExpiresAt.getTime() > now.getTime() ? p.boosterMultiplier : null;
      const { multiplier, xp } = boosted(input.baseXp, active, input.source);
      const rows = await tx.execute(SQL.insertLedger, [randomUUID(), input.userId, input.source, input.sourceId, input.baseXp, multiplier, xp, today, now]);
      if (rows.length === 0) {
        const [first] = await tx.execute<{ xp: number }[]>(SQL.ledgerBySource, [input.source, input.sourceId]);
        return this.repeat(tx, result, first?.xp ?? 0);
      }
      result.xp = xp;
      credit(p, xp, today);
      if (xp > 0) event({ type: 'xp_awarded', source: input.source, xp });
      const kind = SESSION_SOURCE[input.source];
      if (kind && input.session) {
        const { startedAt, seconds } = input.session;
        await tx.execute(SQL.insertSession, [kind, input.sourceId, input.userId, startedAt, seconds, localDate(startedAt, zone), today]);
      }
    } else {
      const rows = await tx.execute(SQL.insertActivity, [input.source, input.sourceId, input.userId, input.amount ?? 1, today]);
      if (rows.length === 0) return this.repeat(tx, result, 0);
    }
    await this.progressQuests(tx, p, today, now, result);
    for (const id of result.questsCompleted) event({ type: 'quest_completed', questId: id, source: 'quest', xp: QUEST_REWARD_XP });
    if (result.boosterStarted) event({ type: 'booster_started' });
    if (levelOf(p.xp) > levelOf(before.xp)) event({ type: 'level_up', level: levelOf(p.xp) });
    if (p.currentStreak !== before.streak) event({ type: 'streak_changed', streak: p.currentStreak });
    for (const e of result.events) this.note(tx, e);
    await tx.flush();
    return result;
  }

  /** A repeated delivery: nothing recorded, but a reset its reconciliation found is still published. */
  private async repeat(tx: EntityManager, result: AwardResult, xp: number): Promise<AwardResult> {
    for (const e of result.events) this.note(tx, e);
    await tx.flush();
    return { ...result, recorded: false, xp, events: [] };
  }

  /** §4.5: completes the day's quests that reached their target (10 XP each); all three start the booster once per date. */
  private async progressQuests(tx: EntityManager, p: LearningProfile, today: string, now: Date, result: AwardResult): Promise<void> {
    const quests = selectQuests(p.userId, today);
    const done = new Set((await tx.execute<{ type: string }[]>(SQL.completions, [p.userId, today])).map((r) => r.type));
    if (quests.every((q) => done.has(q.type))) return;
    const [counters] = await tx.execute<QuestCounters[]>(QUEST_COUNTERS, [p.userId, today]);
    for (const q of quests) {
      if (done.has(q.type) || !counters || questProgress(q.type, counters) < q.target) continue;
      const inserted = await tx.execute(SQL.insertCompletion, [p.userId, today, q.type, now]);
      if (inserted.length === 0) continue;
      done.add(q.type);
      result.questsCompleted.push(q.id);
      await tx.execute(SQL.insertLedger, [randomUUID(), p.userId, 'quest', `${p.userId}:${q.id}`, QUEST_REWARD_XP, 1, QUEST_REWARD_XP, today, now]);
      credit(p, QUEST_REWARD_XP, today);
    }
    if (quests.every((q) => done.has(q.type)) && p.boosterDate !== today) {
      p.boosterMultiplier = BOOSTER.multiplier;
      p.boosterStartedAt = now;
      p.boosterExpiresAt = new Date(now.getTime() + BOOSTER.durationMs);
      p.boosterDate = today;
      result.boosterStarted = true;
    }
  }
}

/** A quest's raw progress from the day's counters (capped by the caller). */
export function questProgress(type: QuestType, c: QuestCounters): number {
  switch (type) {
    case 'earn_xp': return c.earn_xp;
    case 'xel_tasks': return c.xel_tasks;
    case 'study_minutes': return Math.floor(c.study_seconds / 60);
    case 'complete_module': return c.modules;
    case 'live_minutes': return Math.floor(c.live_seconds / 60);
    case 'chat_messages': return c.chat_messages;
    case 'evaluation': return c.evaluations;
  }
}

/** Adds XP to the profile; the first XP of `today` extends the streak (§4.4). */
function credit(p: LearningProfile, xp: number, today: string): void {
  if (xp <= 0) return;
  p.xp += xp;
  Object.assign(p, extendStreak(p, today));
}

/**
 * The user's profile row, created if needed, locked for the transaction and reconciled up to
 * `today` (§4.4: runs before every streak read and every award); freeze-covered days are stored.
 * `onReset` is called when reconciliation ends a live streak (a missed day with no freeze left).
 */
export async function lockProfile(tx: EntityManager, userId: string, today: string, onReset?: () => void): Promise<LearningProfile> {
  await tx.execute(SQL.ensureProfile, [userId]);
  const p = await tx.findOneOrFail(LearningProfileSchema, { userId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
  const { state, covered } = reconcile(p, today);
  for (const d of covered) await tx.execute(SQL.insertFreeze, [userId, d]);
  if (p.currentStreak > 0 && state.currentStreak === 0) onReset?.();
  Object.assign(p, state);
  return p;
}
