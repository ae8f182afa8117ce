/**
 * The chat subgraph through the gateway's GraphQL (parity with the REST suites, §3.2):
 * conversations, `User.conversations` and cross-subgraph fields, sessions, notes, search, admin
 * maintenance, API-key scopes and owner-only visibility. Service errors keep their registry code
 * in `extensions.code` with `status` and the `serviceName` the gateway adds. Child lists load
 * through DataLoaders: the SQL statement count of a request does not grow with its result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestStack, type GraphQLResponse, type TestStack } from './harness.ts';
import { addMember, apiKey, createKey, createOrg, person, platformAdmin, type Person } from './org-fixtures.ts';
import { appendTurns } from './chat-fixtures.ts';
import { TIMESTAMP, UNKNOWN_ID, UUID_V4 } from './assertions.ts';

let t: TestStack;
let alice: Person;
let bob: Person;
/**
 * Chat's SQL statements while `counting` is set, but for chat's background work, which may run at
 * any moment (the learning outbox's poll, search indexing of the messages just written) and
 * whose statements are not the request's.
 */
const statements: string[] = [];
let counting = false;
const BACKGROUND = /"(learning_outbox|search_index|search_state)"|^\s*(begin|commit|rollback)\b/i;
beforeAll(async () => {
  t = await startTestStack({ onQuery: (subgraph, sql) => counting && subgraph === 'chat' && !BACKGROUND.test(sql) && statements.push(sql) });
  [alice, bob] = await Promise.all([person(t, 'galice'), person(t, 'gbob')]);
});
afterAll(async () => {
  await t?.close();
});

const CONVERSATION = 'id title provider messageCount lastMessageAt createdAt updatedAt';
const SESSION = 'id conversationId status startedAt lastActivityAt endedAt endReason durationSeconds elapsedSeconds xpAwarded';
const NOTE = 'id title content conversationId tags createdAt updatedAt';

async function gql(p: Person | { headers: Record<string, string> }, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
  return t.gql(query, variables, 'headers' in p ? p.headers : bearer(p.access));
}

async function data<T>(p: Person, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await gql(p, query, variables);
  if (res.status !== 200 || res.body.errors) throw new Error(`GraphQL failed: ${JSON.stringify(res.body)}`);
  return res.body.data as T;
}

/** A failed root field of chat (non-null payload, so `data` is null). */
function chatError(field: string, code: string, status: number, message: string, extra: Record<string, unknown> = {}): GraphQLResponse['body'] {
  return { errors: [{ message, path: [field], extensions: { code, status, ...extra, serviceName: 'chat' } }], data: null };
}

async function newConversation(p: Person, title = 'GraphQL conversation'): Promise<{ id: string; createdAt: string }> {
  const d = await data<{ createConversation: { conversation: { id: string; createdAt: string } } }>(p, `mutation($input: CreateConversationInput!) { createConversation(input: $input) { conversation { id createdAt } } }`, { input: { title } });
  return d.createConversation.conversation;
}

