/** The learningEvents subscription through the gateway's graphql-ws: the caller's events in order, with User fields from identity. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './harness.ts';
import { wsClient, until } from './chat-stream-fixtures.ts';
import { at, award, expectedQuests, learner, learningClock } from './learning-fixtures.ts';
import { loadCatalogue } from '../subgraphs/learning/xel.catalogue.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => learningClock.reset());

const QUERY = 'subscription { learningEvents { type source xp level questId streak xpi at user { username } } }';

describe('learningEvents', () => {
  it('delivers each award, quest, level up and XPI change as it happens', async () => {
    const l = await learner(t);
    at('2026-10-05T09:00:00.000Z');
    const client = wsClient(t.url, l.access);
    const events: Record<string, unknown>[] = [];
    const stop = client.subscribe({ query: QUERY }, { next: (r) => void events.push((r.data as { learningEvents: Record<string, unknown> }).learningEvents), error: () => {}, complete: () => {} });
    try {
      // Probe until the subscription is live (1 XP each), then start from a clean list.
      let probes = 0;
      await until(async () => {
        if (events.length > 0) return true;
        await award(t, { source: 'live_session', sourceId: `probe-${l.id}-${probes++}`, userId: l.id, baseXp: 1 });
        return events.length > 0;
      }, 10_000);
      const seen = events.length;
      const quests = expectedQuests(l.id, '2026-10-05');
      const before = probes;
      await award(t, { source: 'chat_session', sourceId: `s-${l.id}`, userId: l.id, baseXp: 120 });
      const earn = quests.find((q) => q.type === 'earn_xp');
      const expected = [
        { type: 'XP_AWARDED', source: 'chat_session', xp: 120 },
        ...(earn && before < earn.target ? [{ type: 'QUEST_COMPLETED', source: 'quest', xp: 10, questId: '2026-10-05:earn_xp' }] : []),
        { type: 'LEVEL_UP', level: 2 },
      ];
      await until(() => events.length >= seen + expected.length);
      const mine = events.slice(seen).map((e) => Object.fromEntries(Object.entries(e).filter(([k, v]) => v !== null && k !== 'at' && k !== 'user')));
      expect(mine).toEqual(expected);
      expect(events.slice(seen).every((e) => (e.user as { username: string }).username === l.username && e.at === '2026-10-05T09:00:00.000Z')).toBe(true);

      const task = loadCatalogue().modules[0]!.tasks[1]!;
      const from = events.length;
      expect((await t.rest('POST', `/api/xel/tasks/${task.id}/submit`, { json: { answer: 'is' }, headers: l.headers })).status).toBe(201);
      await until(() => events.length >= from + 2);
      expect(events.slice(from, from + 2).map((e) => [e.type, e.xpi ?? e.xp])).toEqual([['XPI_CHANGED', 100], ['XP_AWARDED', 10]]);
    } finally {
      stop();
      await client.dispose();
    }
  });
});
