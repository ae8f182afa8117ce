/**
 * XP-1..7 (§3.5) through the gateway's REST layer, with the rules of §4.2–§4.7: exact
 * bodies, the chat session award arriving once, streaks and freezes over (clock-set) days,
 * quests and the booster, learning time, and days in the user's zone across DST changes.
 */
import { describe, expect, it } from 'vitest';
import { coded, notFoundBody, TIMESTAMP, wire } from './assertions.ts';
import { apiKey, createKey, createOrg, pollUntil } from './org-fixtures.ts';
import { backdateSession, createConversation } from './chat-fixtures.ts';
import { at, award, completeQuest, expectedQuests, learner, learningClock, type Learner, useLearningStack } from './learning-fixtures.ts';

const t = useLearningStack();

const get = (l: Learner, path: string) => t.rest('GET', path, { headers: l.headers });
const body = async <T = Record<string, unknown>>(l: Learner, path: string): Promise<T> => {
  const res = await get(l, path);
  expect(res.status, res.text).toBe(200);
  return res.body as T;
};
const EMPTY_BREAKDOWN = { xel_task: 0, xel_module: 0, xel_evaluation: 0, chat_session: 0, xel_session: 0, live_session: 0, quest: 0 };
let n = 0;
const sid = (): string => `src-${++n}-${Math.random().toString(36).slice(2)}`;
/** One XP award of `xp` (chat_session) at the clock's now. */
const earn = (l: Learner, xp: number) => award(t, { source: 'chat_session', sourceId: sid(), userId: l.id, baseXp: xp });

describe('XP-1 profile', () => {
  it('a new learner: level 1, nothing earned, no booster', async () => {
    const l = await learner(t);
    expect(wire(await get(l, '/api/xp/profile'))).toEqual({
      status: 200,
      body: {
        user_id: l.id, username: l.username, xp: 0, level: 1, current_level_xp: 0, next_level_xp: 100, xp_to_next_level: 100, level_progress: 0,
        current_streak: 0, longest_streak: 0, active_booster: null, today_xp: 0, today_xp_breakdown: EMPTY_BREAKDOWN, token_balance: 0,
      },
    });
  });

  it('levels and tokens follow 50·L·(L−1): 350 XP is level 3, 20 tokens', async () => {
    const l = await learner(t);
    await earn(l, 350);
    // Plus 10 when the day's quests include earning XP (completed by these 350).
    const p = await body<{ xp: number; today_xp_breakdown: { quest: number } }>(l, '/api/xp/profile');
    const xp = 350 + p.today_xp_breakdown.quest;
    expect(p).toMatchObject({ xp, level: 3, current_level_xp: 300, next_level_xp: 600, xp_to_next_level: 600 - xp, level_progress: Math.round(((xp - 300) / 300) * 10_000) / 10_000, token_balance: 20 });
  });

  it('401 without credentials; 403 for an API key without xel:read', async () => {
    const l = await learner(t);
    expect(wire(await t.rest('GET', '/api/xp/profile'))).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
    const org = await createOrg(t, l);
    const key = await createKey(t, l, org.id, ['conversations:read']);
    expect(wire(await t.rest('GET', '/api/xp/profile', { headers: apiKey(key.key) }))).toEqual({
      status: 403,
      body: coded('INSUFFICIENT_API_KEY_SCOPE', 'API key lacks required scope for this endpoint', { required_scope: 'xel:read', granted_scopes: ['conversations:read'] }),
    });
    const reader = await createKey(t, l, org.id, ['xel:read']);
    expect(await t.rest('GET', '/api/xp/profile', { headers: apiKey(reader.key) })).toMatchObject({ status: 200, body: { user_id: l.id } });
  });
});

