/**
 * A large document is ingested without holding up other requests: while its chunks are being
 * indexed (INDEXING events arriving, READY not yet sent), the same user's and another user's
 * requests that read the database are answered, and the half-written document is invisible to
 * them. Ordering is asserted through the progress events, never through timings.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { bearer, startTestStack, type TestStack } from './harness.ts';
import { person } from './org-fixtures.ts';
import { until, wsClient } from './chat-stream-fixtures.ts';
import { uploadRest } from './knowledge-fixtures.ts';

let t: TestStack;
let client: Client | null = null;

beforeAll(async () => {
  t = await startTestStack();
});

afterAll(async () => {
  await client?.dispose();
  await t?.close();
});

interface Progress {
  stage: string;
  chunksDone: number;
  chunksTotal: number;
}

/** About 3.5 MB of distinct paragraphs: some 4,500 chunks, written in many batches. */
function largeText(): string {
  const paragraphs: string[] = [];
  for (let i = 0; i < 6_000; i++) paragraphs.push(`Paragraph ${i} describes warehouse ${i % 97} and its inventory of item${i} with notes on shipping lane ${i % 13}. `.repeat(5));
  return paragraphs.join('\n\n');
}

it('answers other requests while a large document is indexing, and hides the document until it is ready', async () => {
  const owner = await person(t, 'kbbig');
  const other = await person(t, 'kbother');
  const uploadId = randomUUID();
  const events: Progress[] = [];
  client = wsClient(t.url, owner.access);
  client.subscribe<{ documentIngestion: Progress }>(
    { query: 'subscription($u: ID!) { documentIngestion(uploadId: $u) { stage chunksDone chunksTotal } }', variables: { u: uploadId } },
    { next: (r) => r.data && events.push(r.data.documentIngestion), error: () => undefined, complete: () => undefined },
  );
  await until(() => events.length > 0, 10_000);
  expect(events[0]?.stage).toBe('WAITING');

  const text = largeText();
  // REST KB-3 with the `upload_id` form field the subscription follows.
  const uploading = uploadRest(t.url, owner.access, { name: 'warehouses.txt', type: 'text/plain', bytes: text }, { upload_id: uploadId });
  // Indexing has started: the first batch is written and many remain.
  await until(() => events.some((e) => e.stage === 'INDEXING'), 30_000);
  const first = events.find((e) => e.stage === 'INDEXING');
  expect(first?.chunksTotal).toBeGreaterThan(4_000);
  expect(first?.chunksDone).toBeLessThan(first?.chunksTotal ?? 0);

  // Requests that read the database (knowledge's, identity's) are answered meanwhile…
  const [mine, me, search] = await Promise.all([
    t.rest('GET', '/api/knowledge/documents', { headers: bearer(owner.access) }),
    t.rest('GET', '/api/auth/me', { headers: bearer(other.access) }),
    t.rest('POST', '/api/knowledge/search', { headers: bearer(owner.access), json: { query: 'warehouse inventory' } }),
  ]);
  // …before the upload finished, and they do not see the half-written document.
  expect(events.some((e) => e.stage === 'READY')).toBe(false);
  expect(mine.status).toBe(200);
  expect(mine.body).toEqual({ items: [], total: 0, limit: 20, offset: 0 });
  expect(me.status).toBe(200);
  expect((me.body as { id: string }).id).toBe(other.id);
  expect(search.status).toBe(200);
  expect(search.body).toEqual({ query: 'warehouse inventory', results: [] });

  const done = await uploading;
  expect(done.status).toBe(201);
  const created = done.body as { id: string; chunk_count: number };
  await until(() => events.some((e) => e.stage === 'READY'), 10_000);
  const indexing = events.filter((e) => e.stage === 'INDEXING');
  expect(indexing.length).toBeGreaterThan(40);
  expect(indexing.at(-1)?.chunksDone).toBe(created.chunk_count);
  expect(events.at(-1)).toEqual({ stage: 'READY', chunksDone: created.chunk_count, chunksTotal: created.chunk_count });

  const after = await t.rest('POST', '/api/knowledge/search', { headers: bearer(owner.access), json: { query: 'warehouse inventory', top_k: 1 } });
  expect((after.body as { results: { document_id: string }[] }).results.map((r) => r.document_id)).toEqual([created.id]);
});
