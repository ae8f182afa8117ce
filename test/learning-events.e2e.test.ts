/** The learningEvents subscription through the gateway's graphql-ws: the caller's events in order, with User fields from identity. */
import { describe, expect, it } from 'vitest';
import { until } from './chat-stream-fixtures.ts';
import { at, award, expectedQuests, learner, subscribeLearningEvents, useLearningStack } from './learning-fixtures.ts';
import { loadCatalogue } from '../subgraphs/learning/xel.catalogue.ts';

const t = useLearningStack();

const QUERY = 'subscription { learningEvents { type source xp level questId streak xpi at user { username } } }';

describe('learningEvents', () => {
  it('delivers each award, quest, level up and XPI change as it happens', async () => {
    const l = await learner(t);
    at('2026-10-05T09:00:00.000Z');
    // Probed until live (1 XP each), then a marker award: the test's events start after `seen`.
    const { events, probes, seen, close } = await subscribeLearningEvents(t, l, QUERY, { marker: true });
    try {
      const quests = expectedQuests(l.id, '2026-10-05');
      const before = probes + 1;
      await award(t, { source: 'chat_session', sourceId: `s-${l.id}`, userId: l.id, baseXp: 120 });
      const earn = quests.find((q) => q.type === 'earn_xp');
      const expected = [
        { type: 'XP_AWARDED', source: 'chat_session', xp: 120 },
        ...(earn && before < earn.target ? [{ type: 'QUEST_COMPLETED', source: 'quest', xp: 10, questId: '2026-10-05:earn_xp' }] : []),
        { type: 'LEVEL_UP', level: 2 },
      ];
      const after = () => events.slice(seen);
      await until(() => after().length >= expected.length);
      const mine = after().map((e) => Object.fromEntries(Object.entries(e).filter(([k, v]) => v !== null && k !== 'at' && k !== 'user')));
      expect(mine).toEqual(expected);
      expect(after().every((e) => (e.user as { username: string }).username === l.username && e.at === '2026-10-05T09:00:00.000Z')).toBe(true);

      const task = loadCatalogue().modules[0]!.tasks[1]!;
      const from = events.length;
      expect((await t.rest('POST', `/api/xel/tasks/${task.id}/submit`, { json: { answer: 'is' }, headers: l.headers })).status).toBe(201);
      await until(() => events.length >= from + 2);
      expect(events.slice(from, from + 2).map((e) => [e.type, e.xpi ?? e.xp])).toEqual([['XPI_CHANGED', 100], ['XP_AWARDED', 10]]);
    } finally {
      await close();
    }
  });

  it('streak_changed also when reconciliation ends a streak: found by a read (once) or by the next award', async () => {
    const subscribe = async (l: Awaited<ReturnType<typeof learner>>) => {
      // Probes on 4 October (1 XP each) until the subscription is live, then a marker: that day's
      // activity. A probe sent while an earlier one was on its way is delivered before the marker.
      at('2026-10-04T09:00:00.000Z');
      const { events, seen, close } = await subscribeLearningEvents(t, l, QUERY, { marker: true });
      const streaks = () => events.filter((e) => e.type === 'STREAK_CHANGED').map((e) => e.streak);
      return { events, seen, streaks, close };
    };

    const reader = await learner(t);
    const a = await subscribe(reader);
    try {
      at('2026-10-05T09:00:00.000Z');
      await award(t, { source: 'live_session', sourceId: `day2-${reader.id}`, userId: reader.id, baseXp: 2 });
      await until(() => a.streaks().includes(2));
      const seen = a.streaks().length;
      at('2026-10-07T09:00:00.000Z'); // 6 October missed, no freeze
      expect((await t.rest('GET', '/api/xp/streak-status', { headers: reader.headers })).body).toMatchObject({ current_streak: 0, longest_streak: 2 });
      await until(() => a.streaks().length === seen + 1);
      expect((await t.gql('{ streakStatus { currentStreak } }', {}, reader.headers)).body).toEqual({ data: { streakStatus: { currentStreak: 0 } } });
      await award(t, { source: 'live_session', sourceId: `after-${reader.id}`, userId: reader.id, baseXp: 3 });
      await until(() => a.streaks().length === seen + 2);
      // The second read found nothing new to publish: 0 once, then the new day's 1.
      expect(a.streaks().slice(seen - 1)).toEqual([2, 0, 1]);
    } finally {
      await a.close();
    }

    const earner = await learner(t);
    const b = await subscribe(earner);
    try {
      const from = b.seen;
      at('2026-10-06T09:00:00.000Z'); // 5 October missed, no freeze
      await award(t, { source: 'live_session', sourceId: `late-${earner.id}`, userId: earner.id, baseXp: 4 });
      await until(() => b.events.length >= from + 3);
      expect(b.events.slice(from, from + 3).map((e) => [e.type, e.streak ?? e.xp])).toEqual([['STREAK_CHANGED', 0], ['XP_AWARDED', 4], ['STREAK_CHANGED', 1]]);
      expect(b.events.slice(from, from + 3).every((e) => e.at === '2026-10-06T09:00:00.000Z')).toBe(true);
    } finally {
      await b.close();
    }
  });
});
