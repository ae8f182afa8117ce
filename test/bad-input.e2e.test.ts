/**
 * Inputs that once gave 500 (issue 11, item 8), through the gateway: a NUL character in any text
 * field is a 422 at the field's `loc` over REST and BAD_USER_INPUT over GraphQL; an unreadable
 * `Content-Type` is 415 in §1.7's shape; several operations without (or with an unknown)
 * `operationName` are 400; a huge `Last-Event-ID` resumes cleanly; an `offset` past GraphQL's
 * 32-bit Int is a 422 that says so. A failing statement is logged without the values in it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestStack, type TestStack } from './harness.ts';
import { coded, createOrg, notFoundBody, person, platformAdmin, UNKNOWN_ID, type Org, type Person } from './org-fixtures.ts';
import { chatSql, createConversation, createNote, type ConversationBody, type NoteBody } from './chat-fixtures.ts';
import { txt, uploadGraphql, uploadRest } from './knowledge-fixtures.ts';
import { parseSse, restCall } from './chat-stream-fixtures.ts';

let t: TestStack;
let alice: Person;
let org: Org;
let conv: ConversationBody;
let note: NoteBody;
/** Every line the stack logs at `error` (one stack per process: PGlite is shared, keys are not). */
const logLines: string[] = [];

beforeAll(async () => {
  t = await startTestStack({ env: { LOG_LEVEL: 'error' }, logStream: { write: (line: string) => void logLines.push(line) } });
  alice = await person(t, 'nul_alice');
  [org, conv] = await Promise.all([createOrg(t, alice), createConversation(t, alice)]);
  note = await createNote(t, alice, { title: 'A note' });
});
afterAll(async () => {
  await t?.close();
});

const NUL = 'a\u0000b';
const as = (p: Person, headers: Record<string, string> = {}) => ({ headers: { ...bearer(p.access), ...headers } });
/** The 422 item for a NUL at `loc` (a value_error, like every other custom check, §1.8). */
const nulItem = (loc: (string | number)[], input: unknown = NUL) => ({
  type: 'value_error',
  loc,
  msg: 'Value error, String should not contain NUL characters',
  input,
  ctx: { error: {} },
});