describe('a chat session that ends', () => {
  it('is awarded once: 13 full minutes → 13 XP, learning time 13 minutes', async () => {
    const l = await learner(t);
    const conv = await createConversation(t, l);
    const start = await t.rest('POST', `/api/core/conversations/${conv.id}/session/start`, { headers: l.headers });
    const sessionId = (start.body as { session_id: string }).session_id;
    const { startedAt } = await backdateSession(t, sessionId, 13 * 60 + 20);
    expect((await t.rest('POST', `/api/core/conversations/${conv.id}/session/end`, { headers: l.headers })).body).toMatchObject({ xp_awarded: 13 });
    const profile = await pollUntil(() => body<{ xp: number; today_xp_breakdown: { quest: number } }>(l, '/api/xp/profile'), (p) => p.xp > 0, 5000);
    // 13 minutes complete a 10-minute study quest when the day has one (+10 quest XP).
    const quest = profile.today_xp_breakdown.quest;
    expect([0, 10]).toContain(quest);
    expect(profile).toMatchObject({ xp: 13 + quest, today_xp: 13 + quest, today_xp_breakdown: { ...EMPTY_BREAKDOWN, chat_session: 13, quest }, current_streak: 1 });
    // Delivered again (as a producer's retry would): nothing changes.
    expect(await award(t, { source: 'chat_session', sourceId: sessionId, userId: l.id, baseXp: 13, session: { startedAt, seconds: 800 } })).toMatchObject({ recorded: false, xp: 13 });
    const time = await body(l, '/api/xp/learning-time');
    expect(time).toMatchObject({ total_seconds: 800, total_minutes: 13, session_count: 1, average_session_seconds: 800, by_source: { chat: 800, xel: 0, live: 0 } });
    expect(await body(l, '/api/xp/profile')).toMatchObject({ xp: 13 + quest });
  });
});

describe('XP-2 public profile', () => {
  it('shows public-safe fields by username, case-insensitively', async () => {
    const l = await learner(t, 'Europe/Berlin', { full_name: 'Ada Lovelace' });
    await earn(l, 120);
    const { xp } = await body<{ xp: number }>(l, '/api/xp/profile');
    expect(wire(await t.rest('GET', `/api/xp/public-profile/${l.username.toUpperCase()}`))).toEqual({
      status: 200,
      body: { username: l.username, display_name: 'Ada Lovelace', avatar_url: null, level: 2, xp, current_streak: 1, longest_streak: 1, cefr_band: null, member_since: new Date().toISOString().slice(0, 10) },
    });
  });

  it('404 User for an unknown username or a private profile', async () => {
    expect(wire(await t.rest('GET', '/api/xp/public-profile/nobody_here_at_all'))).toEqual({ status: 404, body: notFoundBody('User') });
    const l = await learner(t);
    expect((await t.rest('PATCH', '/api/auth/me', { json: { public_profile_enabled: false }, headers: l.headers })).status).toBe(200);
    expect(wire(await t.rest('GET', `/api/xp/public-profile/${l.username}`))).toEqual({ status: 404, body: notFoundBody('User') });
  });
});