describe('conversations', () => {
  it('creates, reads (also as User.conversations), and deletes', async () => {
    const created = await gql(alice, `mutation { createConversation(input: { title: "Plan", provider: "local" }) { conversation { ${CONVERSATION} } } }`);
    const conv = (created.body.data?.createConversation as { conversation: { id: string; createdAt: string } }).conversation;
    const expected = { id: expect.stringMatching(UUID_V4), title: 'Plan', provider: 'local', messageCount: 0, lastMessageAt: null, createdAt: expect.stringMatching(TIMESTAMP), updatedAt: conv.createdAt };
    expect(created).toMatchObject({ status: 200, body: { data: { createConversation: { conversation: expected } } } });
    expect((await gql(alice, `query($id: ID!) { conversation(id: $id) { ${CONVERSATION} user { id username } } }`, { id: conv.id })).body).toEqual({
      data: { conversation: { ...expected, id: conv.id, user: { id: alice.id, username: alice.username } } },
    });
    const mine = await data<{ me: { conversations: { items: { id: string }[]; total: number; limit: number; offset: number } } }>(alice, '{ me { conversations(limit: 100) { items { id } total limit offset } } }');
    expect(mine.me.conversations).toMatchObject({ limit: 100, offset: 0 });
    expect(mine.me.conversations.items[0]?.id).toBe(conv.id);
    expect((await gql(alice, 'mutation($id: ID!) { deleteConversation(id: $id) { id } }', { id: conv.id })).body).toEqual({ data: { deleteConversation: { id: conv.id } } });
    expect((await gql(alice, 'query($id: ID!) { conversation(id: $id) { id } }', { id: conv.id })).body).toEqual({ data: { conversation: null } });
  });

  it("hides another user's conversation: null to read, NOT_FOUND to delete", async () => {
    const theirs = await newConversation(bob);
    expect((await gql(alice, 'query($id: ID!) { conversation(id: $id) { id } }', { id: theirs.id })).body).toEqual({ data: { conversation: null } });
    expect((await gql(alice, 'query { conversation(id: "not-a-uuid") { id } }')).body).toEqual({ data: { conversation: null } });
    expect((await gql(alice, 'mutation($id: ID!) { deleteConversation(id: $id) { id } }', { id: theirs.id })).body).toEqual(chatError('deleteConversation', 'NOT_FOUND', 404, 'Conversation not found'));
  });

  it('lists messages oldest first with fields from identity on each message', async () => {
    const conv = await newConversation(alice, 'with messages');
    const stored = await appendTurns(t, alice, conv.id, [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello!', provider: 'local', model: 'local-grounded-1' }]);
    const d = await data<{ conversation: unknown }>(
      alice,
      `query($id: ID!) { conversation(id: $id) { messageCount messages { total items { id role content provider model createdAt conversation { id } user { username } } } } }`,
      { id: conv.id },
    );
    expect(d.conversation).toEqual({
      messageCount: 2,
      messages: {
        total: 2,
        items: stored.map((m) => ({ id: m.id, role: m.role.toUpperCase(), content: m.content, provider: m.provider, model: m.model, createdAt: m.created_at, conversation: { id: conv.id }, user: { username: alice.username } })),
      },
    });
  });

  it('loads child lists in batches: the SQL statement count does not grow with the number of conversations', async () => {
    const countFor = async (n: number): Promise<number> => {
      const p = await person(t, `batch${n}`);
      for (let i = 0; i < n; i += 1) {
        const c = await newConversation(p, `batch ${i}`);
        await appendTurns(t, p, c.id, [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}` }]);
      }
      statements.length = 0;
      counting = true;
      const d = await data<{ conversations: { items: { messages: { items: { conversation: { title: string } }[] } }[] } }>(
        p,
        '{ conversations(limit: 50) { total items { id messages(limit: 5) { total items { id conversation { title } } } } } }',
      );
      counting = false;
      expect(d.conversations.items).toHaveLength(n);
      expect(d.conversations.items.flatMap((c) => c.messages.items)).toHaveLength(2 * n);
      return statements.length;
    };
    const small = await countFor(2);
    const large = await countFor(6);
    expect(small).toBeGreaterThan(0);
    expect(large).toBe(small);
  });

  it("returns an empty User.conversations for someone else's account", async () => {
    const p = await person(t, 'gowner');
    const other = await person(t, 'gmember');
    await newConversation(p, 'owner conversation');
    await newConversation(other, 'member conversation');
    const org = await createOrg(t, p);
    await addMember(t, org.id, p, other.id);
    const d = await data<{ organization: { members: { items: { userId: string; user: { conversations: { total: number; items: { title: string }[] } } }[] } } }>(
      p,
      'query($id: ID!) { organization(id: $id) { members { items { userId user { conversations { total items { title } } } } } } }',
      { id: org.id },
    );
    const byUser = Object.fromEntries(d.organization.members.items.map((m) => [m.userId, m.user.conversations]));
    expect(byUser).toEqual({ [p.id]: { total: 1, items: [{ title: 'owner conversation' }] }, [other.id]: { total: 0, items: [] } });
  });
});

describe('sessions', () => {
  it('start (new, then resumed), activity, status and end with XP', async () => {
    const conv = await newConversation(alice, 'session');
    const start = `mutation($id: ID!) { startConversationSession(conversationId: $id) { resumed session { ${SESSION} } } }`;
    const first = (await data<{ startConversationSession: { resumed: boolean; session: { id: string; startedAt: string } } }>(alice, start, { id: conv.id })).startConversationSession;
    expect(first).toEqual({
      resumed: false,
      session: { id: expect.stringMatching(UUID_V4), conversationId: conv.id, status: 'ACTIVE', startedAt: expect.stringMatching(TIMESTAMP), lastActivityAt: first.session.startedAt, endedAt: null, endReason: null, durationSeconds: null, elapsedSeconds: 0, xpAwarded: null },
    });
    expect((await data<{ startConversationSession: unknown }>(alice, start, { id: conv.id })).startConversationSession).toMatchObject({ resumed: true, session: { id: first.session.id } });
    expect((await data<{ recordConversationActivity: unknown }>(alice, `mutation($id: ID!) { recordConversationActivity(conversationId: $id) { session { id status } } }`, { id: conv.id })).recordConversationActivity).toEqual({
      session: { id: first.session.id, status: 'ACTIVE' },
    });
    expect((await data<{ conversationSessionStatus: unknown }>(alice, `query($id: ID!) { conversationSessionStatus(conversationId: $id) { conversationId active elapsedSeconds session { id } } }`, { id: conv.id })).conversationSessionStatus).toEqual({
      conversationId: conv.id,
      active: true,
      elapsedSeconds: 0,
      session: { id: first.session.id },
    });
    const end = `mutation($id: ID!) { endConversationSession(conversationId: $id) { session { ${SESSION} } } }`;
    expect((await data<{ endConversationSession: unknown }>(alice, end, { id: conv.id })).endConversationSession).toEqual({
      session: { ...first.session, status: 'ENDED', lastActivityAt: expect.stringMatching(TIMESTAMP), endedAt: expect.stringMatching(TIMESTAMP), endReason: 'CLIENT', durationSeconds: 0, elapsedSeconds: 0, xpAwarded: 0 },
    });
    expect((await gql(alice, end, { id: conv.id })).body).toEqual(chatError('endConversationSession', 'NO_ACTIVE_SESSION', 409, 'No active session for this conversation'));
    expect((await gql(bob, start, { id: conv.id })).body).toEqual(chatError('startConversationSession', 'NOT_FOUND', 404, 'Conversation not found'));
  });
});

describe('notes', () => {
  it('create, update (null detaches, null title refused), read, list and delete', async () => {
    const conv = await newConversation(alice, 'noted');
    const created = (await data<{ createNote: { note: { id: string; createdAt: string } } }>(alice, `mutation($input: CreateNoteInput!) { createNote(input: $input) { note { ${NOTE} conversation { title } } } }`, {
      input: { title: 'Note', content: null, conversationId: conv.id, tags: ['x', 'x', 'y'] },
    })).createNote.note;
    expect(created).toEqual({ id: expect.stringMatching(UUID_V4), title: 'Note', content: '', conversationId: conv.id, tags: ['x', 'y'], createdAt: expect.stringMatching(TIMESTAMP), updatedAt: created.createdAt, conversation: { title: 'noted' } });
    const update = `mutation($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { note { ${NOTE} } } }`;
    expect((await data<{ updateNote: unknown }>(alice, update, { id: created.id, input: { conversationId: null } })).updateNote).toMatchObject({ note: { conversationId: null, title: 'Note' } });
    const refused = await gql(alice, update, { id: created.id, input: { title: null } });
    expect(refused.body).toMatchObject({ data: null, errors: [{ path: ['updateNote'], extensions: { code: 'BAD_USER_INPUT', status: 422, fields: [{ loc: ['input', 'title'] }], serviceName: 'chat' } }] });
    expect((await gql(bob, update, { id: created.id, input: { title: 'mine now' } })).body).toEqual(chatError('updateNote', 'NOT_FOUND', 404, 'Note not found'));
    expect((await gql(bob, 'query($id: ID!) { note(id: $id) { id } }', { id: created.id })).body).toEqual({ data: { note: null } });
    expect((await gql(alice, 'query($id: ID!) { note(id: $id) { title } }', { id: created.id })).body).toEqual({ data: { note: { title: 'Note' } } });
    const theirs = await newConversation(bob);
    expect((await gql(alice, 'query($c: ID) { notes(conversationId: $c) { total } }', { c: theirs.id })).body).toEqual(chatError('notes', 'NOT_FOUND', 404, 'Conversation not found'));
    expect((await gql(alice, 'mutation($id: ID!) { deleteNote(id: $id) { id } }', { id: created.id })).body).toEqual({ data: { deleteNote: { id: created.id } } });
    expect((await gql(alice, 'mutation($id: ID!) { deleteNote(id: $id) { id } }', { id: UNKNOWN_ID })).body).toEqual(chatError('deleteNote', 'NOT_FOUND', 404, 'Note not found'));
  });
});

describe('search', () => {
  it("finds the caller's content by word prefix with highlights and links to the conversation", async () => {
    const p = await person(t, 'gsearch');
    const conv = await newConversation(p, 'Marathon training plan');
    await appendTurns(t, p, conv.id, [{ role: 'user', content: 'How long should a marathon taper be?' }]);
    const query = `query($input: ContentSearchInput!) { contentSearch(input: $input) {
      query conversations { conversationId title highlight score updatedAt conversation { id } }
      messages { conversationId conversationTitle role snippet } notes { noteId } } }`;
    const d = await data<{ contentSearch: { conversations: { score: number }[] } }>(p, query, { input: { query: ' mara ', types: ['CONVERSATIONS', 'MESSAGES'] } });
    expect(d.contentSearch).toEqual({
      query: 'mara',
      conversations: [{ conversationId: conv.id, title: 'Marathon training plan', highlight: '<mark>Marathon</mark> training plan', score: expect.any(Number), updatedAt: expect.stringMatching(TIMESTAMP), conversation: { id: conv.id } }],
      messages: [{ conversationId: conv.id, conversationTitle: 'Marathon training plan', role: 'USER', snippet: 'How long should a <mark>marathon</mark> taper be?' }],
      notes: [],
    });
    expect((await data<{ contentSearch: unknown }>(bob, query, { input: { query: 'marathon' } })).contentSearch).toEqual({ query: 'marathon', conversations: [], messages: [], notes: [] });
    expect((await gql(p, query, { input: { query: '   ' } })).body).toMatchObject({ data: null, errors: [{ extensions: { code: 'BAD_USER_INPUT', status: 422 } }] });
  });

  it('status and reindex are for platform admins', async () => {
    expect((await gql(alice, '{ contentSearchStatus { backend } }')).body).toEqual(chatError('contentSearchStatus', 'ADMIN_REQUIRED', 403, 'Administrator role required'));
    const admin = await platformAdmin(t);
    expect((await data<{ contentSearchStatus: unknown }>(admin, '{ contentSearchStatus { backend healthy reindexRunning collections { name } } }')).contentSearchStatus).toEqual({
      backend: 'postgres',
      healthy: true,
      reindexRunning: false,
      collections: [{ name: 'CONVERSATIONS' }, { name: 'MESSAGES' }, { name: 'NOTES' }],
    });
    const r = await data<{ reindexContentSearch: unknown }>(admin, 'mutation { reindexContentSearch(input: { collections: [NOTES] }) { status collections indexed { conversations messages } durationMs } }');
    expect(r.reindexContentSearch).toEqual({ status: 'completed', collections: ['NOTES'], indexed: { conversations: 0, messages: 0 }, durationMs: expect.any(Number) });
    expect((await gql(admin, `mutation { reindexContentSearch(input: { userId: "${UNKNOWN_ID}" }) { status } }`)).body).toEqual(chatError('reindexContentSearch', 'NOT_FOUND', 404, 'User not found'));
  });
});

describe('API keys', () => {
  it('need conversations:read to read and conversations:write to write', async () => {
    const p = await person(t, 'gkey');
    const org = await createOrg(t, p);
    const reader = { headers: apiKey((await createKey(t, p, org.id, ['conversations:read'])).key) };
    const writer = { headers: apiKey((await createKey(t, p, org.id, ['conversations:write'])).key) };
    const conv = await newConversation(p, 'keyed');
    expect((await gql(reader, '{ conversations { items { id title } } }')).body).toEqual({ data: { conversations: { items: [{ id: conv.id, title: 'keyed' }] } } });
    expect((await gql(reader, 'mutation { createConversation(input: {}) { conversation { id } } }')).body).toEqual(
      chatError('createConversation', 'INSUFFICIENT_API_KEY_SCOPE', 403, 'API key lacks required scope for this endpoint', { required_scope: 'conversations:write', granted_scopes: ['conversations:read'] }),
    );
    expect((await gql(writer, '{ conversations { total } }')).body).toEqual(
      chatError('conversations', 'INSUFFICIENT_API_KEY_SCOPE', 403, 'API key lacks required scope for this endpoint', { required_scope: 'conversations:read', granted_scopes: ['conversations:write'] }),
    );
    expect((await gql(writer, 'mutation { createNote(input: { title: "by key" }) { note { title } } }')).body).toEqual({ data: { createNote: { note: { title: 'by key' } } } });
  });
});
