/**
 * Questions answered from the knowledge base (§3.3 KB-4, §4.17) through REST and GraphQL:
 * the offline `local` provider quotes the retrieved passage and cites its document's title; with
 * nothing retrieved it says no language model is configured; the `openai` path (against the
 * OpenAI-compatible test server) receives the retrieved passages in its prompt. Chat (CONV-2) is
 * grounded on the same documents.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { person, type Person } from './org-fixtures.ts';
import { useFakeAi } from './fake-ai.ts';
import { gql, txt, upload, type RagDocumentBody, type RagQueryBody } from './knowledge-fixtures.ts';
import { createConversation } from './chat-fixtures.ts';
import { GROUNDING_INSTRUCTION } from '../kernel/ai/grounding.ts';
import { coded } from './assertions.ts';

const fake = useFakeAi();
const t = useTestStack(() => ({
  env: { OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: 'sk-rag', OPENAI_MODELS: 'gpt-rag', DEFAULT_AI_PROVIDER: 'local', AI_TIMEOUT_MS: '2000' },
}));
let alice: Person;
let spice: RagDocumentBody;
let tides: RagDocumentBody;

beforeAll(async () => {
  alice = await person(t, 'rag_alice');
  spice = await upload(t.url, alice.access, txt('spices', SPICE_TEXT), { title: 'Spice almanac' });
  tides = await upload(t.url, alice.access, txt('tides', TIDE_TEXT), { title: 'Tide tables' });
});

const SPICE_TEXT = 'Saffron is harvested by hand from crocus flowers in autumn. Each flower yields three red stigmas.';
const TIDE_TEXT = 'The spring tide peaks twice a month near the full and new moon.';

const SCORE = expect.toSatisfy((s: unknown) => typeof s === 'number' && s > 0 && s <= 1);
const QUESTION = 'How is saffron harvested?';
/** The local provider's answer: the passage's matching sentence, quoted, with its document's title. */
const GROUNDED = 'From your knowledge base, these passages match your question: 1. "Saffron is harvested by hand from crocus flowers in autumn." (Spice almanac)';
const spiceSource = () => ({ document_id: spice.id, title: 'Spice almanac', chunk_index: 0, content: SPICE_TEXT, score: SCORE });

const rag = (json: unknown, p: Person = alice) => t.rest('POST', '/api/rag/query', { json, headers: bearer(p.access) });
const RAG_GQL = 'mutation($input: RagQueryInput!) { ragQuery(input: $input) { answer provider model sources { documentId title chunkIndex content score } } }';

describe('the local provider', () => {
  it('answers through REST by quoting the retrieved passage and citing its document', async () => {
    const res = await rag({ query: QUESTION, provider: 'local' });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: { answer: GROUNDED, sources: [spiceSource()], provider: 'local', model: 'local-grounded-1' },
    });
  });

  it('answers through GraphQL the same way', async () => {
    const res = await gql(t.url, alice.access, RAG_GQL, { input: { query: QUESTION, provider: 'local' } });
    expect(res).toEqual({
      status: 200,
      body: {
        data: {
          ragQuery: {
            answer: GROUNDED,
            provider: 'local',
            model: 'local-grounded-1',
            sources: [{ documentId: spice.id, title: 'Spice almanac', chunkIndex: 0, content: SPICE_TEXT, score: SCORE }],
          },
        },
      },
    });
  });

  it('is what `auto` routes to when the default provider is local (the provider is echoed as asked)', async () => {
    const res = await rag({ query: QUESTION });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { answer: GROUNDED, sources: [spiceSource()], provider: 'auto', model: 'local-grounded-1' } });
  });

  it('cites the right document among several, and quotes the leading sentence when only a correction matched', async () => {
    const tide = await rag({ query: 'When does the spring tide peak?', provider: 'local' });
    expect(tide.status).toBe(200);
    const body = tide.body as RagQueryBody;
    expect(body.sources.map((s) => s.document_id)).toEqual([tides.id]);
    expect(body.answer).toBe(`From your knowledge base, these passages match your question: 1. "${TIDE_TEXT}" (Tide tables)`);

    // "saffran" is corrected to "saffron" by retrieval; the answer quotes the passage's first sentence.
    const misspelled = await rag({ query: 'saffran', provider: 'local' });
    expect({ status: misspelled.status, body: misspelled.body }).toEqual({
      status: 200,
      body: { answer: GROUNDED, sources: [spiceSource()], provider: 'local', model: 'local-grounded-1' },
    });
  });

  it('says that no language model is configured when nothing matches, with no sources', async () => {
    const question = 'Who won the chess tournament?';
    const res = await rag({ query: question, provider: 'local' });
    expect(res.status).toBe(200);
    const body = res.body as RagQueryBody;
    expect({ ...body, answer: '' }).toEqual({ answer: '', sources: [], provider: 'local', model: 'local-grounded-1' });
    expect(body.answer.startsWith(`No language model is configured, so I can only answer from your own conversation and documents, and nothing there matches "${question}".`)).toBe(true);
    expect(body.answer).toContain('configure a provider: set OPENAI_BASE_URL and OPENAI_API_KEY');

    // Another user asking alice's question finds none of her documents.
    const bob = await person(t, 'rag_bob');
    const theirs = await rag({ query: QUESTION, provider: 'local' }, bob);
    expect((theirs.body as RagQueryBody).sources).toEqual([]);
    expect((theirs.body as RagQueryBody).answer.startsWith('No language model is configured')).toBe(true);
  });

  it('includes conversation-scoped documents only with their conversation id', async () => {
    const conv = await createConversation(t, alice);
    const minutes = await upload(t.url, alice.access, txt('minutes', 'The board chose teal for the new lobby carpet.'), { scope: 'conversation', conversation_id: conv.id, title: 'Board minutes' });
    const without = await rag({ query: 'Which carpet colour did the board choose?', provider: 'local' });
    expect((without.body as RagQueryBody).sources).toEqual([]);
    const within = await rag({ query: 'Which carpet colour did the board choose?', provider: 'local', conversation_id: conv.id });
    expect(within.body).toEqual({
      answer: 'From your knowledge base, these passages match your question: 1. "The board chose teal for the new lobby carpet." (Board minutes)',
      sources: [{ document_id: minutes.id, title: 'Board minutes', chunk_index: 0, content: 'The board chose teal for the new lobby carpet.', score: SCORE }],
      provider: 'local',
      model: 'local-grounded-1',
    });
  });
});

