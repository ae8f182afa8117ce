/**
 * The reads of XP-1..7 (§3.5): profile, public profile, streak, weekly activity, learning
 * pulse, daily quests and learning time. Each read computes "today" in the user's zone at the
 * moment of the call; streak reads reconcile first (§4.4). Aggregates are SQL over indexes.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../../kernel/errors.ts';
import type { Clock } from './clock.ts';
import type { IdentityGateway, LearnerSummary } from './identity.client.ts';
import { lockProfile, questProgress, type AwardService } from './award.service.ts';
import type { LearningProfile } from './profile.entity.ts';
import { levelProgress, pulseLevel, selectQuests, tokensOf } from './rules.ts';
import { QUEST_COUNTERS, SQL, type QuestCounters } from './sql.ts';
import { cefrBand, xpiOf, type SubScores } from './xel/scoring.ts';
import { WEEKDAYS, addDays, dateRange, daysBetween, localDate, weekdayIndex } from './time.ts';

const BREAKDOWN_KEYS = ['xel_task', 'xel_module', 'xel_evaluation', 'chat_session', 'xel_session', 'live_session', 'quest'] as const;

/** What the XP reads share: the user, their zone's today and the reconciled profile. */
interface Today {
  user: LearnerSummary;
  now: Date;
  today: string;
  profile: LearningProfile;
}

export class StatsService {
  constructor(
    private readonly identity: IdentityGateway,
    private readonly clock: Clock,
    private readonly awards: AwardService,
  ) {}

  /** The user, today and the reconciled profile; a streak the read finds broken is published (`streak_changed`) after commit. */
  private async today(em: EntityManager, userId: string): Promise<Today> {
    const user = await this.identity.user(userId);
    if (!user) throw notFound('User');
    return this.awards.transaction(em, async (tx) => {
      const now = this.clock.now();
      const today = localDate(now, user.timezone);
      const reset = () => this.awards.note(tx, { type: 'streak_changed', userId, at: now.toISOString(), streak: 0 });
      const profile = await lockProfile(tx, userId, today, reset);
      await tx.flush();
      return { user, now, today, profile };
    });
  }

  private async todayXp(em: EntityManager, userId: string, today: string): Promise<Record<string, number>> {
    const rows = await em.execute<{ source: string; xp: number }[]>(SQL.breakdown, [userId, today]);
    const out: Record<string, number> = Object.fromEntries(BREAKDOWN_KEYS.map((k) => [k, 0]));
    for (const r of rows) if (r.source in out) out[r.source] = r.xp;
    return out;
  }

  /** XP-1. */
  async profile(em: EntityManager, userId: string) {
    const { user, now, today, profile: p } = await this.today(em, userId);
    const breakdown = await this.todayXp(em, userId, today);
    const { boosterStartedAt: startedAt, boosterExpiresAt: expiresAt } = p;
    const active = startedAt && expiresAt && expiresAt.getTime() > now.getTime() ? { startedAt, expiresAt } : null;
    return {
      userId,
      username: user.username,
      xp: p.xp,
      ...levelProgress(p.xp),
      currentStreak: p.currentStreak,
      longestStreak: p.longestStreak,
      activeBooster: active && { multiplier: p.boosterMultiplier ?? 1, source: 'daily_quests', ...active },
      todayXp: Object.values(breakdown).reduce((a, b) => a + b, 0),
      todayXpBreakdown: breakdown,
      tokenBalance: tokensOf(p.xp),
      timezone: user.timezone,
    };
  }

  /** XP-2: public-safe fields only. @throws NOT_FOUND "User not found" (unknown, or profile not public) */
  async publicProfile(em: EntityManager, username: string) {
    const user = await this.identity.byUsername(username);
    if (!user || !user.publicProfileEnabled) throw notFound('User');
    const { profile: p } = await this.today(em, user.id);
    return {
      username: user.username,
      displayName: user.fullName ?? user.username,
      avatarUrl: user.avatarUrl,
      level: levelProgress(p.xp).level,
      xp: p.xp,
      currentStreak: p.currentStreak,
      longestStreak: p.longestStreak,
      cefrBand: cefrBand(xpiOf(await this.subScores(em, user.id))),
      memberSince: user.createdAt.slice(0, 10),
    };
  }

  /** XP-3. */
  async streak(em: EntityManager, userId: string) {
    const { today, profile: p } = await this.today(em, userId);
    const todayXp = Object.values(await this.todayXp(em, userId, today)).reduce((a, b) => a + b, 0);
    return {
      currentStreak: p.currentStreak,
      longestStreak: p.longestStreak,
      freezesAvailable: p.freezesAvailable,
      freezesUsed: p.freezesUsed,
      lastActivity: p.lastActivity,
      streakAtRisk: p.currentStreak > 0 && todayXp === 0,
    };
  }

  /** XP-4: the Sunday–Saturday week of today. */
  async weekly(em: EntityManager, userId: string) {
    const { user, today } = await this.today(em, userId);
    const weekStart = addDays(today, -weekdayIndex(today));
    const weekEnd = addDays(weekStart, 6);
    const xp = await this.xpByDate(em, userId, weekStart, weekEnd);
    const covered = await em.execute<{ date: string }[]>(SQL.freezesBetween, [userId, weekStart, weekEnd]);
    const days = dateRange(weekStart, weekEnd).map((date) => ({ date, weekday: WEEKDAYS[weekdayIndex(date)] ?? 'sunday', xp: xp.get(date) ?? 0 }));
    return {
      weekStart,
      weekEnd,
      timezone: user.timezone,
      days,
      totalXp: days.reduce((a, d) => a + d.xp, 0),
      freezeCoveredDates: covered.map((r) => r.date),
    };
  }

