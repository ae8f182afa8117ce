/**
 * kill -9 in the middle of work (issue 11, item 7), with every part its own process on the real
 * PostgreSQL and Redis: identity, knowledge, two chat processes and two gateways (gateway A
 * talks to chat A, gateway B to chat B). Leases are 1 s here.
 *
 * - A generation running on chat A is killed after its third chunk: readers on chat B get the
 *   `error` event live once the lease lapses (chat B's sweep, over Redis), and after chat A is
 *   started again its readers get the same end, over SSE and graphql-ws, instead of pings forever.
 * - A knowledge process is killed while it writes a document's chunks: once it is back, the
 *   half-written document is gone with its chunks, and its upload id may be used again.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { signUp, useTopology } from './topology.ts';
import { useFakeAi } from './fake-ai.ts';
import { collect, openSse, parseSse, restCall, until, wsClient } from './chat-stream-fixtures.ts';
import { txt, uploadRest, type RagDocumentBody } from './knowledge-fixtures.ts';

const fake = useFakeAi();
const clients: Client[] = [];

const topology = useTopology(() => ({
  name: 'crash',
  subgraphs: ['identity', 'live', 'chat', 'knowledge'],
  perGateway: 'chat',
  env: { LOG_LEVEL: 'error', STREAM_LEASE_MS: '1000', INGESTION_LEASE_MS: '1000', OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: 'sk-crash', OPENAI_MODELS: 'gpt-crash' },
}));
const { kill9, restart } = topology;

// Registered after useTopology: runs before the topology closes.
afterAll(async () => {
  for (const c of clients) await c.dispose();
});

async function login(): Promise<string> {
  return (await signUp(topology.gatewayA, topology.gatewayA, 'crash')).token;
}

function client(gateway: string, token: string): Client {
  const c = wsClient(gateway, token);
  clients.push(c);
  return c;
}

const WORDS = Array.from({ length: 30 }, (_, i) => `${i === 0 ? '' : ' '}word${i + 1}`);
const INTERRUPTED = { detail: { error: 'internal_error', message: 'Internal server error' } };
const RESUME = 'subscription($id: ID!, $after: Int) { chatStreamResume(streamId: $id, afterSeq: $after) { seq type delta error { code message } } }';

/** After chunk 3: the chunks written before the crash (if any), then `error` right after them. */
function expectEndedAfterThree(sse: { event: string; id: string; data: unknown }[]): void {
  const chunks = sse.slice(0, -1);
  expect(chunks).toEqual(chunks.map((_, i) => ({ event: 'chunk', id: String(i + 4), data: { delta: WORDS[i + 3] } })));
  expect(sse.at(-1)).toEqual({ event: 'error', id: String(chunks.length + 4), data: INTERRUPTED });
}

/** The same events as graphql-ws results. */
const asGraphql = (sse: { event: string; id: string; data: unknown }[]) =>
  sse.map((e) => ({
    data: {
      chatStreamResume:
        e.event === 'chunk'
          ? { seq: Number(e.id), type: 'CHUNK', delta: (e.data as { delta: string }).delta, error: null }
          : { seq: Number(e.id), type: 'ERROR', delta: null, error: { code: 'internal_error', message: 'Internal server error' } },
    },
  }));

