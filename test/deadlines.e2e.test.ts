/**
 * Per-operation deadlines and the circuit breaker (issue 11 item 6), against a slow
 * OpenAI-compatible model (test/fake-ai.ts). A chat slower than the subgraph timeout still
 * succeeds, because the gateway's deadline comes from the AI budget; six such calls do not open
 * chat's circuit for anyone else; a subgraph whose propagated deadline passes (or whose caller
 * hangs up) answers DEADLINE_EXCEEDED and stores nothing, neither turns nor documents.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { anonymousContext, CONTEXT_HEADER, signContext, type AuthContext } from '../kernel/context.ts';
import { DEADLINE_HEADER } from '../kernel/deadline.ts';
import { bearer, useTestStack } from './harness.ts';
import { person, type Person } from './org-fixtures.ts';
import { createConversation } from './chat-fixtures.ts';
import { messagesOf } from './chat-stream-fixtures.ts';
import { useFakeAi } from './fake-ai.ts';
import { coded } from './assertions.ts';

const fake = useFakeAi();
const t = useTestStack(() => ({
  env: {
    SUBGRAPH_TIMEOUT_MS: '500',
    SUBGRAPH_DEADLINE_MARGIN_MS: '500',
    AI_TIMEOUT_MS: '3000',
    TRPC_TIMEOUT_MS: '1000',
    OPENAI_BASE_URL: `${fake.url}/v1`,
    OPENAI_API_KEY: 'sk-slow',
    OPENAI_MODELS: 'gpt-slow',
    DEFAULT_AI_PROVIDER: 'local',
  },
}));
let alice: Person;
let bob: Person;

beforeAll(async () => {
  [alice, bob] = await Promise.all([person(t, 'dl_alice'), person(t, 'dl_bob')]);
});

// 8 words paced 150 ms apart (plus the stop and [DONE] frames): about 1.6 s, over three times the subgraph timeout.
const WORDS = ['One', ' two', ' three', ' four', ' five', ' six', ' seven', ' eight'];
const SLOW = { kind: 'stream', words: WORDS, delayMs: 150 } as const;
const SLOW_MS = (WORDS.length + 3) * 150;

const chat = (p: Person, json: Record<string, unknown>) => t.rest('POST', '/api/core/chat', { json: { provider: 'openai', ...json }, headers: bearer(p.access) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A signed internal context for `p`, as the gateway forwards it. */
async function contextOf(p: Person): Promise<string> {
  const auth: AuthContext = { ...anonymousContext('deadline-test'), mode: 'bearer', userId: p.id, role: 'user', plan: 'free', timezone: 'UTC' };
  return signContext(auth, t.config.internalServiceKey);
}

