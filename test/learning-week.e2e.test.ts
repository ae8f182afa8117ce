/**
 * The issue's acceptance test: a new learner's simulated fortnight through the gateway, with the
 * learning clock moved day by day (the real chat session of day one is backdated in chat's own
 * table, so its start is real). Day one: a chat session ends (XP through chat's outbox), chat
 * messages, an XEL session with a whole module submitted and completed, an evaluation and Live
 * minutes complete all three daily quests, which start the booster that doubles the next awards.
 * Days 2–7 keep the streak (a freeze is earned at 7 days, counting the day before day one when
 * the subscriber was probed), day 8 is missed and covered, days 10–11 are missed and the streak
 * ends on day 12's read. XP-1..7 and XEL-8 show exactly what the REST contract
 * says, REST and GraphQL alike, and a learningEvents subscriber saw every event in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './harness.ts';
import { until } from './chat-stream-fixtures.ts';
import { backdateSession, chatSql, createConversation } from './chat-fixtures.ts';
import { award, expectedQuests, learner, learningClock, subscribeLearningEvents, type Learner } from './learning-fixtures.ts';
import { loadCatalogue } from '../subgraphs/learning/xel.catalogue.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  learningClock.reset();
  await t?.close();
});

// Independent statements of §4.3, §4.9 and XP-5's intensity, to compute what the API must show.
const levelOf = (xp: number): number => {
  let l = 1;
  while (50 * (l + 1) * l <= xp) l += 1;
  return l;
};
const round1 = (x: number): number => Math.floor(x * 10 + 0.5 + 1e-9) / 10;
const band = (x: number): string => (x < 20 ? 'A1' : x < 40 ? 'A2' : x < 60 ? 'B1' : x < 75 ? 'B2' : x < 90 ? 'C1' : 'C2');
const intensity = (xp: number): number => (xp <= 0 ? 0 : xp < 20 ? 1 : xp < 50 ? 2 : xp < 100 ? 3 : 4);
const DAY = 86_400_000;
const addDays = (date: string, n: number): string => new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
const localDate = (at: Date, zone: string): string => new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** A zone where it is now between 08:00 and 16:00, so the backdated chat session starts on today's date. */
function daytimeZone(now: Date): string {
  const zones = ['Pacific/Kiritimati', 'Asia/Tokyo', 'Asia/Kolkata', 'Asia/Dubai', 'Europe/Berlin', 'Atlantic/Azores', 'America/Sao_Paulo', 'America/New_York', 'America/Denver', 'America/Los_Angeles', 'Pacific/Honolulu', 'Pacific/Pago_Pago'];
  const hour = (zone: string) => Number(new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', hourCycle: 'h23' }).format(now));
  return zones.find((z) => hour(z) >= 8 && hour(z) < 16) ?? 'UTC';
}

interface Action {
  base: number;
  xp: number;
}

describe("a learner's fortnight", () => {
  it('shows exactly what the contract says, REST and GraphQL alike, and every event in order', async () => {
    const T0 = new Date(Math.floor(Date.now() / 1000) * 1000);
    const zone = daytimeZone(T0);
    const l: Learner = await learner(t, zone);
    const day1 = localDate(T0, zone);
    const get = async <T,>(path: string): Promise<T> => {
      const res = await t.rest('GET', path, { headers: l.headers });
      expect(res.status, `${path}: ${res.text}`).toBe(200);
      return res.body as T;
    };
    const post = async <T,>(path: string, json?: unknown, status = 200): Promise<T> => {
      const res = await t.rest('POST', path, { headers: l.headers, ...(json === undefined ? {} : { json }) });
      expect(res.status, `${path}: ${res.text}`).toBe(status);
      return res.body as T;
    };
    const actions: Action[] = []; // every XP award with its base, in order
    const xpByDate = new Map<string, number>();
    const secondsByDate = new Map<string, { chat: number; xel: number; sessions: number }>();
    const credit = (date: string, base: number, xp: number) => {
      if (xp > 0) actions.push({ base, xp });
      xpByDate.set(date, (xpByDate.get(date) ?? 0) + xp);
    };
    const learned = (date: string, source: 'chat' | 'xel', seconds: number) => {
      const d = secondsByDate.get(date) ?? { chat: 0, xel: 0, sessions: 0 };
      d[source] += seconds;
      d.sessions += 1;
      secondsByDate.set(date, d);
    };
    const observations: [string, number][] = [];

    // The subscriber, live before day one: probed with 1-XP awards on the day before (day 0),
    // then a last award marks the end of the probes' events (a channel delivers in order).
    const day0At = new Date(T0.getTime() - DAY);
    learningClock.set(day0At);
    const query = 'subscription { learningEvents { type source xp level questId streak xpi at } }';
    const { events, probes, seen, close } = await subscribeLearningEvents(t, l, query, { marker: true });
    try {
      const day0 = localDate(day0At, zone);
      xpByDate.set(day0, probes + 1);
      learningClock.set(T0);

      // Day one. Chat: ten messages (quest activity), then a 20-minute session ends: 20 XP through chat's outbox.
      const conversation = await createConversation(t, l, { title: 'Practice' });
      const session = await post<{ session_id: string }>(`/api/core/conversations/${conversation.id}/session/start`, undefined, 201);
      for (let i = 0; i < 10; i++) await post('/api/core/chat', { message: `Practice sentence number ${i + 1}.`, conversation_id: conversation.id });
      await backdateSession(t, session.session_id, 1200);
      const ended = await post<{ duration_seconds: number; xp_awarded: number }>(`/api/core/conversations/${conversation.id}/session/end`);
      expect(ended).toMatchObject({ xp_awarded: Math.floor(ended.duration_seconds / 60) });
      // Chat owes learning eleven deliveries (ten messages, the session): wait for its outbox to drain.
      const owed = async () => (await chatSql<{ n: number }>(t, `select count(*)::int as n from "chat"."learning_outbox" where "payload"->>'userId' = ? and "delivered_at" is null`, [l.id]))[0]?.n;
      await until(async () => (await owed()) === 0, 10_000);
      credit(day1, ended.xp_awarded, ended.xp_awarded);
      learned(day1, 'chat', ended.duration_seconds);

      // XEL: a session started 29 minutes ago, the first module's five tasks passed, completed, an evaluation.
      const module = loadCatalogue().modules[0]!;
      learningClock.set(new Date(T0.getTime() - 29 * 60_000));
      const xel = await post<{ id: string }>('/api/xel/sessions/start', { module_id: module.id }, 201);
      learningClock.set(T0);
      const quests = expectedQuests(l.id, day1);
      for (const task of module.tasks) {
        const answer = task.answer_key.answer ?? task.answer_key.accepted?.[0] ?? task.answer_key.reference!;
        const res = await post<{ score: number; passed: boolean; xp_awarded: number; xpi: number }>(`/api/xel/tasks/${task.id}/submit`, { answer, session_id: xel.id }, 201);
        expect(res.passed).toBe(true);
        credit(day1, 10, res.xp_awarded);
        observations.push([task.skill, res.score]);
      }
      const completed = await post<{ xp_awarded: number; score: number; already_completed: boolean }>(`/api/xel/modules/${module.id}/complete`);
      credit(day1, 50, completed.xp_awarded);
      const text = 'Last weekend I visited my grandparents in the countryside. We cooked dinner together and talked about their childhood. However, the weather was terrible, so we stayed inside. In the end, it was a relaxing weekend.';
      const evaluation = await post<{ overall_score: number; xp_awarded: number; criteria: { name: string; score: number }[] }>('/api/xel/evaluate', { kind: 'writing', text, session_id: xel.id }, 201);
      credit(day1, 15, evaluation.xp_awarded);
      observations.push(['writing', evaluation.overall_score], ['grammar', evaluation.criteria[0]!.score], ['vocabulary', evaluation.criteria[1]!.score]);
      const xelEnd = await post<{ duration_seconds: number; xp_awarded: number; end_reason: string }>(`/api/xel/sessions/${xel.id}/end`);
      expect(xelEnd).toMatchObject({ duration_seconds: 29 * 60, end_reason: 'client' });
      credit(day1, 29, xelEnd.xp_awarded);
      learned(day1, 'xel', 29 * 60);
      // Live minutes as the live subgraph credits them at heartbeats (no XP of their own).
      await award(t, { source: 'live_credit', sourceId: `live-${l.id}`, userId: l.id, baseXp: 0, amount: 600 });

      // All three quests are done (each of their targets was met above): 10 XP each, and the booster.
      const dailyQuests = await get<{ quests: { id: string; type: string; target: number; progress: number; completed: boolean; reward_xp: number; completed_at: string }[]; completed_count: number; all_completed: boolean; booster_granted: boolean }>('/api/xp/daily-quests');
      expect(dailyQuests).toMatchObject({ date: day1, timezone: zone, completed_count: 3, all_completed: true, booster_granted: true });
      expect(dailyQuests.quests.map((q) => [q.id, q.type, q.target, q.progress, q.completed, q.reward_xp])).toEqual(quests.map((q) => [`${day1}:${q.type}`, q.type, q.target, q.target, true, 10]));
      xpByDate.set(day1, (xpByDate.get(day1) ?? 0) + 30);
      const profile1 = await get<{ active_booster: { multiplier: number; source: string; started_at: string; expires_at: string } }>('/api/xp/profile');
      expect(profile1.active_booster).toEqual({ multiplier: 2, source: 'daily_quests', started_at: T0.toISOString(), expires_at: new Date(T0.getTime() + 15 * 60_000).toISOString() });

      // The booster doubles the next award: a repeat submission's 2 XP is 4.
      learningClock.set(new Date(T0.getTime() + 60_000));
      const repeat = await post<{ xp_awarded: number; score: number }>(`/api/xel/tasks/${module.tasks[0]!.id}/submit`, { answer: module.tasks[0]!.answer_key.answer }, 201);
      expect(repeat.xp_awarded).toBe(4);
      credit(day1, 2, 4);
      observations.push([module.tasks[0]!.skill, repeat.score]);

      // Days 2–7: a 5-minute chat session a day (as chat's outbox delivers it). Day 8 missed, day 9 active.
      const dates: string[] = [day1];
      for (const k of [1, 2, 3, 4, 5, 6, 8]) {
        const at = new Date(T0.getTime() + k * DAY);
        learningClock.set(at);
        const date = localDate(at, zone);
        dates.push(date);
        const res = await award(t, { source: 'chat_session', sourceId: `day-${k}-${l.id}`, userId: l.id, baseXp: 5, session: { startedAt: new Date(at.getTime() - 300_000).toISOString(), seconds: 300 } });
        expect(res).toMatchObject({ recorded: true, xp: 5 });
        credit(date, 5, 5);
        learned(date, 'chat', 300);
        if (k === 6) expect(await get('/api/xp/streak-status')).toEqual({ current_streak: 8, longest_streak: 8, freezes_available: 1, freezes_used: 0, last_activity: date, streak_at_risk: false });
      }
      const day8 = addDays(day1, 7);
      const day9 = dates.at(-1)!;
      expect(await get('/api/xp/streak-status')).toEqual({ current_streak: 9, longest_streak: 9, freezes_available: 0, freezes_used: 1, last_activity: day9, streak_at_risk: false });

      // XP-4 on day 9: its Sunday–Saturday week, the covered day 8 if it falls in it.
      const weekday = new Date(`${day9}T00:00:00Z`).getUTCDay();
      const weekStart = addDays(day9, -weekday);
      const weekDays = Array.from({ length: 7 }, (_, i) => addDays(weekStart, i));
      expect(await get('/api/xp/weekly-activity')).toEqual({
        week_start: weekStart,
        week_end: weekDays[6],
        timezone: zone,
        days: weekDays.map((date) => ({ date, weekday: WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()], xp: xpByDate.get(date) ?? 0 })),
        total_xp: weekDays.reduce((a, d) => a + (xpByDate.get(d) ?? 0), 0),
        freeze_covered_dates: day8 >= weekStart ? [day8] : [],
      });

      // Days 10 and 11 missed, no freeze left: day 12's read ends the streak.
      const last = new Date(T0.getTime() + 11 * DAY);
      learningClock.set(last);
      const day12 = localDate(last, zone);
      expect(await get('/api/xp/streak-status')).toEqual({ current_streak: 0, longest_streak: 9, freezes_available: 0, freezes_used: 1, last_activity: day9, streak_at_risk: false });

      // XP-1: totals, level and tokens (§4.3).
      const total = [...xpByDate.values()].reduce((a, b) => a + b, 0);
      const level = levelOf(total);
      expect(await get('/api/xp/profile')).toMatchObject({
        user_id: l.id, xp: total, level, current_level_xp: 50 * level * (level - 1), next_level_xp: 50 * (level + 1) * level,
        current_streak: 0, longest_streak: 9, active_booster: null, today_xp: 0, token_balance: 10 * (level - 1),
      });

      // XP-5: 365 days ending on day 12, XP and learning minutes per local date.
      const pulseStart = addDays(day12, -364);
      const pulseDays = Array.from({ length: 365 }, (_, i) => addDays(pulseStart, i)).map((date) => {
        const xp = xpByDate.get(date) ?? 0;
        const s = secondsByDate.get(date);
        return { date, xp, minutes: Math.floor(((s?.chat ?? 0) + (s?.xel ?? 0)) / 60), level: intensity(xp) };
      });
      expect(await get('/api/xp/learning-pulse')).toEqual({ start_date: pulseStart, end_date: day12, timezone: zone, total_xp: total, active_days: 9, days: pulseDays });

      // XP-7 over the fortnight.
      const range = Array.from({ length: 12 }, (_, i) => addDays(day1, i));
      const chat = range.reduce((a, d) => a + (secondsByDate.get(d)?.chat ?? 0), 0);
      const xelSeconds = range.reduce((a, d) => a + (secondsByDate.get(d)?.xel ?? 0), 0);
      const sessions = range.reduce((a, d) => a + (secondsByDate.get(d)?.sessions ?? 0), 0);
      expect(sessions).toBe(9);
      const learningTime = {
        start_date: day1, end_date: day12, timezone: zone, total_seconds: chat + xelSeconds, total_minutes: Math.floor((chat + xelSeconds) / 60), session_count: sessions,
        average_session_seconds: Math.floor((chat + xelSeconds) / sessions), by_source: { chat, xel: xelSeconds, live: 0 },
        daily: range.map((date) => ({ date, seconds: (secondsByDate.get(date)?.chat ?? 0) + (secondsByDate.get(date)?.xel ?? 0), session_count: secondsByDate.get(date)?.sessions ?? 0 })),
      };
      expect(await get(`/api/xp/learning-time?start_date=${day1}&end_date=${day12}`)).toEqual(learningTime);

      // XEL-8: the sub-scores' exponential averages (§4.9) of every observation, in order.
      const sub: Record<string, number | null> = { listening: null, speaking: null, reading: null, writing: null, grammar: null, vocabulary: null };
      const counts: Record<string, number> = { listening: 0, speaking: 0, reading: 0, writing: 0, grammar: 0, vocabulary: 0 };
      for (const [skill, x] of observations) {
        const s = sub[skill] ?? null;
        sub[skill] = s === null ? round1(x) : round1(0.7 * s + 0.3 * round1(x));
        counts[skill]! += 1;
      }
      const known = Object.values(sub).filter((v): v is number => v !== null);
      const xpi = round1(known.reduce((a, b) => a + b, 0) / known.length);
      expect(await get('/api/xel/xpi')).toEqual({ xpi, cefr_band: band(xpi), sub_scores: sub, sample_counts: counts, updated_at: new Date(T0.getTime() + 60_000).toISOString() });

      // The same through GraphQL.
      const gql = await t.gql(
        `query($s: String, $e: String) {
          xpProfile { xp level tokenBalance currentStreak longestStreak todayXp }
          streakStatus { currentStreak longestStreak freezesAvailable freezesUsed lastActivity streakAtRisk }
          learningPulse { totalXp activeDays days { date xp minutes level } }
          learningTime(startDate: $s, endDate: $e) { totalSeconds sessionCount averageSessionSeconds bySource { chat xel live } }
          xelXpi { xpi cefrBand sampleCounts { writing grammar vocabulary } }
        }`,
        { s: day1, e: day12 },
        l.headers,
      );
      expect(gql.body).toEqual({
        data: {
          xpProfile: { xp: total, level, tokenBalance: 10 * (level - 1), currentStreak: 0, longestStreak: 9, todayXp: 0 },
          streakStatus: { currentStreak: 0, longestStreak: 9, freezesAvailable: 0, freezesUsed: 1, lastActivity: day9, streakAtRisk: false },
          learningPulse: { totalXp: total, activeDays: 9, days: pulseDays },
          learningTime: { totalSeconds: learningTime.total_seconds, sessionCount: sessions, averageSessionSeconds: learningTime.average_session_seconds, bySource: learningTime.by_source },
          xelXpi: { xpi, cefrBand: band(xpi), sampleCounts: { writing: counts.writing, grammar: counts.grammar, vocabulary: counts.vocabulary } },
        },
      });

      // The subscriber saw every event, in order.
      const of = (type: string) => events.slice(seen).filter((e) => e.type === type);
      await until(() => of('STREAK_CHANGED').length === 9, 10_000);
      expect(of('XP_AWARDED').map((e) => e.xp)).toEqual(actions.map((a) => a.xp));
      expect(of('STREAK_CHANGED').map((e) => e.streak)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 0]);
      expect(of('QUEST_COMPLETED').map((e) => e.questId).sort()).toEqual(quests.map((q) => `${day1}:${q.type}`).sort());
      expect(of('BOOSTER_STARTED')).toHaveLength(1);
      // Awards before the booster earned their base; those after it, on day one, double (§4.2).
      const after = events.slice(seen);
      const boostedFrom = after.slice(0, after.findIndex((e) => e.type === 'BOOSTER_STARTED')).filter((e) => e.type === 'XP_AWARDED').length;
      const dayOne = actions.length - 7;
      expect(actions.map((a) => a.xp / a.base)).toEqual(actions.map((_, i) => (i >= boostedFrom && i < dayOne ? 2 : 1)));
      // Levels: one LEVEL_UP each time the running total (awards and quest rewards, in event order) reaches a new level.
      let running = xpByDate.get(day0) ?? 0;
      const levels: number[] = [];
      for (const e of after) {
        if (e.type !== 'XP_AWARDED' && e.type !== 'QUEST_COMPLETED') continue;
        const before = levelOf(running);
        running += e.xp as number;
        if (levelOf(running) > before) levels.push(levelOf(running));
      }
      expect(running).toBe(total);
      expect(of('LEVEL_UP').map((e) => e.level)).toEqual(levels);
      expect(of('XPI_CHANGED')).toHaveLength(module.tasks.length + 2);
      expect(of('XPI_CHANGED').at(-1)?.xpi).toBe(xpi);
    } finally {
      await close();
    }
  }, 120_000);
});
