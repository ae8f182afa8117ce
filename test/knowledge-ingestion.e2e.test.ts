/**
 * Ingestion progress through the gateway over graphql-ws (`documentIngestion`, a federated
 * subscription): WAITING while nothing has started, then PARSED, CHUNKED, INDEXING (chunks done
 * rising to the total), INDEXED and READY with the new document's id; FAILED with the error code
 * for an unreadable file. Progress is private to the uploader: another user following the same
 * upload id sees only their own uploads.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestStack } from './harness.ts';
import { person, type Person } from './org-fixtures.ts';
import { until, wsClient } from './chat-stream-fixtures.ts';
import { txt, uploadGraphql, type KnowledgeDocumentGql } from './knowledge-fixtures.ts';
import type { IngestionEvent } from '../subgraphs/knowledge/ingestion.events.ts';

const t = useTestStack();
const clients = t.clients;

/** `documentIngestion` selects every field of the published event. */
type IngestionEventGql = IngestionEvent;

const SUBSCRIPTION = 'subscription($u: ID!) { documentIngestion(uploadId: $u) { uploadId stage chunksDone chunksTotal progress documentId message errorCode } }';

interface Following {
  events: IngestionEventGql[];
  /** Errors delivered as results or thrown by the protocol. */
  errors: unknown[];
  completed: boolean;
}

/** Follows `uploadId` as `p` on a fresh graphql-ws connection through the gateway. */
function follow(p: Person, uploadId: string): Following {
  const client = wsClient(t.url, p.access);
  clients.push(client);
  const f: Following = { events: [], errors: [], completed: false };
  client.subscribe<{ documentIngestion: IngestionEventGql }>(
    { query: SUBSCRIPTION, variables: { u: uploadId } },
    {
      next: (r) => {
        if (r.errors) f.errors.push(r.errors);
        if (r.data) f.events.push(r.data.documentIngestion);
      },
      error: (err) => {
        f.errors.push(err);
        f.completed = true;
      },
      complete: () => {
        f.completed = true;
      },
    },
  );
  return f;
}

/** An event with the defaults of a stage that carries nothing else. */
const event = (uploadId: string, stage: IngestionEventGql['stage'], extra: Partial<IngestionEventGql> = {}): IngestionEventGql => ({
  uploadId,
  stage,
  chunksDone: 0,
  chunksTotal: 0,
  progress: 0,
  documentId: null,
  message: null,
  errorCode: null,
  ...extra,
});

/** A text long enough for several hundred chunks (so INDEXING reports in steps). */
function longText(entries: number): string {
  return Array.from({ length: entries }, (_, i) => `Record ${i + 1} notes that the lighthouse keeper logged ${(i * 13) % 97} ships on day ${i + 1}.`).join(' ');
}

async function uploadWithId(p: Person, uploadId: string, text: string): Promise<KnowledgeDocumentGql> {
  const res = await uploadGraphql(t.url, p.access, { file: txt('log', text), uploadId });
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return (res.body.data?.uploadKnowledgeDocument as { document: KnowledgeDocumentGql }).document;
}

/**
 * Checks one complete run of events for `doc`: WAITING, PARSED, CHUNKED, INDEXING with chunks
 * done strictly rising to the total (progress rising with them), INDEXED, READY.
 */
function expectRun(events: IngestionEventGql[], uploadId: string, doc: KnowledgeDocumentGql, indexingSteps: 'one' | 'several'): void {
  const total = doc.chunkCount;
  const indexing = events.filter((e) => e.stage === 'INDEXING');
  expect(events.map((e) => e.stage)).toEqual(['WAITING', 'PARSED', 'CHUNKED', ...indexing.map(() => 'INDEXING'), 'INDEXED', 'READY']);
  expect(events.slice(0, 3)).toEqual([
    event(uploadId, 'WAITING'),
    event(uploadId, 'PARSED', { progress: 0.1 }),
    event(uploadId, 'CHUNKED', { chunksTotal: total, progress: 0.15 }),
  ]);
  if (indexingSteps === 'one') expect(indexing.length).toBe(1);
  else expect(indexing.length).toBeGreaterThan(1);
  let done = 0;
  let progress = 0.15;
  for (const e of indexing) {
    expect(e).toEqual(event(uploadId, 'INDEXING', { chunksDone: e.chunksDone, chunksTotal: total, progress: e.progress }));
    expect(e.chunksDone).toBeGreaterThan(done);
    expect(e.progress).toBeGreaterThan(progress);
    expect(e.progress).toBeLessThanOrEqual(0.95);
    done = e.chunksDone;
    progress = e.progress;
  }
  expect(done).toBe(total);
  expect(events.slice(-2)).toEqual([
    event(uploadId, 'INDEXED', { chunksDone: total, chunksTotal: total, progress: 0.95 }),
    event(uploadId, 'READY', { chunksDone: total, chunksTotal: total, progress: 1, documentId: doc.id }),
  ]);
}

