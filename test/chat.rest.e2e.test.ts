/**
 * Conversations through REST, CONV-3..10 (§3.2, §4.7, §4.12): exact statuses and whole
 * bodies, owner-only visibility (another user's conversation is 404), API-key scopes, the session
 * rules with idle timeout and XP, and the delete cascade. Notes and search: chat-search.rest.e2e.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CHAT_SESSION_ENDED, CONVERSATION_DELETED, type ChatSessionEndedEvent, type ConversationDeletedEvent } from '../kernel/events.ts';
import { useTestStack } from './harness.ts';
import { as, apiKey, createKey, createOrg, person, pollUntil, scopeMissing, type Person } from './org-fixtures.ts';
import { appendTurns, backdateSession, chatSql, collectEvents, createConversation, createNote, type ConversationBody } from './chat-fixtures.ts';
import { coded, notFoundBody, TIMESTAMP, UNKNOWN_ID, UUID_V4, wire } from './assertions.ts';

const t = useTestStack();
let alice: Person;
let bob: Person;
beforeAll(async () => {
  [alice, bob] = await Promise.all([person(t, 'alice'), person(t, 'bob')]);
});

const NO_SESSION = coded('no_active_session', 'No active session for this conversation');
const uuidParsing = (name: string, input: string) => ({
  detail: [{ type: 'uuid_parsing', loc: ['path', name], msg: expect.stringContaining('Input should be a valid UUID'), input, ctx: { error: expect.any(String) } }],
});

describe('CONV-4 POST /api/core/conversations', () => {
  it('creates a conversation: 201 with the whole ConversationResponse', async () => {
    const res = await t.rest('POST', '/api/core/conversations', { json: { title: 'Trip to Lisbon', provider: 'openai' }, ...as(alice) });
    const body = res.body as ConversationBody;
    expect(wire(res)).toEqual({
      status: 201,
      body: { id: expect.stringMatching(UUID_V4), title: 'Trip to Lisbon', provider: 'openai', message_count: 0, last_message_at: null, created_at: expect.stringMatching(TIMESTAMP), updated_at: body.created_at },
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('defaults the title to "New conversation" and the provider to null, with or without a body', async () => {
    for (const opts of [{ json: {} }, {}]) {
      const res = await t.rest('POST', '/api/core/conversations', { ...opts, ...as(alice) });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ title: 'New conversation', provider: null, message_count: 0 });
    }
  });

  it.each(['auto', 'local', 'anthropic'])('accepts the provider %s', async (provider) => {
    expect((await createConversation(t, alice, { provider })).provider).toBe(provider);
  });

  it('validates the title: 422 for empty, over 200 characters or not a string', async () => {
    const res = await t.rest('POST', '/api/core/conversations', { json: { title: '' }, ...as(alice) });
    expect(wire(res)).toEqual({
      status: 422,
      body: { detail: [{ type: 'string_too_short', loc: ['body', 'title'], msg: 'String should have at least 1 character', input: '', ctx: { min_length: 1 } }] },
    });
    expect((await t.rest('POST', '/api/core/conversations', { json: { title: 'x'.repeat(201) }, ...as(alice) })).body).toMatchObject({
      detail: [{ type: 'string_too_long', loc: ['body', 'title'], ctx: { max_length: 200 } }],
    });
    expect((await t.rest('POST', '/api/core/conversations', { json: { title: 5 }, ...as(alice) })).body).toMatchObject({ detail: [{ type: 'string_type', loc: ['body', 'title'] }] });
  });

  it('without credentials: 401 {"detail":"Not authenticated"}', async () => {
    const res = await t.rest('POST', '/api/core/conversations', { json: {} });
    expect(wire(res)).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('CONV-3 GET /api/core/conversations', () => {
  it("lists only the caller's conversations, most recently updated first, in the envelope", async () => {
    const p = await person(t, 'lister');
    const a = await createConversation(t, p, { title: 'A' });
    const b = await createConversation(t, p, { title: 'B' });
    const c = await createConversation(t, p, { title: 'C' });
    await createConversation(t, bob, { title: 'not yours' });
    // A message moves A to the top.
    await appendTurns(t, p, a.id, [{ role: 'user', content: 'hello' }]);
    const res = await t.rest('GET', '/api/core/conversations', as(p));
    expect(res.status).toBe(200);
    const body = res.body as { items: ConversationBody[]; total: number; limit: number; offset: number };
    expect(body.items.map((x) => x.title)).toEqual(['A', 'C', 'B']);
    expect(body).toEqual({ items: [expect.objectContaining({ id: a.id, message_count: 1 }), c, b], total: 3, limit: 20, offset: 0 });
    expect(body.items[0]?.last_message_at).toBe(body.items[0]?.updated_at);
  });

  it('pages with limit and offset; past the end is an empty page', async () => {
    const p = await person(t, 'pager');
    for (const title of ['1', '2', '3']) await createConversation(t, p, { title });
    expect((await t.rest('GET', '/api/core/conversations?limit=2&offset=1', as(p))).body).toEqual({ items: [expect.objectContaining({ title: '2' }), expect.objectContaining({ title: '1' })], total: 3, limit: 2, offset: 1 });
    expect(wire(await t.rest('GET', '/api/core/conversations?offset=10', as(p)))).toEqual({ status: 200, body: { items: [], total: 3, limit: 20, offset: 10 } });
  });

  it('validates limit and offset: 422', async () => {
    expect(wire(await t.rest('GET', '/api/core/conversations?limit=0&offset=-1', as(alice)))).toEqual({
      status: 422,
      body: {
        detail: [
          { type: 'greater_than_equal', loc: ['query', 'limit'], msg: 'Input should be greater than or equal to 1', input: '0', ctx: { ge: 1 } },
          { type: 'greater_than_equal', loc: ['query', 'offset'], msg: 'Input should be greater than or equal to 0', input: '-1', ctx: { ge: 0 } },
        ],
      },
    });
    expect((await t.rest('GET', '/api/core/conversations?limit=101', as(alice))).body).toMatchObject({ detail: [{ type: 'less_than_equal', loc: ['query', 'limit'], ctx: { le: 100 } }] });
  });
});

describe('CONV-6 GET /api/core/conversations/{id}/messages', () => {
  it('lists stored messages oldest first, paged, and the conversation counts them', async () => {
    const conv = await createConversation(t, alice, { title: 'Messages' });
    const stored = await appendTurns(t, alice, conv.id, [
      { role: 'user', content: 'What is a kubelet?' },
      { role: 'assistant', content: 'The node agent of Kubernetes.', provider: 'local', model: 'local-grounded-1' },
      { role: 'user', content: 'Thanks' },
    ]);
    expect(stored[0]).toMatchObject({ provider: null, model: null });
    const all = await t.rest('GET', `/api/core/conversations/${conv.id}/messages`, as(alice));
    expect(wire(all)).toEqual({ status: 200, body: { items: stored, total: 3, limit: 20, offset: 0 } });
    expect((await t.rest('GET', `/api/core/conversations/${conv.id}/messages?limit=1&offset=1`, as(alice))).body).toEqual({ items: [stored[1]], total: 3, limit: 1, offset: 1 });
    const list = (await t.rest('GET', '/api/core/conversations?limit=100', as(alice))).body as { items: ConversationBody[] };
    const after = list.items.find((c) => c.id === conv.id);
    expect(after).toEqual({ ...conv, message_count: 3, last_message_at: stored[2]?.created_at, updated_at: stored[2]?.created_at });
  });

  it("answers 404 for another user's conversation and for an unknown one", async () => {
    const conv = await createConversation(t, bob, { title: 'private' });
    await appendTurns(t, bob, conv.id, [{ role: 'user', content: 'secret' }]);
    expect(wire(await t.rest('GET', `/api/core/conversations/${conv.id}/messages`, as(alice)))).toEqual({ status: 404, body: notFoundBody('Conversation') });
    expect(wire(await t.rest('GET', `/api/core/conversations/${UNKNOWN_ID}/messages`, as(alice)))).toEqual({ status: 404, body: notFoundBody('Conversation') });
  });

  it('answers 422 uuid_parsing for a malformed id', async () => {
    expect(wire(await t.rest('GET', '/api/core/conversations/not-a-uuid/messages', as(alice)))).toEqual({ status: 422, body: uuidParsing('conversation_id', 'not-a-uuid') });
  });
});

describe('CONV-7..10 conversation sessions', () => {
  const session = (conv: string, action: string, p: Person) => t.rest('POST', `/api/core/conversations/${conv}/session/${action}`, as(p));
  const status = (conv: string, p: Person) => t.rest('GET', `/api/core/conversations/${conv}/session/status`, as(p));

  it('starts (201), resumes (200), records activity, reports status and ends with XP', async () => {
    const conv = await createConversation(t, alice);
    const started = await session(conv.id, 'start', alice);
    const s = started.body as { session_id: string; started_at: string; last_activity_at: string };
    expect(wire(started)).toEqual({
      status: 201,
      body: { session_id: expect.stringMatching(UUID_V4), conversation_id: conv.id, status: 'active', started_at: expect.stringMatching(TIMESTAMP), last_activity_at: s.started_at, resumed: false },
    });
    const resumed = await session(conv.id, 'start', alice);
    expect(wire(resumed)).toEqual({
      status: 200,
      body: { session_id: s.session_id, conversation_id: conv.id, status: 'active', started_at: s.started_at, last_activity_at: expect.stringMatching(TIMESTAMP), resumed: true },
    });
    const activity = await session(conv.id, 'activity', alice);
    expect(wire(activity)).toEqual({
      status: 200,
      body: { session_id: s.session_id, conversation_id: conv.id, status: 'active', last_activity_at: expect.stringMatching(TIMESTAMP), elapsed_seconds: 0 },
    });
    const lastActivity = (activity.body as { last_activity_at: string }).last_activity_at;
    expect(Date.parse(lastActivity)).toBeGreaterThanOrEqual(Date.parse(s.started_at));
    expect(wire(await status(conv.id, alice))).toEqual({
      status: 200,
      body: { conversation_id: conv.id, active: true, session_id: s.session_id, started_at: s.started_at, last_activity_at: lastActivity, elapsed_seconds: 0 },
    });
    const ended = await session(conv.id, 'end', alice);
    expect(wire(ended)).toEqual({
      status: 200,
      body: { session_id: s.session_id, conversation_id: conv.id, status: 'ended', started_at: s.started_at, ended_at: expect.stringMatching(TIMESTAMP), duration_seconds: 0, end_reason: 'client', xp_awarded: 0 },
    });
    expect(wire(await status(conv.id, alice))).toEqual({
      status: 200,
      body: { conversation_id: conv.id, active: false, session_id: null, started_at: null, last_activity_at: null, elapsed_seconds: 0 },
    });
  });

  it('answers 409 no_active_session to activity and end without an active session', async () => {
    const conv = await createConversation(t, alice);
    expect(wire(await session(conv.id, 'activity', alice))).toEqual({ status: 409, body: NO_SESSION });
    expect(wire(await session(conv.id, 'end', alice))).toEqual({ status: 409, body: NO_SESSION });
    await session(conv.id, 'start', alice);
    expect((await session(conv.id, 'end', alice)).status).toBe(200);
    expect(wire(await session(conv.id, 'end', alice))).toEqual({ status: 409, body: NO_SESSION });
  });

  it('awards 1 XP per full minute (max 30) and publishes chat.session-ended', async () => {
    const sub = await collectEvents<ChatSessionEndedEvent>(t, CHAT_SESSION_ENDED);
    try {
      for (const [seconds, xp] of [[125, 2], [59, 0], [3 * 3600, 30]] as const) {
        const conv = await createConversation(t, alice);
        const id = (ok201(await session(conv.id, 'start', alice)) as { session_id: string }).session_id;
        const { startedAt } = await backdateSession(t, id, seconds);
        const ended = (await session(conv.id, 'end', alice)).body as { ended_at: string; duration_seconds: number; xp_awarded: number };
        expect(ended).toMatchObject({ session_id: id, started_at: startedAt, duration_seconds: Math.floor((Date.parse(ended.ended_at) - Date.parse(startedAt)) / 1000), xp_awarded: xp });
        expect(ended.duration_seconds - seconds).toBeLessThanOrEqual(2);
        const events = await pollUntil(async () => sub.events.filter((e) => e.sessionId === id), (e) => e.length > 0, 5_000);
        expect(events).toEqual([{ userId: alice.id, conversationId: conv.id, sessionId: id, durationSeconds: ended.duration_seconds, startedAt, endedAt: ended.ended_at, xp }]);
      }
    } finally {
      sub.stop();
    }
  });

  it('ends an idle session by timeout at its last activity, lazily on the next session call', async () => {
    const sub = await collectEvents<ChatSessionEndedEvent>(t, CHAT_SESSION_ENDED);
    try {
      const conv = await createConversation(t, alice);
      const id = (ok201(await session(conv.id, 'start', alice)) as { session_id: string }).session_id;
      // Started 20 minutes ago, idle for 301 s: over the 300 s default.
      const { startedAt, lastActivityAt } = await backdateSession(t, id, 1200, 301);
      expect(wire(await session(conv.id, 'activity', alice))).toEqual({ status: 409, body: NO_SESSION });
      const events = await pollUntil(async () => sub.events.filter((e) => e.sessionId === id), (e) => e.length > 0, 5_000);
      expect(events).toEqual([{ userId: alice.id, conversationId: conv.id, sessionId: id, durationSeconds: 899, startedAt, endedAt: lastActivityAt, xp: 14 }]);
      const [row] = await chatSql<{ end_reason: string; ended_ms: number }>(t, `select "end_reason", (extract(epoch from "ended_at") * 1000)::float8 as ended_ms from "chat"."conversation_sessions" where "id" = ?`, [id]);
      expect(row).toEqual({ end_reason: 'timeout', ended_ms: Date.parse(lastActivityAt) });
      const next = await session(conv.id, 'start', alice);
      expect(next.status).toBe(201);
      expect(next.body).toMatchObject({ resumed: false, session_id: expect.not.stringMatching(id) });
    } finally {
      sub.stop();
    }
  });

  it('keeps a session idle for less than the timeout', async () => {
    const conv = await createConversation(t, alice);
    const id = (ok201(await session(conv.id, 'start', alice)) as { session_id: string }).session_id;
    await backdateSession(t, id, 600, 290);
    const res = await status(conv.id, alice);
    expect(res).toMatchObject({ status: 200, body: { active: true, session_id: id } });
    // 600 s, give or take the time this test takes between the two calls.
    expect((res.body as { elapsed_seconds: number }).elapsed_seconds).toBeGreaterThanOrEqual(600);
    expect((res.body as { elapsed_seconds: number }).elapsed_seconds).toBeLessThanOrEqual(605);
  });

  it("answers 404 for another user's conversation on every session endpoint", async () => {
    const conv = await createConversation(t, bob);
    await session(conv.id, 'start', bob);
    for (const action of ['start', 'activity', 'end']) expect(wire(await session(conv.id, action, alice))).toEqual({ status: 404, body: notFoundBody('Conversation') });
    expect(wire(await status(conv.id, alice))).toEqual({ status: 404, body: notFoundBody('Conversation') });
    // Bob's session is untouched.
    expect(await status(conv.id, bob)).toMatchObject({ status: 200, body: { active: true } });
  });

  it('keeps one active session when starts race', async () => {
    const conv = await createConversation(t, alice);
    const results = await Promise.all([1, 2, 3, 4].map(() => session(conv.id, 'start', alice)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 201]);
    expect(new Set(results.map((r) => (r.body as { session_id: string }).session_id)).size).toBe(1);
  });
});

describe('CONV-5 DELETE /api/core/conversations/{id}', () => {
  it('deletes messages and sessions, detaches notes, empties the search index and announces it: 204', async () => {
    const sub = await collectEvents<ConversationDeletedEvent>(t, CONVERSATION_DELETED);
    try {
      const p = await person(t, 'deleter');
      const conv = await createConversation(t, p, { title: 'Zanzibar itinerary' });
      await appendTurns(t, p, conv.id, [{ role: 'user', content: 'zanzibar ferries' }, { role: 'assistant', content: 'Zanzibar ferries leave at dawn.' }]);
      const note = await createNote(t, p, { title: 'Zanzibar packing', conversation_id: conv.id });
      await t.rest('POST', `/api/core/conversations/${conv.id}/session/start`, as(p));
      const before = (await t.rest('GET', '/api/core/search?q=zanzibar', as(p))).body as { conversations: unknown[]; messages: unknown[]; notes: unknown[] };
      expect([before.conversations.length, before.messages.length, before.notes.length]).toEqual([1, 2, 1]);

      const res = await t.rest('DELETE', `/api/core/conversations/${conv.id}`, as(p));
      expect(res.status).toBe(204);
      expect(res.text).toBe('');

      expect(wire(await t.rest('GET', `/api/core/conversations/${conv.id}/messages`, as(p)))).toEqual({ status: 404, body: notFoundBody('Conversation') });
      expect((await t.rest('GET', '/api/core/conversations', as(p))).body).toEqual({ items: [], total: 0, limit: 20, offset: 0 });
      expect((await t.rest('GET', '/api/core/notes', as(p))).body).toEqual({ items: [{ ...note, conversation_id: null }], total: 1, limit: 20, offset: 0 });
      expect((await t.rest('GET', '/api/core/search?q=zanzibar', as(p))).body).toMatchObject({ conversations: [], messages: [], notes: [{ note_id: note.id, conversation_id: null }] });
      const rows = await chatSql<{ n: string | number }>(
        t,
        `select (select count(*) from "chat"."messages" where "conversation_id" = ?) + (select count(*) from "chat"."conversation_sessions" where "conversation_id" = ?) as n`,
        [conv.id, conv.id],
      );
      expect(Number(rows[0]?.n)).toBe(0);
      const events = await pollUntil(async () => sub.events.filter((e) => e.conversationId === conv.id), (e) => e.length > 0, 5_000);
      expect(events).toEqual([{ conversationId: conv.id, userId: p.id }]);
      expect(wire(await t.rest('DELETE', `/api/core/conversations/${conv.id}`, as(p)))).toEqual({ status: 404, body: notFoundBody('Conversation') });
    } finally {
      sub.stop();
    }
  });

  it("answers 404 for another user's conversation and leaves it alone", async () => {
    const conv = await createConversation(t, bob, { title: 'keep me' });
    expect(wire(await t.rest('DELETE', `/api/core/conversations/${conv.id}`, as(alice)))).toEqual({ status: 404, body: notFoundBody('Conversation') });
    expect((await t.rest('GET', `/api/core/conversations/${conv.id}/messages`, as(bob))).status).toBe(200);
  });
});

describe('API keys', () => {
  it('act as their creator and need conversations:read / conversations:write', async () => {
    const p = await person(t, 'keyholder');
    const org = await createOrg(t, p);
    const reader = await createKey(t, p, org.id, ['conversations:read']);
    const writer = await createKey(t, p, org.id, ['conversations:write']);
    const conv = await createConversation(t, p, { title: 'via key' });

    expect(wire(await t.rest('GET', '/api/core/conversations', { headers: apiKey(reader.key) }))).toEqual({ status: 200, body: { items: [conv], total: 1, limit: 20, offset: 0 } });
    expect(wire(await t.rest('POST', '/api/core/conversations', { json: {}, headers: apiKey(reader.key) }))).toEqual({ status: 403, body: scopeMissing('conversations:write', ['conversations:read']) });
    expect(wire(await t.rest('POST', `/api/core/conversations/${conv.id}/session/start`, { headers: apiKey(reader.key) }))).toEqual({
      status: 403,
      body: scopeMissing('conversations:write', ['conversations:read']),
    });
    expect(wire(await t.rest('GET', '/api/core/conversations', { headers: apiKey(writer.key) }))).toEqual({ status: 403, body: scopeMissing('conversations:read', ['conversations:write']) });
    expect(wire(await t.rest('GET', `/api/core/conversations/${conv.id}/session/status`, { headers: apiKey(writer.key) }))).toEqual({
      status: 403,
      body: scopeMissing('conversations:read', ['conversations:write']),
    });
    const created = await t.rest('POST', '/api/core/conversations', { json: { title: 'made by key' }, headers: apiKey(writer.key) });
    expect(created.status).toBe(201);
    // The scope check comes before validation (§1.5).
    expect(wire(await t.rest('GET', '/api/core/conversations/nope/messages', { headers: apiKey(writer.key) }))).toEqual({ status: 403, body: scopeMissing('conversations:read', ['conversations:write']) });
    expect((await t.rest('GET', '/api/core/conversations', as(p))).body).toMatchObject({ total: 2 });
  });
});

function ok201(res: { status: number; body: unknown; text?: string }): unknown {
  if (res.status !== 201) throw new Error(`expected 201, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