describe('the openai provider', () => {
  it('gets the retrieved passages in its prompt and its streamed reply is the answer (REST)', async () => {
    fake.mode = { kind: 'stream', words: ['Saffron', ' is', ' picked', ' by', ' hand.'] };
    fake.requests.length = 0;
    const res = await rag({ query: QUESTION, provider: 'openai' });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: { answer: 'Saffron is picked by hand.', sources: [spiceSource()], provider: 'openai', model: 'gpt-rag' },
    });
    expect(fake.requests).toEqual([
      {
        path: '/v1/chat/completions',
        headers: expect.objectContaining({ authorization: 'Bearer sk-rag' }),
        body: {
          model: 'gpt-rag',
          stream: true,
          messages: [
            { role: 'system', content: GROUNDING_INSTRUCTION },
            { role: 'system', content: `[Spice almanac] ${SPICE_TEXT}` },
            { role: 'user', content: QUESTION },
          ],
        },
      },
    ]);
  });

  it('gets the passages through GraphQL too, best first', async () => {
    fake.mode = { kind: 'stream', words: ['Both', ' are', ' covered.'] };
    fake.requests.length = 0;
    const query = 'saffron and the spring tide';
    const res = await gql(t.url, alice.access, RAG_GQL, { input: { query, provider: 'openai', topK: 5 } });
    const answer = res.body.data?.ragQuery as { answer: string; provider: string; model: string; sources: { documentId: string; title: string; content: string }[] };
    expect([answer.answer, answer.provider, answer.model]).toEqual(['Both are covered.', 'openai', 'gpt-rag']);
    expect(new Set(answer.sources.map((s) => s.documentId))).toEqual(new Set([spice.id, tides.id]));
    const sent = (fake.requests[0]?.body as { messages: { role: string; content: string }[] }).messages;
    expect(sent).toEqual([
      { role: 'system', content: GROUNDING_INSTRUCTION },
      ...answer.sources.map((s) => ({ role: 'system', content: `[${s.title}] ${s.content}` })),
      { role: 'user', content: query },
    ]);
  });

  it('gets no passages when nothing matches (the question alone)', async () => {
    fake.mode = { kind: 'stream', words: ['I', ' do', ' not', ' know.'] };
    fake.requests.length = 0;
    const res = await rag({ query: 'Who won the chess tournament?', provider: 'openai' });
    expect(res.body).toEqual({ answer: 'I do not know.', sources: [], provider: 'openai', model: 'gpt-rag' });
    expect((fake.requests[0]?.body as { messages: unknown[] }).messages).toEqual([{ role: 'user', content: 'Who won the chess tournament?' }]);
  });

  it('gives 502 provider_error when the upstream fails', async () => {
    fake.mode = { kind: 'status', status: 500 };
    const res = await rag({ query: QUESTION, provider: 'openai' });
    expect({ status: res.status, body: res.body }).toEqual({ status: 502, body: coded('provider_error', 'AI provider request failed') });
    fake.mode = { kind: 'stream', words: ['ok'] };
  });
});

describe('chat grounding', () => {
  it('answers a chat message (CONV-2, local) from an uploaded document, quoting it and citing its title', async () => {
    const res = await t.rest('POST', '/api/core/chat', { json: { message: QUESTION, provider: 'local' }, headers: bearer(alice.access) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ content: GROUNDED, provider: 'local', model: 'local-grounded-1', usage: expect.any(Object), conversation_id: null, message_id: null });
    const usage = (res.body as { usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } }).usage;
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  it('grounds a stored conversation on its conversation-scoped documents too', async () => {
    const conv = await createConversation(t, alice);
    await upload(t.url, alice.access, txt('recipe', 'The paella needs bomba rice and a wide pan.'), { scope: 'conversation', conversation_id: conv.id, title: 'Paella recipe' });
    const res = await t.rest('POST', '/api/core/chat', { json: { message: 'Which rice does the paella need?', provider: 'local', conversation_id: conv.id }, headers: bearer(alice.access) });
    expect(res.status).toBe(200);
    expect((res.body as { content: string }).content).toBe(
      'From your knowledge base, these passages match your question: 1. "The paella needs bomba rice and a wide pan." (Paella recipe)',
    );
  });
});