describe('XP-3 streaks (§4.4)', () => {
  it('active Mon and Tue, no freeze, nothing Wed: the streak is 0 on Thu', async () => {
    const l = await learner(t);
    at('2026-03-02T12:00:00.000Z'); // Monday
    await earn(l, 5);
    at('2026-03-03T12:00:00.000Z');
    await earn(l, 5);
    expect(await body(l, '/api/xp/streak-status')).toEqual({ current_streak: 2, longest_streak: 2, freezes_available: 0, freezes_used: 0, last_activity: '2026-03-03', streak_at_risk: false });
    at('2026-03-04T12:00:00.000Z');
    expect(await body(l, '/api/xp/streak-status')).toEqual({ current_streak: 2, longest_streak: 2, freezes_available: 0, freezes_used: 0, last_activity: '2026-03-03', streak_at_risk: true });
    at('2026-03-05T12:00:00.000Z');
    expect(await body(l, '/api/xp/streak-status')).toEqual({ current_streak: 0, longest_streak: 2, freezes_available: 0, freezes_used: 0, last_activity: '2026-03-03', streak_at_risk: false });
  });

  it('7 days earn a freeze; a missed day uses it and stays covered; the chain goes on', async () => {
    const l = await learner(t);
    for (let d = 1; d <= 7; d++) {
      at(`2026-03-0${d}T09:00:00.000Z`);
      await earn(l, 3);
    }
    expect(await body(l, '/api/xp/streak-status')).toMatchObject({ current_streak: 7, freezes_available: 1, freezes_used: 0 });
    at('2026-03-09T09:00:00.000Z'); // nothing on Sunday the 8th
    await earn(l, 3);
    expect(await body(l, '/api/xp/streak-status')).toEqual({ current_streak: 8, longest_streak: 8, freezes_available: 0, freezes_used: 1, last_activity: '2026-03-09', streak_at_risk: false });
    expect(await body(l, '/api/xp/weekly-activity')).toMatchObject({ week_start: '2026-03-08', freeze_covered_dates: ['2026-03-08'] });
  });

  it('a 0-XP award is not activity', async () => {
    const l = await learner(t);
    await earn(l, 0);
    expect(await body(l, '/api/xp/streak-status')).toMatchObject({ current_streak: 0, last_activity: null });
  });
});

describe('XP-4 weekly activity and XP-5 learning pulse', () => {
  it('the Sunday–Saturday week of today in the user zone', async () => {
    const l = await learner(t, 'Asia/Tokyo');
    at('2026-03-03T20:00:00.000Z'); // Wednesday 4 March in Tokyo
    await earn(l, 7);
    expect(wire(await get(l, '/api/xp/weekly-activity'))).toEqual({
      status: 200,
      body: {
        week_start: '2026-03-01',
        week_end: '2026-03-07',
        timezone: 'Asia/Tokyo',
        days: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'].map((weekday, i) => ({ date: `2026-03-0${i + 1}`, weekday, xp: i === 3 ? 7 : 0 })),
        total_xp: 7,
        freeze_covered_dates: [],
      },
    });
  });

  it('exactly 365 days ending today, with XP levels and learning minutes', async () => {
    const l = await learner(t);
    at('2026-06-30T10:00:00.000Z');
    await award(t, { source: 'xel_session', sourceId: sid(), userId: l.id, baseXp: 30, session: { startedAt: '2026-06-30T09:00:00.000Z', seconds: 1850 } });
    // 30 XP, plus 10 if the 30 minutes completed a study quest of the day.
    const { xp } = await body<{ xp: number }>(l, '/api/xp/profile');
    const pulse = await body<{ days: { date: string }[] } & Record<string, unknown>>(l, '/api/xp/learning-pulse');
    expect(pulse).toMatchObject({ start_date: '2025-07-01', end_date: '2026-06-30', timezone: 'UTC', total_xp: xp, active_days: 1 });
    expect(pulse.days).toHaveLength(365);
    expect(pulse.days[0]).toEqual({ date: '2025-07-01', xp: 0, minutes: 0, level: 0 });
    expect(pulse.days[364]).toEqual({ date: '2026-06-30', xp, minutes: 30, level: xp < 50 ? 2 : 3 });
  });
});

const TITLES: Record<string, (n: number) => string> = {
  earn_xp: (n) => `Earn ${n} XP`,
  xel_tasks: (n) => `Submit ${n} English task${n === 1 ? '' : 's'}`,
  study_minutes: (n) => `Study for ${n} minutes`,
  complete_module: () => 'Complete an English module',
  live_minutes: (n) => `Practise ${n} minutes in Live`,
  chat_messages: (n) => `Send ${n} chat messages`,
  evaluation: () => 'Run an AI evaluation',
};

