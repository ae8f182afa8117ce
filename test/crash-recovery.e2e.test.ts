/**
 * Work whose process died (issue 11, item 7), in one process: the rows a killed process leaves
 * behind — a stream still `running`, a document still being written — are arranged with SQL, with
 * a lease already lapsed or about to lapse, and nobody renews them. Readers of the stream (REST SSE
 * and graphql-ws) get an `error` event instead of pings forever; the half-written document goes and
 * its upload id may be used again; whoever follows that upload gets FAILED. Meanwhile work whose
 * process is alive keeps its lease for as long as it runs. The real crash (kill -9 of a chat or
 * knowledge process) is test/crash-recovery.services.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { bearer, useTestStack } from './harness.ts';
import { person, type Person } from './org-fixtures.ts';
import { chatSql } from './chat-fixtures.ts';
import { useFakeAi } from './fake-ai.ts';
import { collect, openSse, parseSse, restCall, until, wsClient } from './chat-stream-fixtures.ts';
import { txt, uploadRest, type RagDocumentBody } from './knowledge-fixtures.ts';
import { coded } from './assertions.ts';

/** Short leases, so that a lapse takes well under a second. */
const LEASE_MS = 600;

const fake = useFakeAi();
const t = useTestStack(() => ({
  env: { STREAM_LEASE_MS: String(LEASE_MS), INGESTION_LEASE_MS: String(LEASE_MS), OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: 'sk-crash', OPENAI_MODELS: 'gpt-crash' },
}));
const clients = t.clients;
let alice: Person;

beforeAll(async () => {
  alice = await person(t, 'crash_alice');
});

function client(p: Person): Client {
  const c = wsClient(t.url, p.access);
  clients.push(c);
  return c;
}

/** The `error` event of a stream whose process died (§1.7's 500 body). */
const INTERRUPTED = coded('internal_error', 'Internal server error');
const RESUME = 'subscription($id: ID!, $after: Int) { chatStreamResume(streamId: $id, afterSeq: $after) { seq type delta error { code message } } }';

/**
 * What a chat process killed mid-generation leaves: a `running` stream with its `start` and the
 * chunks it wrote, whose lease ends `leaseMs` from now (negative: it already lapsed).
 */
async function orphanStream(p: Person, deltas: string[], leaseMs: number): Promise<string> {
  const id = randomUUID();
  await chatSql(
    t,
    `insert into "chat"."streams" ("id", "user_id", "conversation_id", "provider", "model", "status", "created_at", "lease_until")
     values (?, ?, null, 'openai', 'gpt-crash', 'running', now(), now() + ? * interval '1 millisecond')`,
    [id, p.id, leaseMs],
  );
  const events = [{ type: 'start', data: { streamId: id, conversationId: null, provider: 'openai', model: 'gpt-crash' } }, ...deltas.map((delta) => ({ type: 'chunk', data: { delta } }))];
  for (const [seq, e] of events.entries()) {
    await chatSql(t, `insert into "chat"."stream_events" ("stream_id", "seq", "type", "data") values (?, ?, ?, ?::jsonb)`, [id, seq, e.type, JSON.stringify(e.data)]);
  }
  return id;
}

const resume = (id: string, lastEventId: string) => restCall(t.url, 'GET', `/api/core/chat/streams/${id}`, alice.access, undefined, { 'last-event-id': lastEventId }, 10_000);

