/**
 * Notes (CONV-14..17) and user-content search (CONV-11..13) through REST (§3.2, §4.11,
 * §4.12): whole bodies, owner-only visibility, word-prefix matching with `<mark>` highlights,
 * typo tolerance, ranking, synchronous indexing, and the admin status and reindex.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestStack } from './harness.ts';
import { as, apiKey, createKey, createOrg, person, platformAdmin, scopeMissing, type Person } from './org-fixtures.ts';
import { appendTurns, chatSql, createConversation, createNote, type NoteBody } from './chat-fixtures.ts';
import { coded, notFoundBody, TIMESTAMP, UNKNOWN_ID, UUID_V4, wire } from './assertions.ts';

const t = useTestStack();
let alice: Person;
let bob: Person;
beforeAll(async () => {
  [alice, bob] = await Promise.all([person(t, 'alice'), person(t, 'bob')]);
});

const search = (p: Person, query: string) => t.rest('GET', `/api/core/search?${query}`, as(p));
const ADMIN_REQUIRED = coded('admin_required', 'Administrator role required');

describe('CONV-15 POST /api/core/notes', () => {
  it('creates a note: 201 with the whole NoteResponse, duplicate tags removed', async () => {
    const conv = await createConversation(t, alice);
    const res = await t.rest('POST', '/api/core/notes', { json: { title: 'Ideas', content: 'Write more tests', conversation_id: conv.id, tags: ['work', 'todo', 'work'] }, ...as(alice) });
    const body = res.body as NoteBody;
    expect(wire(res)).toEqual({
      status: 201,
      body: { id: expect.stringMatching(UUID_V4), title: 'Ideas', content: 'Write more tests', conversation_id: conv.id, tags: ['work', 'todo'], created_at: expect.stringMatching(TIMESTAMP), updated_at: body.created_at },
    });
  });

  it('defaults content to "", conversation_id to null and tags to []', async () => {
    expect(await createNote(t, alice, { title: 'Bare' })).toMatchObject({ title: 'Bare', content: '', conversation_id: null, tags: [] });
  });

  it('validates title and tags: 422', async () => {
    expect(wire(await t.rest('POST', '/api/core/notes', { json: { content: 'x' }, ...as(alice) }))).toEqual({
      status: 422,
      body: { detail: [{ type: 'missing', loc: ['body', 'title'], msg: 'Field required', input: { content: 'x' } }] },
    });
    const res = await t.rest('POST', '/api/core/notes', { json: { title: 't', tags: ['ok', '', 'x'.repeat(51)] }, ...as(alice) });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      detail: [
        { type: 'string_too_short', loc: ['body', 'tags', 1], ctx: { min_length: 1 } },
        { type: 'string_too_long', loc: ['body', 'tags', 2], ctx: { max_length: 50 } },
      ],
    });
    const many = Array.from({ length: 21 }, (_, i) => `t${i}`);
    expect((await t.rest('POST', '/api/core/notes', { json: { title: 't', tags: many }, ...as(alice) })).body).toMatchObject({
      detail: [{ type: 'too_long', loc: ['body', 'tags'], ctx: { max_length: 20 } }],
    });
  });

  it("answers 404 for a conversation_id that is not the caller's", async () => {
    const theirs = await createConversation(t, bob);
    for (const id of [theirs.id, UNKNOWN_ID]) {
      expect(wire(await t.rest('POST', '/api/core/notes', { json: { title: 'x', conversation_id: id }, ...as(alice) }))).toEqual({ status: 404, body: notFoundBody('Conversation') });
    }
  });
});

describe('CONV-14 GET /api/core/notes', () => {
  it("lists the caller's notes, most recently updated first, optionally one conversation's", async () => {
    const p = await person(t, 'noter');
    const conv = await createConversation(t, p);
    const first = await createNote(t, p, { title: 'first', conversation_id: conv.id });
    const second = await createNote(t, p, { title: 'second' });
    const third = await createNote(t, p, { title: 'third', conversation_id: conv.id });
    const touched = (await t.rest('PUT', `/api/core/notes/${first.id}`, { json: { content: 'edited' }, ...as(p) })).body as NoteBody;
    expect(wire(await t.rest('GET', '/api/core/notes', as(p)))).toEqual({ status: 200, body: { items: [touched, third, second], total: 3, limit: 20, offset: 0 } });
    expect((await t.rest('GET', `/api/core/notes?conversation_id=${conv.id}&limit=1&offset=1`, as(p))).body).toEqual({ items: [third], total: 2, limit: 1, offset: 1 });
  });

  it("answers 404 when filtering by another user's conversation, 422 for a malformed one", async () => {
    const theirs = await createConversation(t, bob);
    expect(wire(await t.rest('GET', `/api/core/notes?conversation_id=${theirs.id}`, as(alice)))).toEqual({ status: 404, body: notFoundBody('Conversation') });
    expect((await t.rest('GET', '/api/core/notes?conversation_id=abc', as(alice))).body).toMatchObject({ detail: [{ type: 'uuid_parsing', loc: ['query', 'conversation_id'] }] });
  });
});

describe('CONV-16 PUT /api/core/notes/{id}', () => {
  it('changes only the fields given; conversation_id null detaches', async () => {
    const conv = await createConversation(t, alice);
    const note = await createNote(t, alice, { title: 'Old', content: 'body', conversation_id: conv.id, tags: ['a'] });
    const renamed = await t.rest('PUT', `/api/core/notes/${note.id}`, { json: { title: 'New', tags: ['b', 'b', 'c'] }, ...as(alice) });
    const body = renamed.body as NoteBody;
    expect(wire(renamed)).toEqual({ status: 200, body: { ...note, title: 'New', tags: ['b', 'c'], updated_at: expect.stringMatching(TIMESTAMP) } });
    expect(Date.parse(body.updated_at)).toBeGreaterThan(Date.parse(note.updated_at));
    expect((await t.rest('PUT', `/api/core/notes/${note.id}`, { json: { conversation_id: null }, ...as(alice) })).body).toMatchObject({ title: 'New', conversation_id: null });
    expect((await t.rest('PUT', `/api/core/notes/${note.id}`, { json: { conversation_id: conv.id }, ...as(alice) })).body).toMatchObject({ conversation_id: conv.id });
  });

  it('treats an empty body, or none, as a no-op that returns the note', async () => {
    const note = await createNote(t, alice, { title: 'Same' });
    expect(wire(await t.rest('PUT', `/api/core/notes/${note.id}`, { json: {}, ...as(alice) }))).toEqual({ status: 200, body: note });
    expect(wire(await t.rest('PUT', `/api/core/notes/${note.id}`, as(alice)))).toEqual({ status: 200, body: note });
    expect(wire(await t.rest('PUT', `/api/core/notes/${note.id}`, { json: { title: 'Same' }, ...as(alice) }))).toEqual({ status: 200, body: note });
  });

  it("answers 404 for another user's note (and for their conversation), 422 for a null title", async () => {
    const mine = await createNote(t, alice, { title: 'mine' });
    const theirs = await createNote(t, bob, { title: 'theirs' });
    const theirConversation = await createConversation(t, bob);
    expect(wire(await t.rest('PUT', `/api/core/notes/${theirs.id}`, { json: { title: 'stolen' }, ...as(alice) }))).toEqual({ status: 404, body: notFoundBody('Note') });
    expect(wire(await t.rest('PUT', `/api/core/notes/${mine.id}`, { json: { conversation_id: theirConversation.id }, ...as(alice) }))).toEqual({ status: 404, body: notFoundBody('Conversation') });
    expect((await t.rest('PUT', `/api/core/notes/${mine.id}`, { json: { title: null }, ...as(alice) })).body).toMatchObject({ detail: [{ type: 'string_type', loc: ['body', 'title'] }] });
    expect((await t.rest('GET', '/api/core/notes', as(bob))).body).toMatchObject({ items: expect.arrayContaining([expect.objectContaining({ id: theirs.id, title: 'theirs' })]) });
  });
});

describe('CONV-17 DELETE /api/core/notes/{id}', () => {
  it('deletes: 204, then 404; another user gets 404', async () => {
    const note = await createNote(t, alice, { title: 'Ephemeral' });
    expect(wire(await t.rest('DELETE', `/api/core/notes/${note.id}`, as(bob)))).toEqual({ status: 404, body: notFoundBody('Note') });
    const res = await t.rest('DELETE', `/api/core/notes/${note.id}`, as(alice));
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(wire(await t.rest('DELETE', `/api/core/notes/${note.id}`, as(alice)))).toEqual({ status: 404, body: notFoundBody('Note') });
  });
});

describe('CONV-11 GET /api/core/search', () => {
  let me: Person;
  let k8s: { id: string; updated_at: string };
  let porto: { id: string; updated_at: string };
  beforeAll(async () => {
    me = await person(t, 'searcher');
    k8s = await createConversation(t, me, { title: 'Kubernetes cluster upgrade' });
    porto = await createConversation(t, me, { title: 'Weekend in Porto' });
    await appendTurns(t, me, k8s.id, [
      { role: 'user', content: 'How do I drain a kubelet node safely?' },
      { role: 'assistant', content: 'Cordon it first, then drain it: kubectl drain node-1', provider: 'local', model: 'local-grounded-1' },
    ]);
    await createNote(t, me, { title: 'Porto restaurants', content: 'Try the francesinha near Ribeira' });
  });

  it('matches every word as a word prefix, case-insensitively, with highlights', async () => {
    const res = await search(me, 'q=KUBE%20drain');
    expect(res.status).toBe(200);
    const body = res.body as { messages: { snippet: string; score: number; created_at: string }[] };
    expect(res.body).toEqual({
      query: 'KUBE drain',
      conversations: [],
      messages: [expect.any(Object), expect.any(Object)],
      notes: [],
    });
    const snippets = body.messages.map((m) => m.snippet).sort();
    expect(snippets).toEqual([
      'Cordon it first, then <mark>drain</mark> it: <mark>kubectl</mark> <mark>drain</mark> node-1',
      'How do I <mark>drain</mark> a <mark>kubelet</mark> node safely?',
    ]);
    for (const m of body.messages) {
      expect(m.score).toBeGreaterThan(0);
      expect(m.score).toBeLessThanOrEqual(1);
    }
  });

  it('returns the whole result shapes', async () => {
    const res = await search(me, 'q=porto');
    expect(wire(res)).toEqual({
      status: 200,
      body: {
        query: 'porto',
        conversations: [{ conversation_id: porto.id, title: 'Weekend in Porto', highlight: 'Weekend in <mark>Porto</mark>', score: expect.any(Number), updated_at: porto.updated_at }],
        messages: [],
        notes: [{ note_id: expect.stringMatching(UUID_V4), conversation_id: null, title: 'Porto restaurants', snippet: '<mark>Porto</mark> restaurants', score: expect.any(Number), updated_at: expect.stringMatching(TIMESTAMP) }],
      },
    });
    const msg = ((await search(me, 'q=cordon&types=messages')).body as { messages: unknown[] }).messages;
    expect(msg).toEqual([
      {
        message_id: expect.stringMatching(UUID_V4),
        conversation_id: k8s.id,
        conversation_title: 'Kubernetes cluster upgrade',
        role: 'assistant',
        snippet: '<mark>Cordon</mark> it first, then drain it: kubectl drain node-1',
        score: expect.any(Number),
        created_at: expect.stringMatching(TIMESTAMP),
      },
    ]);
  });

  it('matches prefixes, not the middle of words (unless typo tolerance finds the word similar)', async () => {
    expect((await search(me, 'q=ber')).body).toEqual({ query: 'ber', conversations: [], messages: [], notes: [] });
    expect((await search(me, 'q=kubernetes%20ber')).body).toEqual({ query: 'kubernetes ber', conversations: [], messages: [], notes: [] });
  });

  it('finds a misspelled word, scoring it below an exact match', async () => {
    const typo = (await search(me, 'q=kubernetse')).body as { conversations: { conversation_id: string; highlight: string; score: number }[] };
    expect(typo.conversations).toEqual([expect.objectContaining({ conversation_id: k8s.id, highlight: '<mark>Kubernetes</mark> cluster upgrade' })]);
    const exact = (await search(me, 'q=kubernetes')).body as { conversations: { score: number }[] };
    expect(exact.conversations[0]?.score).toBeGreaterThan(typo.conversations[0]?.score ?? 1);
    expect(((await search(me, 'q=restaurnts&types=notes')).body as { notes: { title: string }[] }).notes.map((n) => n.title)).toEqual(['Porto restaurants']);
  });

  it('ranks denser matches first, then newer records', async () => {
    const p = await person(t, 'ranker');
    const conv = await createConversation(t, p, { title: 'ranking' });
    const [sparse, dense, twin1, twin2] = await appendTurns(t, p, conv.id, [
      { role: 'user', content: 'please drain the pool some day when there is time' },
      { role: 'user', content: 'drain drain drain' },
      { role: 'user', content: 'twin drain' },
      { role: 'user', content: 'twin drain' },
    ]);
    const ids = ((await search(p, 'q=drain&types=messages')).body as { messages: { message_id: string }[] }).messages.map((m) => m.message_id);
    expect(ids).toEqual([dense?.id, twin2?.id, twin1?.id, sparse?.id]);
  });

  it('cuts a snippet to at most 200 characters around the first match', async () => {
    const p = await person(t, 'snipper');
    const conv = await createConversation(t, p);
    const filler = (n: number) => Array.from({ length: n }, (_, i) => `filler${i}`).join(' ');
    await appendTurns(t, p, conv.id, [{ role: 'user', content: `${filler(80)} needle in the haystack ${filler(80)}` }]);
    const [hit] = ((await search(p, 'q=needle')).body as { messages: { snippet: string }[] }).messages;
    expect(hit?.snippet.length).toBeLessThanOrEqual(200);
    expect(hit?.snippet.length).toBeGreaterThan(150);
    expect(hit?.snippet).toContain('<mark>needle</mark> in the haystack filler0 filler1');
    expect(hit?.snippet.startsWith('filler0 ')).toBe(false);
  });

  it('searches only the groups in `types`, at most `limit` per group', async () => {
    expect((await search(me, 'q=porto&types=notes')).body).toMatchObject({ conversations: [], messages: [], notes: [{ title: 'Porto restaurants' }] });
    expect((await search(me, 'q=porto&types=conversations,%20notes')).body).toMatchObject({ conversations: [{ title: 'Weekend in Porto' }], notes: [{ title: 'Porto restaurants' }] });
    expect(((await search(me, 'q=drain&limit=1')).body as { messages: unknown[] }).messages).toHaveLength(1);
  });

  it("never returns another user's content", async () => {
    expect((await search(bob, 'q=porto')).body).toEqual({ query: 'porto', conversations: [], messages: [], notes: [] });
    expect((await search(bob, 'q=kubernetse')).body).toEqual({ query: 'kubernetse', conversations: [], messages: [], notes: [] });
  });

  it('indexes writes synchronously: a change is searchable, a deletion gone, in the next request', async () => {
    const note = await createNote(t, me, { title: 'Quokka facts' });
    expect(((await search(me, 'q=quokka')).body as { notes: unknown[] }).notes).toHaveLength(1);
    await t.rest('PUT', `/api/core/notes/${note.id}`, { json: { title: 'Wombat facts' }, ...as(me) });
    expect(((await search(me, 'q=quokka')).body as { notes: unknown[] }).notes).toHaveLength(0);
    expect(((await search(me, 'q=wombat')).body as { notes: unknown[] }).notes).toHaveLength(1);
    await t.rest('DELETE', `/api/core/notes/${note.id}`, as(me));
    expect(((await search(me, 'q=wombat')).body as { notes: unknown[] }).notes).toHaveLength(0);
  });

  it('validates q, types and limit: 422', async () => {
    expect(wire(await search(me, 'types=notes'))).toEqual({ status: 422, body: { detail: [{ type: 'missing', loc: ['query', 'q'], msg: 'Field required', input: null }] } });
    expect((await search(me, 'q=%20%20%20')).body).toMatchObject({ detail: [{ type: 'string_too_short', loc: ['query', 'q'], ctx: { min_length: 1 } }] });
    expect((await search(me, `q=${'a'.repeat(201)}`)).body).toMatchObject({ detail: [{ type: 'string_too_long', loc: ['query', 'q'], ctx: { max_length: 200 } }] });
    expect(wire(await search(me, 'q=x&types=notes,files'))).toEqual({
      status: 422,
      body: { detail: [{ type: 'value_error', loc: ['query', 'types'], msg: "Value error, unknown type 'files'; expected a comma-separated subset of conversations, messages, notes", input: 'notes,files', ctx: { error: {} } }] },
    });
    expect((await search(me, 'q=x&limit=0')).body).toMatchObject({ detail: [{ type: 'greater_than_equal', loc: ['query', 'limit'] }] });
  });
});

describe('CONV-12 / CONV-13 search status and reindex (admin)', () => {
  const counts = async (userId?: string) => {
    const where = userId ? ` where "user_id" = '${userId}'` : '';
    const [row] = await chatSql<Record<'conversations' | 'messages' | 'notes', string | number>>(
      t,
      `select (select count(*) from "chat"."conversations"${where}) as conversations, (select count(*) from "chat"."messages"${where}) as messages, (select count(*) from "chat"."notes"${where}) as notes`,
    );
    return { conversations: Number(row?.conversations), messages: Number(row?.messages), notes: Number(row?.notes) };
  };

  it('are for platform admins only: 403 admin_required', async () => {
    expect(wire(await t.rest('GET', '/api/core/search/status', as(alice)))).toEqual({ status: 403, body: ADMIN_REQUIRED });
    expect(wire(await t.rest('POST', '/api/core/search/reindex', { json: {}, ...as(alice) }))).toEqual({ status: 403, body: ADMIN_REQUIRED });
  });

  it('reports one document per record and rebuilds everything synchronously', async () => {
    const admin = await platformAdmin(t);
    const expected = await counts();
    const status = await t.rest('GET', '/api/core/search/status', as(admin));
    expect(wire(status)).toEqual({
      status: 200,
      body: {
        backend: 'postgres',
        healthy: true,
        collections: [
          { name: 'conversations', document_count: expected.conversations },
          { name: 'messages', document_count: expected.messages },
          { name: 'notes', document_count: expected.notes },
        ],
        last_reindex_at: null,
        reindex_running: false,
      },
    });
    const res = await t.rest('POST', '/api/core/search/reindex', as(admin));
    const body = res.body as { started_at: string; finished_at: string; duration_ms: number };
    expect(wire(res)).toEqual({
      status: 200,
      body: { status: 'completed', collections: ['conversations', 'messages', 'notes'], indexed: expected, started_at: expect.stringMatching(TIMESTAMP), finished_at: expect.stringMatching(TIMESTAMP), duration_ms: expect.any(Number) },
    });
    expect(body.duration_ms).toBe(Date.parse(body.finished_at) - Date.parse(body.started_at));
    expect((await t.rest('GET', '/api/core/search/status', as(admin))).body).toMatchObject({ last_reindex_at: body.finished_at, reindex_running: false });
  });

  it("rebuilds one user's named collections, restoring a damaged index", async () => {
    const admin = await platformAdmin(t);
    const p = await person(t, 'restored');
    const conv = await createConversation(t, p, { title: 'Axolotl care' });
    await appendTurns(t, p, conv.id, [{ role: 'user', content: 'axolotl water temperature' }]);
    await createNote(t, p, { title: 'Axolotl shopping' });
    await chatSql(t, `delete from "chat"."search_index" where "user_id" = ?`, [p.id]);
    expect((await search(p, 'q=axolotl')).body).toMatchObject({ conversations: [], messages: [], notes: [] });

    const partial = await t.rest('POST', '/api/core/search/reindex', { json: { collections: ['notes', 'messages'], user_id: p.id }, ...as(admin) });
    expect(partial).toMatchObject({ status: 200, body: { collections: ['messages', 'notes'], indexed: { conversations: 0, messages: 1, notes: 1 } } });
    expect((await search(p, 'q=axolotl')).body).toMatchObject({ conversations: [], messages: [{ snippet: '<mark>axolotl</mark> water temperature' }], notes: [{ title: 'Axolotl shopping' }] });
    expect((await t.rest('POST', '/api/core/search/reindex', { json: { user_id: p.id }, ...as(admin) })).body).toMatchObject({ indexed: await counts(p.id) });
    expect(((await search(p, 'q=axolotl')).body as { conversations: unknown[] }).conversations).toHaveLength(1);
  });

  it('answers 404 for an unknown user_id and 422 for malformed input', async () => {
    const admin = await platformAdmin(t);
    expect(wire(await t.rest('POST', '/api/core/search/reindex', { json: { user_id: UNKNOWN_ID }, ...as(admin) }))).toEqual({ status: 404, body: notFoundBody('User') });
    expect((await t.rest('POST', '/api/core/search/reindex', { json: { user_id: 'x', collections: ['files'] }, ...as(admin) })).body).toMatchObject({
      detail: [
        { type: 'enum', loc: ['body', 'collections', 0] },
        { type: 'uuid_parsing', loc: ['body', 'user_id'] },
      ],
    });
  });

  it('answers 409 reindex_in_progress while another reindex holds the claim (a stale claim does not block)', async () => {
    const admin = await platformAdmin(t);
    await chatSql(t, `update "chat"."search_state" set "reindex_started_at" = ? where "id" = 1`, [new Date()]);
    try {
      expect(wire(await t.rest('POST', '/api/core/search/reindex', as(admin)))).toEqual({ status: 409, body: coded('reindex_in_progress', 'A reindex is already running') });
      expect((await t.rest('GET', '/api/core/search/status', as(admin))).body).toMatchObject({ reindex_running: true });
      await chatSql(t, `update "chat"."search_state" set "reindex_started_at" = ? where "id" = 1`, [new Date(Date.now() - 20 * 60_000)]);
      expect((await t.rest('GET', '/api/core/search/status', as(admin))).body).toMatchObject({ reindex_running: false });
      expect((await t.rest('POST', '/api/core/search/reindex', as(admin))).status).toBe(200);
    } finally {
      await chatSql(t, `update "chat"."search_state" set "reindex_started_at" = null where "id" = 1`);
    }
  });

  it("accepts an admin's API key with api:read (status) and api:write or api:admin (reindex)", async () => {
    const admin = await platformAdmin(t);
    const org = await createOrg(t, admin);
    const reader = await createKey(t, admin, org.id, ['api:read']);
    const full = await createKey(t, admin, org.id, ['api:admin']);
    expect((await t.rest('GET', '/api/core/search/status', { headers: apiKey(reader.key) })).status).toBe(200);
    expect(wire(await t.rest('POST', '/api/core/search/reindex', { headers: apiKey(reader.key) }))).toEqual({ status: 403, body: scopeMissing('api:write', ['api:read']) });
    expect((await t.rest('POST', '/api/core/search/reindex', { json: { collections: ['conversations'] }, headers: apiKey(full.key) })).status).toBe(200);
    const userOrg = await createOrg(t, alice);
    const userKey = await createKey(t, alice, userOrg.id, ['api:read']);
    expect(wire(await t.rest('GET', '/api/core/search/status', { headers: apiKey(userKey.key) }))).toEqual({ status: 403, body: ADMIN_REQUIRED });
  });
});