/** A GraphQL call straight to a subgraph with a deadline, as the gateway sends one. */
async function subgraphCall(subgraph: 'chat' | 'knowledge', p: Person, deadlineMs: number, query: string, variables: Record<string, unknown>) {
  const res = await fetch(`${t.subgraphUrl(subgraph)}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CONTEXT_HEADER]: await contextOf(p), [DEADLINE_HEADER]: String(deadlineMs) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

const DEADLINE_ERROR = { message: 'The request did not finish within its time budget; nothing was stored', extensions: { code: 'DEADLINE_EXCEEDED', status: 504 } };

describe('a model slower than the subgraph timeout', () => {
  it('answers a non-streamed chat (no 503) and stores both turns once', async () => {
    fake.mode = SLOW;
    const conversation = await createConversation(t, alice);
    const res = await chat(alice, { message: 'Count to eight', conversation_id: conversation.id });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ content: WORDS.join(''), provider: 'openai', model: 'gpt-slow', conversation_id: conversation.id });
    const stored = await messagesOf(t.url, alice.access, conversation.id);
    expect(stored.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Count to eight'],
      ['assistant', WORDS.join('')],
    ]);
    expect(stored[1]?.id).toBe((res.body as { message_id: string }).message_id);
  });

  it("six slow calls succeed and never open chat's circuit for an unrelated user", async () => {
    fake.mode = SLOW;
    const calls = Array.from({ length: 6 }, (_, i) => chat(alice, { message: `Slow call ${i}` }));
    // While they run, and after: another user's reads of chat answer normally.
    const during = await t.rest('GET', '/api/core/conversations', { headers: bearer(bob.access) });
    const statuses = (await Promise.all(calls)).map((r) => r.status);
    const after = await t.rest('GET', '/api/core/conversations', { headers: bearer(bob.access) });
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect([during.status, after.status]).toEqual([200, 200]);
    expect(after.body).toEqual({ items: [], total: 0, limit: 20, offset: 0 });
    const metrics = await t.rest('GET', '/metrics');
    expect(metrics.text).toContain('xentree_circuit_breaker_state{subgraph="chat"} 0');
  });

  it('past the AI budget: 502 provider_error, and no turn is stored afterwards', async () => {
    fake.mode = { kind: 'hang' };
    const conversation = await createConversation(t, alice);
    const res = await chat(alice, { message: 'Never answered', conversation_id: conversation.id });
    expect({ status: res.status, body: res.body }).toEqual({ status: 502, body: coded('provider_error', 'AI provider request failed') });
    await sleep(500);
    expect(await messagesOf(t.url, alice.access, conversation.id)).toEqual([]);
  });
});

describe('a deadline propagated to the subgraph', () => {
  const CHAT = 'mutation ($input: ChatInput!) { chat(input: $input) { content messageId } }';

  it('chat stops at it with DEADLINE_EXCEEDED and stores no turn, even once the model has finished', async () => {
    fake.mode = SLOW;
    const conversation = await createConversation(t, alice);
    const res = await subgraphCall('chat', alice, 300, CHAT, { input: { message: 'Too slow', provider: 'openai', conversationId: conversation.id } });
    expect(res.body.errors).toEqual([{ ...DEADLINE_ERROR, path: ['chat'], locations: [{ line: 1, column: 33 }] }]);
    await sleep(SLOW_MS);
    expect(await messagesOf(t.url, alice.access, conversation.id)).toEqual([]);
  });

  it('a caller that hangs up stops chat the same way: no turn is stored', async () => {
    fake.mode = SLOW;
    const conversation = await createConversation(t, alice);
    const hangUp = fetch(`${t.subgraphUrl('chat')}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CONTEXT_HEADER]: await contextOf(alice) },
      body: JSON.stringify({ query: CHAT, variables: { input: { message: 'Hung up', provider: 'openai', conversationId: conversation.id } } }),
      signal: AbortSignal.timeout(300),
    });
    await expect(hangUp).rejects.toMatchObject({ name: 'TimeoutError' });
    await sleep(SLOW_MS);
    expect(await messagesOf(t.url, alice.access, conversation.id)).toEqual([]);
  });

  it('within it, chat completes and stores its turns', async () => {
    fake.mode = { kind: 'stream', words: ['Quick.'] };
    const conversation = await createConversation(t, alice);
    const res = await subgraphCall('chat', alice, 5_000, CHAT, { input: { message: 'Be quick', provider: 'openai', conversationId: conversation.id } });
    expect(res.body.errors).toBeUndefined();
    expect((await messagesOf(t.url, alice.access, conversation.id)).map((m) => m.content)).toEqual(['Be quick', 'Quick.']);
  });

  it('an ingestion stops at it and leaves no document', async () => {
    // About 300 chunks: the ingestion writes them in batches and checks its deadline before each.
    const text = Array.from({ length: 3_000 }, (_, i) => `Paragraph ${i} about deadlines and the budgets that bound them.`).join('\n\n');
    const res = await subgraphCall(
      'knowledge',
      alice,
      1,
      'mutation ($input: UploadDocumentInput!) { uploadKnowledgeDocument(input: $input) { document { id } } }',
      { input: { file: { filename: 'late.txt', contentType: 'text/plain', contentBase64: Buffer.from(text).toString('base64') } } },
    );
    expect(res.body.errors).toEqual([{ ...DEADLINE_ERROR, path: ['uploadKnowledgeDocument'], locations: [{ line: 1, column: 43 }] }]);
    const list = await t.rest('GET', '/api/knowledge/documents?mine=true', { headers: bearer(alice.access) });
    expect({ status: list.status, body: list.body }).toEqual({ status: 200, body: { items: [], total: 0, limit: 20, offset: 0 } });
  });
});