describe('a stream whose process died', () => {
  it('ends with an `error` event for a reader who comes back after the lease lapsed (SSE), and stays ended', async () => {
    const id = await orphanStream(alice, ['One', ' two', ' three'], -1_000);
    const res = await resume(id, '1');
    expect(res.status).toBe(200);
    expect(parseSse(res.text)).toEqual({
      events: [
        { event: 'chunk', id: '2', data: { delta: ' two' } },
        { event: 'chunk', id: '3', data: { delta: ' three' } },
        { event: 'error', id: '4', data: INTERRUPTED },
      ],
      comments: [],
    });
    // The end is stored: the next reader gets the same `error`, with the same id.
    expect(parseSse((await resume(id, '3')).text).events).toEqual([{ event: 'error', id: '4', data: INTERRUPTED }]);
    // graphql-ws sees the same stream.
    expect(await collect(client(alice), RESUME, { id, after: 2 })).toEqual([
      { data: { chatStreamResume: { seq: 3, type: 'CHUNK', delta: ' three', error: null } } },
      { data: { chatStreamResume: { seq: 4, type: 'ERROR', delta: null, error: { code: 'internal_error', message: 'Internal server error' } } } },
    ]);
  });

  it('ends for readers already waiting on it (graphql-ws and SSE) once its lease lapses', async () => {
    const createdAt = Date.now();
    const id = await orphanStream(alice, ['Alpha', ' beta', ' gamma'], 800);
    const [ws, sse] = await Promise.all([
      collect(client(alice), RESUME, { id, after: 0 }),
      openSse(t.url, 'GET', `/api/core/chat/streams/${id}`, alice.access, { headers: { 'last-event-id': '3' } }).then((r) => r.rest()),
    ]);
    // Nothing ends it before its lease lapses.
    expect(Date.now() - createdAt).toBeGreaterThanOrEqual(700);
    expect(ws).toEqual([
      { data: { chatStreamResume: { seq: 1, type: 'CHUNK', delta: 'Alpha', error: null } } },
      { data: { chatStreamResume: { seq: 2, type: 'CHUNK', delta: ' beta', error: null } } },
      { data: { chatStreamResume: { seq: 3, type: 'CHUNK', delta: ' gamma', error: null } } },
      { data: { chatStreamResume: { seq: 4, type: 'ERROR', delta: null, error: { code: 'internal_error', message: 'Internal server error' } } } },
    ]);
    expect(sse).toEqual([{ event: 'error', id: '4', data: INTERRUPTED }]);
  });

  it('never ends a stream whose process is alive: a generation several leases long completes with `done`', async () => {
    const words = ['Still', ' here', ' after', ' several', ' leases', ' have', ' gone', ' by.'];
    fake.mode = { kind: 'stream', words, delayMs: 250 };
    const startedAt = Date.now();
    const res = await restCall(t.url, 'POST', '/api/core/chat', alice.access, { message: 'Take your time', provider: 'openai', stream: true }, {}, 20_000);
    expect(Date.now() - startedAt).toBeGreaterThan(3 * LEASE_MS);
    const { events } = parseSse(res.text);
    expect(events.map((e) => e.event)).toEqual(['start', ...words.map(() => 'chunk'), 'done']);
    expect((events.at(-1)?.data as { content: string }).content).toBe(words.join(''));
  });
});

// ---------------------------------------------------------------------------------------------
// Knowledge ingestion.

const knowledgeSql = <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => {
  const orm = t.stack.subgraphs.find((s) => s.name === 'knowledge')?.orm;
  if (!orm) throw new Error('knowledge subgraph is not running');
  return orm.em.fork().getConnection().execute<T[]>(sql, params);
};

/**
 * What a knowledge process killed mid-ingestion leaves: an invisible document with some of its
 * chunks and words, whose lease ends `leaseMs` from now (negative: it already lapsed).
 */