describe('XP-6 daily quests and the booster (§4.5, §4.6)', () => {
  it('three quests chosen by SHA-256; all three done grant a 15-minute 2.0 booster', async () => {
    const l = await learner(t);
    at('2026-05-12T08:00:00.000Z');
    const chosen = expectedQuests(l.id, '2026-05-12');
    expect(wire(await get(l, '/api/xp/daily-quests'))).toEqual({
      status: 200,
      body: {
        date: '2026-05-12',
        timezone: 'UTC',
        quests: chosen.map((q) => ({ id: `2026-05-12:${q.type}`, type: q.type, title: TITLES[q.type]!(q.target), target: q.target, progress: 0, completed: false, reward_xp: 10, completed_at: null })),
        completed_count: 0,
        all_completed: false,
        booster_granted: false,
      },
    });
    for (const q of chosen) await completeQuest(t, l.id, q.type, q.target);
    const quests = await body<{ quests: { progress: number; target: number; completed: boolean; completed_at: string }[] }>(l, '/api/xp/daily-quests');
    expect(quests).toMatchObject({ completed_count: 3, all_completed: true, booster_granted: true });
    for (const q of quests.quests) expect(q).toMatchObject({ progress: q.target, completed: true, completed_at: expect.stringMatching(TIMESTAMP) });
    const profile = await body<{ xp: number; active_booster: { started_at: string; expires_at: string }; today_xp_breakdown: { quest: number } }>(l, '/api/xp/profile');
    expect(profile.today_xp_breakdown.quest).toBe(30);
    expect(profile.active_booster).toEqual({ multiplier: 2, source: 'daily_quests', started_at: expect.stringMatching(TIMESTAMP), expires_at: expect.stringMatching(TIMESTAMP) });
    expect(Date.parse(profile.active_booster.expires_at) - Date.parse(profile.active_booster.started_at)).toBe(15 * 60_000);
    // Under the booster an award doubles; once it expires it does not.
    expect(await earn(l, 7)).toMatchObject({ recorded: true, xp: 14 });
    learningClock.advance(15 * 60_000);
    expect(await earn(l, 7)).toMatchObject({ xp: 7 });
    expect(await body(l, '/api/xp/profile')).toMatchObject({ active_booster: null, xp: profile.xp + 21 });
  });
});

describe('XP-7 learning time', () => {
  it('defaults to the 30 days ending today; counts sessions on the local date of their start', async () => {
    const l = await learner(t, 'America/New_York');
    at('2026-04-10T15:00:00.000Z');
    // Started 23:50 on 9 April in New York, ended after midnight: counts on the 9th.
    await award(t, { source: 'chat_session', sourceId: sid(), userId: l.id, baseXp: 20, session: { startedAt: '2026-04-10T03:50:00.000Z', seconds: 1200 } });
    await award(t, { source: 'live_session', sourceId: sid(), userId: l.id, baseXp: 10, session: { startedAt: '2026-04-10T14:00:00.000Z', seconds: 301 } });
    const time = await body<{ daily: unknown[] } & Record<string, unknown>>(l, '/api/xp/learning-time');
    expect(time).toMatchObject({ start_date: '2026-03-12', end_date: '2026-04-10', timezone: 'America/New_York', total_seconds: 1501, total_minutes: 25, session_count: 2, average_session_seconds: 750, by_source: { chat: 1200, xel: 0, live: 301 } });
    expect(time.daily).toHaveLength(30);
    expect(time.daily.slice(-2)).toEqual([{ date: '2026-04-09', seconds: 1200, session_count: 1 }, { date: '2026-04-10', seconds: 301, session_count: 1 }]);
    expect(await body(l, '/api/xp/learning-time?start_date=2026-04-10')).toMatchObject({ start_date: '2026-04-10', end_date: '2026-04-10', total_seconds: 301 });
    expect(await body(l, '/api/xp/learning-time?end_date=2026-04-09')).toMatchObject({ start_date: '2026-03-11', end_date: '2026-04-09', total_seconds: 1200 });
  });

  it('400 for a reversed or too long range, 422 for a malformed date, 403 without conversations:read', async () => {
    const l = await learner(t);
    expect(wire(await get(l, '/api/xp/learning-time?start_date=2026-02-02&end_date=2026-02-01'))).toEqual({ status: 400, body: coded('invalid_date_range', 'start_date must not be after end_date') });
    expect(wire(await get(l, '/api/xp/learning-time?start_date=2025-01-01&end_date=2026-01-02'))).toEqual({ status: 400, body: coded('date_range_too_large', 'Date range must not exceed 366 days') });
    expect(((await get(l, '/api/xp/learning-time?start_date=2025-01-01&end_date=2026-01-01')).body as { daily: unknown[] }).daily).toHaveLength(366);
    const bad = await get(l, '/api/xp/learning-time?start_date=2026-02-30');
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual({ detail: [{ type: 'date_from_datetime_parsing', loc: ['query', 'start_date'], msg: expect.any(String), input: '2026-02-30', ctx: { error: 'day value is outside expected range' } }] });
    const org = await createOrg(t, l);
    const key = await createKey(t, l, org.id, ['xel:read']);
    expect(wire(await t.rest('GET', '/api/xp/learning-time', { headers: apiKey(key.key) }))).toEqual({
      status: 403,
      body: coded('INSUFFICIENT_API_KEY_SCOPE', 'API key lacks required scope for this endpoint', { required_scope: 'conversations:read', granted_scopes: ['xel:read'] }),
    });
  });
});

