/**
 * The knowledge base end to end, as a user meets it, once through REST and once through GraphQL:
 * upload a PDF while watching it index (documentIngestion over graphql-ws through the gateway),
 * find it by a misspelled word, and get an answer that quotes it and cites its title.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { person, type Person } from './org-fixtures.ts';
import { until, wsClient } from './chat-stream-fixtures.ts';
import { BOUNDARY, gql, makePdf, multipart, uploadRest } from './knowledge-fixtures.ts';

const t = useTestStack();
const clients = t.clients;

const PAGES = [
  ['Greenhouse operations manual', 'Tomato seedlings need sixteen hours of light each day.', 'Irrigation runs at dawn and at dusk.'],
  ['Pest control', 'Ladybirds are released weekly against aphids in every greenhouse.'],
];
const ANSWER = 'From your knowledge base, these passages match your question: 1. "Pest control Ladybirds are released weekly against aphids in every greenhouse." (Greenhouse manual)';

/** Follows an upload's stages as `p`; resolves the stages seen once the subscription is live. */
async function watch(p: Person, uploadId: string): Promise<string[]> {
  const client = wsClient(t.url, p.access);
  clients.push(client);
  const stages: string[] = [];
  client.subscribe<{ documentIngestion: { stage: string } }>(
    { query: 'subscription($u: ID!) { documentIngestion(uploadId: $u) { stage } }', variables: { u: uploadId } },
    { next: (r) => r.data && stages.push(r.data.documentIngestion.stage), error: () => undefined, complete: () => undefined },
  );
  await until(() => stages.length > 0, 10_000);
  return stages;
}

const INDEXED_IN_ORDER = ['WAITING', 'PARSED', 'CHUNKED', 'INDEXING', 'INDEXED', 'READY'];

describe('a PDF in the knowledge base', () => {
  it('through REST: uploaded while watched, found by a misspelling, answered with a citation', async () => {
    const p = await person(t, 'kbrest');
    const uploadId = randomUUID();
    const stages = await watch(p, uploadId);
    const up = await uploadRest(t.url, p.access, { name: 'manual.pdf', type: 'application/pdf', bytes: makePdf(PAGES) }, { title: 'Greenhouse manual', upload_id: uploadId });
    expect(up.status).toBe(201);
    const doc = up.body as { id: string; content_type: string; chunk_count: number };
    expect(doc.content_type).toBe('application/pdf');
    await until(() => stages.includes('READY'));
    expect(stages).toEqual(INDEXED_IN_ORDER);

    const found = await t.rest('POST', '/api/knowledge/search', { headers: bearer(p.access), json: { query: 'ladybrids' } });
    expect(found.status).toBe(200);
    expect((found.body as { results: { document_id: string; title: string }[] }).results.map((r) => [r.document_id, r.title])).toEqual([[doc.id, 'Greenhouse manual']]);

    const answer = await t.rest('POST', '/api/rag/query', { headers: bearer(p.access), json: { query: 'What is released against aphids?', provider: 'local' } });
    expect(answer.status).toBe(200);
    const body = answer.body as { answer: string; sources: { document_id: string; title: string }[]; provider: string; model: string };
    expect(body.answer).toBe(ANSWER);
    expect(body.sources.map((s) => [s.document_id, s.title])).toEqual([[doc.id, 'Greenhouse manual']]);
    expect([body.provider, body.model]).toEqual(['local', 'local-grounded-1']);
  });

  it('through GraphQL: a multipart upload watched to READY, found by a misspelling, answered with a citation', async () => {
    const p = await person(t, 'kbgql');
    const uploadId = randomUUID();
    const stages = await watch(p, uploadId);
    const operations = JSON.stringify({
      query: 'mutation($input: UploadDocumentInput!) { uploadKnowledgeDocument(input: $input) { document { id contentType chunkCount } } }',
      variables: { input: { file: null, title: 'Greenhouse manual', uploadId } },
    });
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'apollo-require-preflight': 'true', ...bearer(p.access) },
      body: multipart([
        { name: 'operations', value: operations },
        { name: 'map', value: JSON.stringify({ 0: ['variables.input.file'] }) },
        { name: '0', filename: 'manual.pdf', type: 'application/pdf', value: makePdf(PAGES) },
      ]),
    });
    const uploaded = (await res.json()) as { data?: { uploadKnowledgeDocument: { document: { id: string; contentType: string } } }; errors?: unknown };
    expect(uploaded.errors).toBeUndefined();
    const doc = uploaded.data?.uploadKnowledgeDocument.document;
    expect(doc?.contentType).toBe('application/pdf');
    await until(() => stages.includes('READY'));
    expect(stages).toEqual(INDEXED_IN_ORDER);

    const found = await gql(t.url, p.access, 'query { knowledgeSearch(input: { query: "ladybrids" }) { results { documentId title highlight } } }');
    expect(found.body.data).toEqual({
      knowledgeSearch: { results: [{ documentId: doc?.id, title: 'Greenhouse manual', highlight: expect.stringContaining('<mark>Ladybirds</mark>') }] },
    });

    const answer = await gql(t.url, p.access, 'mutation { ragQuery(input: { query: "What is released against aphids?", provider: "local" }) { answer provider model sources { documentId title } } }');
    expect(answer.body.data).toEqual({
      ragQuery: { answer: ANSWER, provider: 'local', model: 'local-grounded-1', sources: [{ documentId: doc?.id, title: 'Greenhouse manual' }] },
    });
  });
});
