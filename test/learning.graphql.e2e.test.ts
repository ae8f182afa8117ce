/** The learning subgraph through the gateway's GraphQL: XP profile, streak, quests, learning time (XP-1..7). */
import { describe, expect, it } from 'vitest';
import { at, award, completeQuest, expectedQuests, learner, useLearningStack } from './learning-fixtures.ts';
import { apiKey, createKey, createOrg } from './org-fixtures.ts';

/** A failed root field of learning, as the gateway sends it. */
const failed = (field: string, message: string, code: string, status: number, extra: Record<string, unknown> = {}) => ({
  errors: [{ message, path: [field], extensions: { code, status, ...extra, serviceName: 'learning' } }],
  data: null,
});

const t = useLearningStack();

describe('xpProfile', () => {
  it('a new learner is level 1 with nothing earned', async () => {
    const l = await learner(t);
    const res = await t.gql('{ xpProfile { userId username xp level currentLevelXp nextLevelXp xpToNextLevel levelProgress currentStreak longestStreak activeBooster { multiplier } todayXp todayXpBreakdown { xelTask chatSession quest } tokenBalance } }', {}, l.headers);
    expect(res.body).toEqual({
      data: {
        xpProfile: {
          userId: l.id, username: l.username, xp: 0, level: 1, currentLevelXp: 0, nextLevelXp: 100, xpToNextLevel: 100, levelProgress: 0,
          currentStreak: 0, longestStreak: 0, activeBooster: null, todayXp: 0, todayXpBreakdown: { xelTask: 0, chatSession: 0, quest: 0 }, tokenBalance: 0,
        },
      },
    });
  });

  it('records an award once however often it is delivered', async () => {
    const l = await learner(t);
    at('2026-03-02T10:00:00.000Z');
    const first = await award(t, { source: 'chat_session', sourceId: 's-1', userId: l.id, baseXp: 12, session: { startedAt: '2026-03-02T09:47:00.000Z', seconds: 780 } });
    expect(first).toMatchObject({ recorded: true, xp: 12 });
    const again = await award(t, { source: 'chat_session', sourceId: 's-1', userId: l.id, baseXp: 12, session: { startedAt: '2026-03-02T09:47:00.000Z', seconds: 780 } });
    expect(again).toEqual({ recorded: false, xp: 12, questsCompleted: [], boosterStarted: false, events: [] });
    const res = await t.gql('{ xpProfile { xp todayXp currentStreak } streakStatus { currentStreak lastActivity streakAtRisk } learningTime(startDate: "2026-03-01", endDate: "2026-03-02") { totalSeconds sessionCount bySource { chat } } }', {}, l.headers);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.streakStatus).toEqual({ currentStreak: 1, lastActivity: '2026-03-02', streakAtRisk: false });
    expect(res.body.data?.learningTime).toEqual({ totalSeconds: 780, sessionCount: 1, bySource: { chat: 780 } });
    expect((res.body.data?.xpProfile as { xp: number }).xp).toBeGreaterThanOrEqual(12);
  });
});

describe('federated User fields', () => {
  it('me { xpProfile streak } for the caller', async () => {
    const l = await learner(t);
    at('2026-07-01T12:00:00.000Z');
    await award(t, { source: 'xel_module', sourceId: `m-${l.id}`, userId: l.id, baseXp: 50 });
    const res = await t.gql('{ me { username xpProfile { xp level todayXpBreakdown { xelModule quest } } streak { currentStreak lastActivity freezesAvailable } } }', {}, l.headers);
    // Plus 10 for each of the day's quests these 50 XP complete (earning XP, completing a module).
    const quest = (res.body.data?.me as { xpProfile: { todayXpBreakdown: { quest: number } } }).xpProfile.todayXpBreakdown.quest;
    expect([0, 10, 20]).toContain(quest);
    expect(res.body).toEqual({
      data: { me: { username: l.username, xpProfile: { xp: 50 + quest, level: 1, todayXpBreakdown: { xelModule: 50, quest } }, streak: { currentStreak: 1, lastActivity: '2026-07-01', freezesAvailable: 0 } } },
    });
  });
});

describe('errors', () => {
  it('publicXpProfile of an unknown user is NOT_FOUND "User not found"; learningTime ranges are checked', async () => {
    expect((await t.gql('{ publicXpProfile(username: "nobody_at_all_here") { username } }')).body).toEqual(failed('publicXpProfile', 'User not found', 'NOT_FOUND', 404));
    const l = await learner(t);
    expect((await t.gql('{ learningTime(startDate: "2026-02-02", endDate: "2026-02-01") { totalSeconds } }', {}, l.headers)).body).toEqual(
      failed('learningTime', 'start_date must not be after end_date', 'INVALID_DATE_RANGE', 400),
    );
    expect((await t.gql('{ learningTime(startDate: "2025-01-01", endDate: "2026-01-02") { totalSeconds } }', {}, l.headers)).body).toEqual(
      failed('learningTime', 'Date range must not exceed 366 days', 'DATE_RANGE_TOO_LARGE', 400),
    );
    const bad = await t.gql('{ learningTime(startDate: "2026-02-30") { totalSeconds } }', {}, l.headers);
    expect(bad.body).toMatchObject({ data: null, errors: [{ path: ['learningTime'], extensions: { code: 'BAD_USER_INPUT', status: 422, fields: [{ type: 'value_error', loc: ['startDate'] }] } }] });
  });

  it('an API key needs xel:read for XP and conversations:read for learning time', async () => {
    const l = await learner(t);
    const org = await createOrg(t, l);
    const key = await createKey(t, l, org.id, ['conversations:read']);
    expect((await t.gql('{ dailyQuests { date } }', {}, apiKey(key.key))).body).toEqual(
      failed('dailyQuests', 'API key lacks required scope for this endpoint', 'INSUFFICIENT_API_KEY_SCOPE', 403, { required_scope: 'xel:read', granted_scopes: ['conversations:read'] }),
    );
    expect((await t.gql('{ learningTime { sessionCount } }', {}, apiKey(key.key))).body).toEqual({ data: { learningTime: { sessionCount: 0 } } });
  });
});

describe('quests and the booster', () => {
  it('dailyQuests selects by SHA-256; completing all three starts the booster shown on xpProfile', async () => {
    const l = await learner(t, 'Pacific/Auckland');
    at('2026-09-14T20:00:00.000Z'); // 15 September in Auckland
    const chosen = expectedQuests(l.id, '2026-09-15');
    const q = '{ dailyQuests { date timezone quests { id type target progress completed } completedCount allCompleted boosterGranted } }';
    expect((await t.gql(q, {}, l.headers)).body).toEqual({
      data: { dailyQuests: { date: '2026-09-15', timezone: 'Pacific/Auckland', quests: chosen.map((c) => ({ id: `2026-09-15:${c.type}`, type: c.type, target: c.target, progress: 0, completed: false })), completedCount: 0, allCompleted: false, boosterGranted: false } },
    });
    for (const c of chosen) await completeQuest(t, l.id, c.type, c.target);
    const done = await t.gql(`${q.slice(0, -1)} xpProfile { activeBooster { multiplier source } todayXpBreakdown { quest } } }`, {}, l.headers);
    expect(done.body.data).toMatchObject({
      dailyQuests: { completedCount: 3, allCompleted: true, boosterGranted: true },
      xpProfile: { activeBooster: { multiplier: 2, source: 'daily_quests' }, todayXpBreakdown: { quest: 30 } },
    });
  });
});