describe('a NUL character in a text field', () => {
  const jsonCases: [string, string, () => string, () => Record<string, unknown>, (string | number)[]][] = [
    ['conversation title', 'POST', () => '/api/core/conversations', () => ({ title: NUL }), ['body', 'title']],
    ['note title', 'POST', () => '/api/core/notes', () => ({ title: NUL }), ['body', 'title']],
    ['note content', 'POST', () => '/api/core/notes', () => ({ title: 'ok', content: NUL }), ['body', 'content']],
    ['note tag', 'POST', () => '/api/core/notes', () => ({ title: 'ok', tags: ['x', NUL] }), ['body', 'tags', 1]],
    ['note update', 'PUT', () => `/api/core/notes/${note.id}`, () => ({ content: NUL }), ['body', 'content']],
    ['organization name', 'POST', () => '/api/organizations', () => ({ name: NUL }), ['body', 'name']],
    ['organization description', 'PATCH', () => `/api/organizations/${org.id}`, () => ({ description: NUL }), ['body', 'description']],
    ['full_name', 'PATCH', () => '/api/auth/me', () => ({ full_name: NUL }), ['body', 'full_name']],
    ['API key name', 'POST', () => '/api/api-keys', () => ({ name: NUL, organization_id: org.id, scopes: ['conversations:read'] }), ['body', 'name']],
    ['chat message', 'POST', () => '/api/core/chat', () => ({ message: NUL, conversation_id: conv.id }), ['body', 'message']],
    ['knowledge search', 'POST', () => '/api/knowledge/search', () => ({ query: NUL }), ['body', 'query']],
    ['RAG query', 'POST', () => '/api/rag/query', () => ({ query: NUL }), ['body', 'query']],
    ['member email', 'POST', () => `/api/organizations/${org.id}/members`, () => ({ email: NUL }), ['body', 'email']],
  ];

  it.each(jsonCases)('REST %s → 422 at its loc', async (_name, method, path, json, loc) => {
    const res = await t.rest(method, path(), { json: json(), ...as(alice) });
    expect({ status: res.status, body: res.body }).toEqual({ status: 422, body: { detail: [nulItem(loc)] } });
  });

  it('REST registration full_name and the login username (a form) → 422 at their loc', async () => {
    const register = await t.rest('POST', '/api/auth/register', { json: { email: 'nul@example.com', username: 'nul_user', password: 'correct horse', full_name: NUL } });
    expect({ status: register.status, body: register.body }).toEqual({ status: 422, body: { detail: [nulItem(['body', 'full_name'])] } });
    const login = await t.rest('POST', '/api/auth/login', { form: { username: NUL, password: 'whatever1' } });
    expect({ status: login.status, body: login.body }).toEqual({ status: 422, body: { detail: [nulItem(['body', 'username'])] } });
  });

  it('REST search q (a query string) → 422 at ["query", "q"]', async () => {
    const res = await t.rest('GET', '/api/core/search?q=a%00b', as(alice));
    expect({ status: res.status, body: res.body }).toEqual({ status: 422, body: { detail: [nulItem(['query', 'q'])] } });
  });

  it('REST upload title and file name (multipart) → 422 at their loc', async () => {
    const titled = await uploadRest(t.url, alice.access, txt('notes', 'hello world'), { title: NUL });
    expect({ status: titled.status, body: titled.body }).toEqual({ status: 422, body: { detail: [nulItem(['body', 'title'])] } });
    const named = await uploadRest(t.url, alice.access, { name: 'a\u0000.txt', type: 'text/plain', bytes: 'hello world' });
    expect(named.status).toBe(422);
    expect(named.body).toEqual({ detail: [expect.objectContaining({ type: 'value_error', loc: ['body', 'file'] })] });
  });

  const gqlCases: [string, string, Record<string, unknown>, (string | number)[]][] = [
    ['createConversation', 'mutation($input: CreateConversationInput!) { createConversation(input: $input) { conversation { id } } }', { input: { title: NUL } }, ['input', 'title']],
    ['createNote', 'mutation($input: CreateNoteInput!) { createNote(input: $input) { note { id } } }', { input: { title: 'ok', tags: [NUL] } }, ['input', 'tags', 0]],
    ['createOrganization', 'mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id } } }', { input: { name: NUL } }, ['input', 'name']],
    ['updateMe', 'mutation($input: UpdateMeInput!) { updateMe(input: $input) { user { id } } }', { input: { fullName: NUL } }, ['input', 'fullName']],
    ['contentSearch', 'query($input: ContentSearchInput!) { contentSearch(input: $input) { query } }', { input: { query: NUL } }, ['input', 'query']],
    ['login', 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: { username: NUL, password: 'whatever1' } }, ['input', 'username']],
  ];

  it.each(gqlCases)('GraphQL %s → BAD_USER_INPUT with the field', async (_name, query, variables, loc) => {
    const res = await t.gql(query, variables, bearer(alice.access));
    const error = res.body.errors?.[0];
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', status: 422 });
    expect(error?.extensions?.fields).toEqual([expect.objectContaining({ type: 'value_error', loc })]);
  });

  it('GraphQL: a NUL in a literal argument and in an upload title are BAD_USER_INPUT too', async () => {
    const literal = await t.gql('mutation { createConversation(input: { title: "a\\u0000b" }) { conversation { id } } }', undefined, bearer(alice.access));
    expect(literal.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ loc: ['input', 'title'] })] });
    const uploaded = await uploadGraphql(t.url, alice.access, { file: txt('notes', 'hello world'), title: NUL });
    expect(uploaded.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ loc: ['input', 'title'] })] });
  });
});

