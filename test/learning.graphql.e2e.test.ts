/** The learning subgraph through the gateway's GraphQL: XP profile, streak, quests, learning time (XP-1..7). */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './harness.ts';
import { at, award, learner, learningClock } from './learning-fixtures.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => learningClock.reset());

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
    expect(again).toEqual({ recorded: false, xp: 12, questsCompleted: [], boosterStarted: false });
    const res = await t.gql('{ xpProfile { xp todayXp currentStreak } streakStatus { currentStreak lastActivity streakAtRisk } learningTime(startDate: "2026-03-01", endDate: "2026-03-02") { totalSeconds sessionCount bySource { chat } } }', {}, l.headers);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.streakStatus).toEqual({ currentStreak: 1, lastActivity: '2026-03-02', streakAtRisk: false });
    expect(res.body.data?.learningTime).toEqual({ totalSeconds: 780, sessionCount: 1, bySource: { chat: 780 } });
    expect((res.body.data?.xpProfile as { xp: number }).xp).toBeGreaterThanOrEqual(12);
  });
});
