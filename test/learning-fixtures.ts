/** Learning test helpers: a learner with a time zone, awards through learning's internal tRPC router, the test clock. */
import { createInternalClient } from '../kernel/trpc.ts';
import type { LearningRouter, AwardRequest } from '../subgraphs/learning/index.ts';
import { learningClock } from '../subgraphs/learning/clock.ts';
import { createHash, randomUUID } from 'node:crypto';
import { afterEach } from 'vitest';
import { bearer, newUser, useTestStack, type FileStack, type TestStack } from './harness.ts';
import { until, wsClient } from './chat-stream-fixtures.ts';
import type { Person } from './org-fixtures.ts';

export { learningClock };

/** The stack of a learning test file (useTestStack), with the test clock set back after each test. */
export function useLearningStack(): FileStack {
  const t = useTestStack();
  afterEach(() => learningClock.reset());
  return t;
}

export interface Learner extends Person {
  headers: Record<string, string>;
}

/** Registers a user in `timezone` (default UTC) and logs in. */
export async function learner(t: TestStack, timezone = 'UTC', extra: Record<string, unknown> = {}): Promise<Learner> {
  const u = newUser('learn');
  const reg = await t.rest('POST', '/api/auth/register', { json: { ...u, timezone, ...extra } });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.text}`);
  const login = await t.rest('POST', '/api/auth/login', { form: { username: u.username, password: u.password } });
  const access = (login.body as { access_token: string }).access_token;
  return { ...u, id: (reg.body as { id: string }).id, access, headers: bearer(access) };
}

/** Records an award as a producing subgraph would (learning's `award` procedure). */
export async function award(t: TestStack, input: AwardRequest) {
  const client = createInternalClient<LearningRouter>({
    target: 'learning',
    baseUrl: t.subgraphUrl('learning'),
    caller: 'test',
    secret: t.config.internalServiceKey,
    timeoutMs: 10_000,
    maxBatch: 10,
  });
  return client.award.mutate(input);
}

/**
 * Awards the learner 1 XP at a time (`live_session`, a fresh source id each) until `delivered()`
 * holds: how a test waits for a learningEvents subscription to be live.
 */
export async function awardUntil(t: TestStack, userId: string, delivered: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let n = 0; !delivered(); n += 1) {
    if (Date.now() > deadline) throw new Error('no event was delivered in time');
    await award(t, { source: 'live_session', sourceId: `until-${userId}-${randomUUID()}-${n}`, userId, baseXp: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A learningEvents subscriber through the gateway's graphql-ws (subscribeLearningEvents). */
export interface LearningEvents {
  /** Every event delivered, in order, the probes' (and the marker's) included. */
  events: Record<string, unknown>[];
  /** How many 1-XP probe awards it took for the subscription to be live. */
  probes: number;
  /** With a marker: how many events precede the test's own (the probes' and the marker's). */
  seen: number;
  close(): Promise<void>;
}

/**
 * Subscribes `l` to learningEvents with `query`, then probes (1-XP `live_session` awards) until
 * the subscription is live. With `marker`, a last 1-XP `xel_session` award marks the end of the
 * probes' events (a channel delivers in order) and `seen` counts the events up to it.
 */
export async function subscribeLearningEvents(t: TestStack, l: Person, query: string, { marker = false } = {}): Promise<LearningEvents> {
  const client = wsClient(t.url, l.access);
  const events: Record<string, unknown>[] = [];
  const stop = client.subscribe({ query }, { next: (r) => void events.push((r.data as { learningEvents: Record<string, unknown> }).learningEvents), error: () => {}, complete: () => {} });
  const close = async () => (stop(), await client.dispose());
  try {
    let probes = 0;
    await until(async () => {
      if (events.length > 0) return true;
      await award(t, { source: 'live_session', sourceId: `probe-${l.id}-${probes++}`, userId: l.id, baseXp: 1 });
      return events.length > 0;
    }, 10_000);
    if (!marker) return { events, probes, seen: events.length, close };
    await award(t, { source: 'xel_session', sourceId: `mark-${l.id}`, userId: l.id, baseXp: 1 });
    await until(() => events.some((e) => e.source === 'xel_session'));
    return { events, probes, seen: events.findIndex((e) => e.source === 'xel_session') + 1, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Stops the learning clock at an ISO instant. */
export function at(iso: string): void {
  learningClock.set(new Date(iso));
}

const TYPES = ['earn_xp', 'xel_tasks', 'study_minutes', 'complete_module', 'live_minutes', 'chat_messages', 'evaluation'] as const;
const TARGETS: Record<string, number[]> = { earn_xp: [30, 50, 100], xel_tasks: [1, 3, 5], study_minutes: [10, 15, 30], complete_module: [1], live_minutes: [5, 10], chat_messages: [5, 10], evaluation: [1] };

/** The quests §4.5 selects for a user and date, computed here independently of the subgraph. */
export function expectedQuests(userId: string, date: string): { type: string; target: number }[] {
  return TYPES.map((type) => ({ type, h: createHash('sha256').update(`${userId}:${date}:${type}`).digest() }))
    .sort((a, b) => a.h.toString('hex').localeCompare(b.h.toString('hex')))
    .slice(0, 3)
    .map(({ type, h }) => ({ type, target: TARGETS[type]![h[0]! % TARGETS[type]!.length]! }));
}

let seq = 0;
/** Awards that complete one quest of `type` with `target` (each with fresh source ids). */
export async function completeQuest(t: TestStack, userId: string, type: string, target: number): Promise<void> {
  const id = () => `q-${++seq}-${Math.random().toString(36).slice(2)}`;
  switch (type) {
    case 'earn_xp':
      await award(t, { source: 'chat_session', sourceId: id(), userId, baseXp: target, session: { startedAt: new Date().toISOString(), seconds: 0 } });
      return;
    case 'xel_tasks':
      for (let i = 0; i < target; i++) await award(t, { source: 'xel_task', sourceId: id(), userId, baseXp: 2 });
      return;
    case 'study_minutes':
      await award(t, { source: 'xel_session', sourceId: id(), userId, baseXp: 0, session: { startedAt: new Date().toISOString(), seconds: target * 60 } });
      return;
    case 'complete_module':
      await award(t, { source: 'xel_module', sourceId: id(), userId, baseXp: 50 });
      return;
    case 'live_minutes':
      await award(t, { source: 'live_credit', sourceId: id(), userId, baseXp: 0, amount: target * 60 });
      return;
    case 'chat_messages':
      for (let i = 0; i < target; i++) await award(t, { source: 'chat_message', sourceId: id(), userId, baseXp: 0, amount: 1 });
      return;
    case 'evaluation':
      await award(t, { source: 'xel_evaluation', sourceId: id(), userId, baseXp: 15 });
      return;
  }
}