describe('an unreadable Content-Type on a request with a body', () => {
  const unsupported = (accepted: string[]) => ({ status: 415, body: coded('unsupported_media_type', 'Unsupported file type', { accepted }) });
  const post = async (path: string, contentType: string, body: string, headers: Record<string, string> = bearer(alice.access)) => {
    const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': contentType }, body });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  it.each(['', ' ', ';', 'json', '/json'])('%j on a JSON route → 415 naming application/json', async (contentType) => {
    expect(await post('/api/core/conversations', contentType, '{"title":"x"}')).toEqual(unsupported(['application/json']));
  });

  it('names the form type on the login route and multipart on the upload route', async () => {
    expect(await post('/api/auth/login', '', 'username=a&password=b', {})).toEqual(unsupported(['application/x-www-form-urlencoded']));
    expect(await post('/api/knowledge/documents', '', 'x')).toEqual(unsupported(['multipart/form-data']));
  });

  it('checks credentials first (§1.5)', async () => {
    expect(await post('/api/core/conversations', '', '{}', {})).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
  });

  it('ignores the header when nothing is sent, or on a route that takes no body', async () => {
    const empty = await fetch(`${t.url}/api/core/conversations`, { method: 'POST', headers: { ...bearer(alice.access), 'content-type': '' } });
    expect({ status: empty.status, title: ((await empty.json()) as { title: string }).title }).toEqual({ status: 201, title: 'New conversation' });
    const start = await post(`/api/core/conversations/${conv.id}/session/start`, '', 'ignored');
    expect(start.status).toBe(201);
  });
});