  /** XP-5: the 365 days ending today. */
  async pulse(em: EntityManager, userId: string) {
    const user = await this.requireUser(userId);
    const end = localDate(this.clock.now(), user.timezone);
    const start = addDays(end, -364);
    const xp = await this.xpByDate(em, userId, start, end);
    const rows = await em.execute<{ date: string; seconds: number }[]>(SQL.secondsByDate, [userId, start, end]);
    const seconds = new Map(rows.map((r) => [r.date, r.seconds]));
    const days = dateRange(start, end).map((date) => {
      const x = xp.get(date) ?? 0;
      return { date, xp: x, minutes: Math.floor((seconds.get(date) ?? 0) / 60), level: pulseLevel(x) };
    });
    return { startDate: start, endDate: end, timezone: user.timezone, totalXp: days.reduce((a, d) => a + d.xp, 0), activeDays: days.filter((d) => d.xp > 0).length, days };
  }

  /** XP-6: today's three quests with their progress. */
  async quests(em: EntityManager, userId: string) {
    const user = await this.requireUser(userId);
    const today = localDate(this.clock.now(), user.timezone);
    const [counters] = await em.execute<QuestCounters[]>(QUEST_COUNTERS, [userId, today]);
    const done = new Map((await em.execute<{ type: string; completed_at: Date | string }[]>(SQL.completions, [userId, today])).map((r) => [r.type, new Date(r.completed_at)]));
    const quests = selectQuests(userId, today).map((q) => {
      const completedAt = done.get(q.type) ?? null;
      const progress = completedAt ? q.target : Math.min(q.target, counters ? questProgress(q.type, counters) : 0);
      return { ...q, progress, completed: completedAt !== null, rewardXp: 10, completedAt };
    });
    const completedCount = quests.filter((q) => q.completed).length;
    return { date: today, timezone: user.timezone, quests, completedCount, allCompleted: completedCount === 3, boosterGranted: completedCount === 3 };
  }

  /**
   * XP-7: learning seconds of ended sessions by the local date of their start, in an inclusive
   * range of at most 366 days (defaults: the 30 days ending today).
   * @throws INVALID_DATE_RANGE; DATE_RANGE_TOO_LARGE
   */
  async learningTime(em: EntityManager, userId: string, startDate: string | null, endDate: string | null) {
    const user = await this.requireUser(userId);
    const today = localDate(this.clock.now(), user.timezone);
    const end = endDate ?? today;
    const start = startDate ?? addDays(end, -29);
    if (start > end) throw new AppError('INVALID_DATE_RANGE');
    if (daysBetween(start, end) + 1 > 366) throw new AppError('DATE_RANGE_TOO_LARGE');
    const bySource = { chat: 0, xel: 0, live: 0 };
    const daily = new Map<string, { seconds: number; sessionCount: number }>();
    let sessions = 0;
    for (const r of await this.sessions(em, userId, start, end)) {
      if (r.source in bySource) bySource[r.source as keyof typeof bySource] += r.seconds;
      const d = daily.get(r.date) ?? { seconds: 0, sessionCount: 0 };
      d.seconds += r.seconds;
      d.sessionCount += r.sessions;
      daily.set(r.date, d);
      sessions += r.sessions;
    }
    const total = bySource.chat + bySource.xel + bySource.live;
    return {
      startDate: start,
      endDate: end,
      timezone: user.timezone,
      totalSeconds: total,
      totalMinutes: Math.floor(total / 60),
      sessionCount: sessions,
      averageSessionSeconds: sessions === 0 ? 0 : Math.floor(total / sessions),
      bySource,
      daily: dateRange(start, end).map((date) => ({ date, seconds: daily.get(date)?.seconds ?? 0, sessionCount: daily.get(date)?.sessionCount ?? 0 })),
    };
  }

  /** The user's XEL sub-scores (all null before any observation). */
  private async subScores(em: EntityManager, userId: string): Promise<SubScores> {
    const [row] = await em.execute<{ sub_scores: string }[]>(SQL.subScores, [userId]);
    return row ? (JSON.parse(row.sub_scores) as SubScores) : { listening: null, speaking: null, reading: null, writing: null, grammar: null, vocabulary: null };
  }

  private async requireUser(userId: string): Promise<LearnerSummary> {
    const user = await this.identity.user(userId);
    if (!user) throw notFound('User');
    return user;
  }

  private async xpByDate(em: EntityManager, userId: string, start: string, end: string): Promise<Map<string, number>> {
    const rows = await em.execute<{ date: string; xp: number }[]>(SQL.xpByDate, [userId, start, end]);
    return new Map(rows.map((r) => [r.date, r.xp]));
  }

  private sessions(em: EntityManager, userId: string, start: string, end: string) {
    return em.execute<{ date: string; source: string; seconds: number; sessions: number }[]>(SQL.sessionsByDate, [userId, start, end]);
  }
}