describe('kill -9 mid-work', () => {
  it('ends a stream whose chat process died after the third chunk with `error`: live on the other replica, and once it is back (SSE and graphql-ws)', async () => {
    const token = await login();
    fake.mode = { kind: 'stream', words: WORDS, delayMs: 300 };
    const first = await openSse(topology.gatewayA, 'POST', '/api/core/chat', token, { json: { message: 'Crash while you talk', provider: 'openai', stream: true } });
    const start = await first.next();
    const streamId = (start?.data as { stream_id: string }).stream_id;
    for (let i = 1; i <= 3; i++) expect(await first.next()).toEqual({ event: 'chunk', id: String(i), data: { delta: WORDS[i - 1] } });

    // Readers on chat B, then the crash of chat A, which runs the generation.
    const onB = openSse(topology.gatewayB, 'GET', `/api/core/chat/streams/${streamId}`, token, { headers: { 'last-event-id': '3' } }).then((r) => r.rest());
    const onBws = collect(client(topology.gatewayB, token), RESUME, { id: streamId, after: 3 });
    await kill9('chatA');
    first.abort();
    const seenOnB = await onB;
    expectEndedAfterThree(seenOnB);
    expect(await onBws).toEqual(asGraphql(seenOnB));

    // Chat A is back: its readers get the same stream, ended the same way.
    await restart('chatA');
    const resumed = await restCall(topology.gatewayA, 'GET', `/api/core/chat/streams/${streamId}`, token, undefined, { 'last-event-id': '3' });
    expect(resumed.status).toBe(200);
    expect(parseSse(resumed.text)).toEqual({ events: seenOnB, comments: [] });
    expect(await collect(client(topology.gatewayA, token), RESUME, { id: streamId, after: 3 })).toEqual(asGraphql(seenOnB));
    // The generation was not started again.
    expect(fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(1);
  });

  it('removes the half-written document of a knowledge process killed mid-ingestion once it is back; its upload id may be used again', async () => {
    const token = await login();
    const uploadId = randomUUID();
    const progress = client(topology.gatewayA, token).iterate<{ documentIngestion: { stage: string } }>({
      query: 'subscription($u: ID!) { documentIngestion(uploadId: $u) { stage } }',
      variables: { u: uploadId },
    });
    expect((await progress.next()).value).toEqual({ data: { documentIngestion: { stage: 'WAITING' } } });
    // About 3,000 chunks, written 100 at a time: the crash comes after the first hundred.
    const text = Array.from({ length: 30_000 }, (_, i) => `Record ${i + 1} notes that the lighthouse keeper logged ${(i * 13) % 97} ships on day ${i + 1}.`).join(' ');
    const uploading = uploadRest(topology.gatewayA, token, txt('log', text), { upload_id: uploadId });
    for (let stage = ''; stage !== 'INDEXING'; ) stage = ((await progress.next()).value as { data: { documentIngestion: { stage: string } } }).data.documentIngestion.stage;
    await kill9('knowledge');
    // The upload's caller learns that it failed (its subgraph went away mid-call).
    const failed = await uploading;
    expect([failed.status, (failed.body as { detail: { error: string } }).detail.error]).toEqual([503, 'service_unavailable']);

    // What the crash left: the invisible document with part of its chunks.
    const left = await topology.query<{ id: string; ready: boolean; chunks: number; total: number }>(
      `select d."id", d."ready", d."chunk_count" as total, (select count(*)::int from "knowledge"."chunks" c where c."document_id" = d."id") as chunks
       from "knowledge"."documents" d where d."upload_id" = $1`,
      [uploadId],
    );
    expect(left.rows).toHaveLength(1);
    const orphan = left.rows[0] ?? { id: '', ready: true, chunks: 0, total: 0 };
    expect(orphan.ready).toBe(false);
    expect(orphan.chunks).toBeGreaterThan(0);
    expect(orphan.chunks).toBeLessThan(orphan.total);

    await restart('knowledge');
    const remaining = async () => (await topology.query<{ n: number }>(`select (select count(*)::int from "knowledge"."documents" where "id" = $1) + (select count(*)::int from "knowledge"."chunks" where "document_id" = $1) as n`, [orphan.id])).rows[0]?.n;
    await until(async () => (await remaining()) === 0, 10_000);

    const again = await uploadRest(topology.gatewayA, token, txt('log', 'The keeper logged no ships today.'), { upload_id: uploadId });
    expect(again.status).toBe(201);
    expect((again.body as RagDocumentBody).chunk_count).toBe(1);
  });
});