describe('several GraphQL operations in one document', () => {
  const DOC = 'query A { __typename } query B { __typename }';
  const post = async (body: Record<string, unknown>) => {
    const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
  };
  const resolutionFailure = (message: string) => ({ status: 400, body: { errors: [{ message, extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } }] } });

  it('without operationName → 400', async () => {
    expect(await post({ query: DOC })).toEqual(resolutionFailure('Must provide operation name if query contains multiple operations.'));
  });

  it('with an unknown operationName → 400 (POST and GET)', async () => {
    expect(await post({ query: DOC, operationName: 'C' })).toEqual(resolutionFailure('Unknown operation named "C".'));
    expect(await post({ query: '{ __typename }', operationName: 'C' })).toEqual(resolutionFailure('Unknown operation named "C".'));
    const get = await fetch(`${t.url}/graphql?${new URLSearchParams({ query: DOC })}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect({ status: get.status, body: await get.json() }).toEqual(resolutionFailure('Must provide operation name if query contains multiple operations.'));
  });

  it('runs the named one', async () => {
    expect(await post({ query: DOC, operationName: 'B' })).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
  });
});

describe('huge Last-Event-ID on the stream resume', () => {
  it.each(['2147483648', '9007199254740993', '99999999999999999999'])('%s: a clean resume with nothing after it', async (last) => {
    const events = parseSse((await t.rest('POST', '/api/core/chat', { json: { message: 'hi', stream: true }, ...as(alice) })).text).events;
    const streamId = (events[0]?.data as { stream_id: string }).stream_id;
    const res = await restCall(t.url, 'GET', `/api/core/chat/streams/${streamId}`, alice.access, undefined, { 'last-event-id': last }, 5_000);
    expect({ status: res.status, type: res.headers.get('content-type'), text: res.text }).toEqual({ status: 200, type: 'text/event-stream; charset=utf-8', text: '' });
    const unknown = await t.rest('GET', `/api/core/chat/streams/${UNKNOWN_ID}`, as(alice, { 'last-event-id': last }));
    expect({ status: unknown.status, body: unknown.body }).toEqual({ status: 404, body: notFoundBody('Stream') });
  });
});

describe('offset past a 32-bit integer on list endpoints', () => {
  const tooBig = { type: 'less_than_equal', loc: ['query', 'offset'], msg: 'Input should be less than or equal to 2147483647', input: '2147483648', ctx: { le: 2147483647 } };
  const lists = () => ['/api/core/conversations', `/api/core/conversations/${conv.id}/messages`, '/api/core/notes', '/api/knowledge/documents', `/api/organizations/${org.id}/members`];

  it('→ 422 less_than_equal at ["query", "offset"] on every paginated route', async () => {
    for (const path of lists()) {
      const res = await t.rest('GET', `${path}?offset=2147483648`, as(alice));
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 422, body: { detail: [tooBig] } });
    }
  });

  it('the largest 32-bit offset is an empty page; GraphQL refuses a bigger one as BAD_USER_INPUT', async () => {
    const res = await t.rest('GET', '/api/core/conversations?offset=2147483647', as(alice));
    expect({ status: res.status, items: (res.body as { items: unknown[] }).items }).toEqual({ status: 200, items: [] });
    const gql = await t.gql('{ conversations(offset: 2147483648) { total } }', undefined, bearer(alice.access));
    expect(gql.body.errors?.[0]?.extensions?.code).not.toBe('INTERNAL');
    expect(gql.status).toBe(400);
  });
});

describe('a date-time outside years 0001–9999 once in UTC', () => {
  const revocations = '/api/admin/integration-token-revocations';

  it('REST → 422 at its loc, while the same local date with another offset is a date like any other', async () => {
    const admin = await platformAdmin(t);
    for (const [since, year] of [['0001-01-01T00:00:00+14:00', 0], ['9999-12-31T23:59:59-14:00', 10000]] as const) {
      const res = await t.rest('GET', `${revocations}?since=${encodeURIComponent(since)}`, as(admin));
      const error = `year ${year} in UTC is out of range`;
      expect({ status: res.status, body: res.body }).toEqual({
        status: 422,
        body: { detail: [{ type: 'datetime_from_date_parsing', loc: ['query', 'since'], msg: `Input should be a valid datetime or date, ${error}`, input: since, ctx: { error } }] },
      });
    }
    const edge = await t.rest('GET', `${revocations}?since=${encodeURIComponent('0001-01-01T00:00:00Z')}`, as(admin));
    expect({ status: edge.status, body: edge.body }).toEqual({ status: 200, body: { items: [], total: 0, limit: 20, offset: 0 } });
  });

  it('GraphQL → BAD_USER_INPUT from the subgraph\'s scalar, as a variable and as a literal', async () => {
    const admin = await platformAdmin(t);
    const query = 'query($since: DateTime) { integrationTokenRevocations(since: $since) { total } }';
    for (const since of ['0000-12-31T10:00:00.000Z', '+010000-01-01T13:59:59.000Z']) {
      const res = await t.gql(query, { since }, bearer(admin.access));
      expect({ since, codes: res.body.errors?.map((e) => e.extensions?.code), data: res.body.data ?? null }).toEqual({ since, codes: ['BAD_USER_INPUT'], data: null });
    }
    for (const since of ['0000-01-01T00:00:00Z', 'yesterday']) {
      const literal = await t.gql(`{ integrationTokenRevocations(since: "${since}") { total } }`, undefined, bearer(admin.access));
      // The gateway has no scalar parsers: the subgraph refuses the value while the plan executes.
      expect({ status: literal.status, codes: literal.body.errors?.map((e) => e.extensions?.code), message: literal.body.errors?.[0]?.message }).toEqual({
        status: 200,
        codes: ['BAD_USER_INPUT'],
        message: expect.stringMatching(new RegExp(`^Expected value of type "DateTime", found "${since}"; DateTime must`)),
      });
    }
  });
});

describe('error logs', () => {
  it('log a failing statement without the values in it', async () => {
    const bob = await person(t, 'logs_bob');
    // A database fault the user's value runs into (a constraint the schema never had).
    await chatSql(t, "alter table chat.conversations add constraint no_secret check (title <> 'Secret Plan 7731')");
    logLines.length = 0;
    const res = await t.rest('POST', '/api/core/conversations', { json: { title: 'Secret Plan 7731' }, ...as(bob) });
    expect(res.status).toBe(500);
    const text = logLines.join('');
    expect(text).toContain('insert into \\"chat\\".\\"conversations\\"');
    expect(text).toContain('no_secret');
    expect(text).not.toContain('Secret Plan');
    expect(text).not.toContain(bob.id);
  });
});