describe('documentIngestion', () => {
  it('delivers WAITING, then every stage in order, ending in READY with the new document', async () => {
    const alice = await person(t, 'ing_alice');
    const uploadId = randomUUID();
    const f = follow(alice, uploadId);
    await until(() => f.events.length >= 1, 10_000);
    expect(f.events).toEqual([event(uploadId, 'WAITING')]);

    const doc = await uploadWithId(alice, uploadId, longText(2600));
    expect(doc.chunkCount).toBeGreaterThan(200);
    await until(() => f.completed, 10_000);
    expect(f.errors).toEqual([]);
    expectRun(f.events, uploadId, doc, 'several');
  });

  it('reports a small document in one INDEXING step', async () => {
    const alice = await person(t, 'ing_small');
    const uploadId = randomUUID();
    const f = follow(alice, uploadId);
    await until(() => f.events.length >= 1, 10_000);
    const doc = await uploadWithId(alice, uploadId, 'A single short note about harbour tides.');
    await until(() => f.completed, 10_000);
    expect(f.errors).toEqual([]);
    expectRun(f.events, uploadId, doc, 'one');
    expect(f.events[3]).toEqual(event(uploadId, 'INDEXING', { chunksDone: 1, chunksTotal: 1, progress: 0.95 }));
  });

  it('gives READY at once to a subscriber who comes after the upload', async () => {
    const alice = await person(t, 'ing_late');
    const uploadId = randomUUID();
    const doc = await uploadWithId(alice, uploadId, 'Late subscribers still learn the outcome.');
    const f = follow(alice, uploadId);
    await until(() => f.completed, 10_000);
    expect(f.errors).toEqual([]);
    expect(f.events).toEqual([event(uploadId, 'READY', { chunksDone: 1, chunksTotal: 1, progress: 1, documentId: doc.id })]);
  });

  it('ends with FAILED and the error code when the file is unreadable (nothing is stored)', async () => {
    const alice = await person(t, 'ing_fail');
    const uploadId = randomUUID();
    const f = follow(alice, uploadId);
    await until(() => f.events.length >= 1, 10_000);
    const res = await uploadGraphql(t.url, alice.access, { file: { name: 'broken.pdf', type: 'application/pdf', bytes: 'this is not a PDF file at all' }, uploadId });
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['DOCUMENT_UNREADABLE']);
    await until(() => f.completed, 10_000);
    expect(f.errors).toEqual([]);
    expect(f.events).toEqual([
      event(uploadId, 'WAITING'),
      event(uploadId, 'FAILED', { errorCode: 'document_unreadable', message: 'Text could not be extracted from the document' }),
    ]);

    // Nothing was stored: a new subscriber is told to wait, not that it is ready.
    const again = follow(alice, uploadId);
    await until(() => again.events.length >= 1, 10_000);
    expect(again.events).toEqual([event(uploadId, 'WAITING')]);
  });

  it("does not show one user's upload to another user following the same upload id", async () => {
    const [alice, bob] = await Promise.all([person(t, 'ing_owner'), person(t, 'ing_other')]);
    const uploadId = randomUUID();
    const owner = follow(alice, uploadId);
    const other = follow(bob, uploadId);
    await until(() => owner.events.length >= 1 && other.events.length >= 1, 10_000);

    const aliceDoc = await uploadWithId(alice, uploadId, 'Alice keeps her lighthouse notes private.');
    await until(() => owner.completed, 10_000);
    expectRun(owner.events, uploadId, aliceDoc, 'one');
    // Alice's READY has arrived; bob saw nothing of her run. His own upload with the same id then
    // goes through his still-open subscription: everything he sees is his own run only.
    expect(other.events).toEqual([event(uploadId, 'WAITING')]);
    const bobDoc = await uploadWithId(bob, uploadId, 'Bob has lighthouse notes as well, and a longer sentence.');
    await until(() => other.completed, 10_000);
    expect(other.errors).toEqual([]);
    expectRun(other.events, uploadId, bobDoc, 'one');
    expect(other.events.some((e) => e.documentId === aliceDoc.id)).toBe(false);
  });
});