async function orphanDocument(p: Person, uploadId: string, leaseMs: number): Promise<string> {
  const id = randomUUID();
  const orm = t.stack.subgraphs.find((s) => s.name === 'knowledge')?.orm;
  if (!orm) throw new Error('knowledge subgraph is not running');
  // One transaction: with a lease that lapses soon, the sweeper could remove the document between
  // separate statements, and the next insert would then break its foreign key.
  await orm.em.fork().transactional(async (em) => {
    await em.execute(
      `insert into "knowledge"."documents" ("id", "owner_id", "title", "filename", "content_type", "size_bytes", "scope", "shared", "chunk_count", "upload_id", "ready", "created_at", "lease_until")
       values (?, ?, 'Half written', 'half.txt', 'text/plain', 4000, 'user', false, 4, ?, false, now(), now() + ? * interval '1 millisecond')`,
      [id, p.id, uploadId, leaseMs],
    );
    for (const i of [0, 1]) {
      await em.execute(`insert into "knowledge"."chunks" ("document_id", "chunk_index", "content", "tsv") values (?, ?, ?, to_tsvector('english', ?))`, [id, i, `Orphaned chunk ${i}`, `Orphaned chunk ${i}`]);
    }
    await em.execute(`insert into "knowledge"."document_terms" ("document_id", "term") values (?, 'orphaned')`, [id]);
  });
  return id;
}

/**
 * Rows of `documentId` left in each knowledge table (nothing public shows an invisible document),
 * counted in one statement: one snapshot, so a sweep running meanwhile shows as all or nothing.
 */
async function rowsOf(documentId: string): Promise<number[]> {
  const [row] = await knowledgeSql<{ documents: number; chunks: number; terms: number }>(
    `select (select count(*) from "knowledge"."documents" where "id" = ?)::int as documents,
            (select count(*) from "knowledge"."chunks" where "document_id" = ?)::int as chunks,
            (select count(*) from "knowledge"."document_terms" where "document_id" = ?)::int as terms`,
    [documentId, documentId, documentId],
  );
  return row ? [row.documents, row.chunks, row.terms] : [];
}

/** Ends `documentId`'s lease now, as if its ingestion had died a second ago. */
async function lapseLease(documentId: string): Promise<void> {
  await knowledgeSql(`update "knowledge"."documents" set "lease_until" = now() - interval '1 second' where "id" = ?`, [documentId]);
}

const INGESTION = 'subscription($u: ID!) { documentIngestion(uploadId: $u) { uploadId stage documentId message errorCode } }';

describe('a document whose ingestion died', () => {
  it('is removed with its chunks and words once its lease lapses, and its upload id may be used again', async () => {
    const uploadId = randomUUID();
    // Written under a live lease, so that no sweep can take it before it is counted; then lapsed.
    const orphan = await orphanDocument(alice, uploadId, 60_000);
    expect(await rowsOf(orphan)).toEqual([1, 2, 1]);
    await lapseLease(orphan);

    const res = await uploadRest(t.url, alice.access, txt('notes', 'Tide tables for the northern harbour.'), { upload_id: uploadId });
    expect(res.status).toBe(201);
    const doc = res.body as RagDocumentBody;
    expect(doc.id).not.toBe(orphan);
    expect(await rowsOf(orphan)).toEqual([0, 0, 0]);
    // The id is now the new document's: a third use is refused as before.
    const again = await uploadRest(t.url, alice.access, txt('notes', 'Another note.'), { upload_id: uploadId });
    expect(again.status).toBe(422);
    const list = await t.rest('GET', '/api/knowledge/documents', { headers: bearer(alice.access) });
    expect((list.body as { items: RagDocumentBody[] }).items.map((d) => d.id)).toEqual([doc.id]);
  });

  it('tells whoever follows that upload that it FAILED, and removes it without anyone asking', async () => {
    const uploadId = randomUUID();
    const orphan = await orphanDocument(alice, uploadId, 1_500);
    const events = await collect(client(alice), INGESTION, { u: uploadId });
    expect(events).toEqual([
      { data: { documentIngestion: { uploadId, stage: 'WAITING', documentId: null, message: null, errorCode: null } } },
      { data: { documentIngestion: { uploadId, stage: 'FAILED', documentId: null, message: 'Internal server error', errorCode: 'internal_error' } } },
    ]);
    await until(async () => (await rowsOf(orphan)).every((n) => n === 0), 5_000);
  });
});