describe('days in the user zone (§1.11)', () => {
  /** Awards `xp` at each instant in turn (the test clock stopped there). */
  const earnAt = async (l: Learner, steps: [iso: string, xp: number][]) => {
    for (const [iso, xp] of steps) {
      at(iso);
      await earn(l, xp);
    }
  };

  it('America/Los_Angeles across the March DST change (a 23-hour day)', async () => {
    const l = await learner(t, 'America/Los_Angeles');
    await earnAt(l, [
      ['2026-03-08T07:30:00.000Z', 1], // 23:30 PST on Saturday 7 March
      ['2026-03-08T08:30:00.000Z', 2], // 00:30 PST on Sunday 8 March (the 23-hour day)
      ['2026-03-09T06:30:00.000Z', 4], // 23:30 PDT, still Sunday 8 March
      ['2026-03-09T07:30:00.000Z', 8], // 00:30 PDT on Monday 9 March
    ]);
    const week = await body<{ days: { date: string; xp: number }[] }>(l, '/api/xp/weekly-activity');
    expect(week).toMatchObject({ week_start: '2026-03-08', week_end: '2026-03-14', total_xp: 14 });
    expect(week.days.slice(0, 2)).toEqual([{ date: '2026-03-08', weekday: 'sunday', xp: 6 }, { date: '2026-03-09', weekday: 'monday', xp: 8 }]);
    expect(await body(l, '/api/xp/streak-status')).toMatchObject({ current_streak: 3, last_activity: '2026-03-09' });
  });

  it('Pacific/Auckland across the April DST change (a 25-hour day)', async () => {
    const l = await learner(t, 'Pacific/Auckland');
    await earnAt(l, [
      ['2026-04-04T11:30:00.000Z', 3], // 00:30 NZDT on Sunday 5 April (the 25-hour day)
      ['2026-04-05T11:30:00.000Z', 4], // 23:30 NZST, still Sunday 5 April
      ['2026-04-05T12:30:00.000Z', 5], // 00:30 NZST on Monday 6 April
    ]);
    const week = await body<{ days: { date: string; xp: number }[] }>(l, '/api/xp/weekly-activity');
    expect(week.days.slice(0, 2)).toEqual([{ date: '2026-04-05', weekday: 'sunday', xp: 7 }, { date: '2026-04-06', weekday: 'monday', xp: 5 }]);
    expect(await body(l, '/api/xp/daily-quests')).toMatchObject({ date: '2026-04-06', timezone: 'Pacific/Auckland' });
    expect(await body(l, '/api/xp/streak-status')).toMatchObject({ current_streak: 2, streak_at_risk: false });
  });
});
