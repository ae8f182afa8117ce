/**
 * Resumable streams across processes (issue 5, CONV-2 streaming / CONV-2S): identity, orgs,
 * two chat processes and two gateways share the real PostgreSQL and Redis. Gateway A talks only to
 * chat A and gateway B only to chat B. A generation started through A (running on chat A) is
 * resumed through B: chat B serves the stored events and then the live ones, which reach it over
 * Redis PubSub, with no second generation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { SERVICES_REDIS_URL } from './harness.ts';
import { signUp, useTopology } from './topology.ts';
import { useFakeAi } from './fake-ai.ts';
import { createRedisPubSub, type PubSub } from '../kernel/pubsub.ts';
import { messageChannel } from '../subgraphs/chat/message.events.ts';
import { deltas, messagesOf, openSse, restCall, streamIds, until, wsClient } from './chat-stream-fixtures.ts';
import { UNKNOWN_ID, UUID_V4 } from './assertions.ts';

const fake = useFakeAi();
let pubsub: PubSub;
const clients: Client[] = [];

beforeAll(() => {
  pubsub = createRedisPubSub(SERVICES_REDIS_URL);
});
afterAll(async () => {
  await pubsub?.close();
});

const topology = useTopology(() => ({
  name: 'chat-stream',
  subgraphs: ['identity', 'live', 'orgs', 'chat'],
  perGateway: 'chat',
  env: { OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: 'sk-topology', OPENAI_MODELS: 'gpt-topology' },
}));

// Registered after useTopology: runs before the topology closes.
afterAll(async () => {
  for (const c of clients) await c.dispose();
});

const login = (): Promise<{ id: string; token: string; username: string }> => signUp(topology.gatewayA, topology.gatewayB, 'xstream');

async function conversation(token: string): Promise<string> {
  const res = await restCall(topology.gatewayA, 'POST', '/api/core/conversations', token, { title: 'Across processes' });
  expect(res.status).toBe(201);
  return (res.body as { id: string }).id;
}

const WORDS = Array.from({ length: 20 }, (_, i) => `${i === 0 ? '' : ' '}part${i + 1}`);

describe('two chat processes behind two gateways', () => {
  it('resumes through gateway B (chat B) a stream started through gateway A (chat A), without a second generation', async () => {
    const u = await login();
    const conv = await conversation(u.token);
    fake.mode = { kind: 'stream', words: WORDS, delayMs: 50 };
    fake.requests.length = 0;

    const first = await openSse(topology.gatewayA, 'POST', '/api/core/chat', u.token, { json: { message: 'Stream across', provider: 'openai', conversation_id: conv, stream: true } });
    const start = await first.next();
    expect(start).toEqual({ event: 'start', id: '0', data: { stream_id: expect.stringMatching(UUID_V4), conversation_id: conv, provider: 'openai', model: 'gpt-topology' } });
    for (let i = 1; i <= 3; i++) expect(await first.next()).toEqual({ event: 'chunk', id: String(i), data: { delta: WORDS[i - 1] } });
    first.abort();
    const streamId = (start?.data as { stream_id: string }).stream_id;

    const resumedAt = Date.now();
    const resumed = await openSse(topology.gatewayB, 'GET', `/api/core/chat/streams/${streamId}`, u.token, { headers: { 'last-event-id': '3' } });
    const rest = await resumed.rest();
    // Most of the reply was still being generated on chat A: it reached chat B live.
    expect(Date.now() - resumedAt).toBeGreaterThan(300);
    expect(rest.map((e) => e.id)).toEqual(streamIds(WORDS.length).slice(4));
    expect(rest.slice(0, -1)).toEqual(WORDS.slice(3).map((w, i) => ({ event: 'chunk', id: String(i + 4), data: { delta: w } })));
    const content = WORDS.join('');
    expect(deltas([...first.seen, ...rest])).toBe(content);

    const messages = await messagesOf(topology.gatewayB, u.token, conv);
    expect(messages.map((m) => [m.role, m.content, m.provider])).toEqual([
      ['user', 'Stream across', null],
      ['assistant', content, 'openai'],
    ]);
    expect(rest.at(-1)).toEqual({
      event: 'done',
      id: String(WORDS.length + 1),
      data: { content, provider: 'openai', model: 'gpt-topology', usage: expect.any(Object), conversation_id: conv, message_id: messages[1]?.id },
    });
    expect(fake.requests).toHaveLength(1);
    // Another user cannot resume it on either replica.
    const other = await login();
    for (const gw of [topology.gatewayA, topology.gatewayB]) {
      expect(await restCall(gw, 'GET', `/api/core/chat/streams/${streamId}`, other.token).then((r) => ({ status: r.status, body: r.body }))).toEqual({
        status: 404,
        body: { detail: { error: 'not_found', message: 'Stream not found' } },
      });
    }
  });

  it('delivers a generation running on chat A to GraphQL subscribers of gateway B (chatStreamResume, messageAdded)', async () => {
    const u = await login();
    const conv = await conversation(u.token);
    fake.mode = { kind: 'stream', words: WORDS.slice(0, 10), delayMs: 50 };
    fake.requests.length = 0;

    const cA = wsClient(topology.gatewayA, u.token);
    const cB = wsClient(topology.gatewayB, u.token);
    clients.push(cA, cB);
    const watcher = cB.iterate({ query: 'subscription($c: ID!) { messageAdded(conversationId: $c) { id role content user { username } } }', variables: { c: conv } });
    // No acknowledgement for subscriptions: probe the channel over Redis until the watcher receives.
    const firstSeen = watcher.next();
    let received = false;
    void firstSeen.then(() => (received = true));
    await until(async () => {
      if (!received) await pubsub.publish(messageChannel(conv), { id: UNKNOWN_ID, conversationId: conv, userId: u.id, role: 'user', content: 'probe', provider: null, model: null, createdAt: new Date().toISOString() });
      return received;
    });
    expect((await firstSeen).value).toEqual({ data: { messageAdded: { id: UNKNOWN_ID, role: 'USER', content: 'probe', user: { username: u.username } } } });

    const stream = cA.iterate({ query: 'subscription($i: ChatInput!) { chatStream(input: $i) { streamId seq type } }', variables: { i: { message: 'Watch me', provider: 'openai', conversationId: conv } } });
    const startEvent = (await stream.next()).value as { data: { chatStream: { streamId: string; seq: number; type: string } } };
    expect(startEvent.data.chatStream).toMatchObject({ seq: 0, type: 'START' });
    await stream.return?.();

    const out: { seq: number; type: string; delta: string | null; user: { username: string } }[] = [];
    for await (const r of cB.iterate({ query: 'subscription($id: ID!) { chatStreamResume(streamId: $id, afterSeq: 0) { seq type delta user { username } } }', variables: { id: startEvent.data.chatStream.streamId } })) {
      out.push((r as { data: { chatStreamResume: (typeof out)[number] } }).data.chatStreamResume);
    }
    expect(out).toEqual([
      ...WORDS.slice(0, 10).map((w, i) => ({ seq: i + 1, type: 'CHUNK', delta: w, user: { username: u.username } })),
      { seq: 11, type: 'DONE', delta: null, user: { username: u.username } },
    ]);
    // The probe loop may have published more than one probe before the first arrived: skip them.
    const seen: unknown[] = [];
    while (seen.length < 2) {
      const r = (await watcher.next()).value as { data: { messageAdded: { id: string } } };
      if (r.data.messageAdded.id !== UNKNOWN_ID) seen.push(r);
    }
    await watcher.return?.();
    const messages = await messagesOf(topology.gatewayB, u.token, conv);
    expect(seen).toEqual(messages.map((m) => ({ data: { messageAdded: { id: m.id, role: m.role.toUpperCase(), content: m.content, user: { username: u.username } } } })));
    expect(messages.map((m) => m.content)).toEqual(['Watch me', WORDS.slice(0, 10).join('')]);
    expect(fake.requests).toHaveLength(1);
  });
});
