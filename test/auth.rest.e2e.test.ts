/**
 * AUTH-1, AUTH-2 and AUTH-6 through REST, plus the generic REST conventions (404/405, request id,
 * caching). Token lifecycle (AUTH-3/4/5) is in auth-tokens.rest.e2e.test.ts. §1, §3.1, §4.1.
 */
import { describe, expect, it } from 'vitest';
import { bearer, newUser, registerAndLogin, type RestResponse, useTestStack } from './harness.ts';
import { claimsOf } from './token-forge.ts';
import { coded, prop, REFRESH, TIMESTAMP, userProfile, UUID_V4 } from './assertions.ts';

const USERNAME_PATTERN = '^[a-z0-9_]{3,30}$';

const t = useTestStack();


function expectJson(res: RestResponse): void {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('x-request-id')).toMatch(UUID_V4);
}

const register = (json: unknown) => t.rest('POST', '/api/auth/register', { json });
const login = (form: Record<string, string>) => t.rest('POST', '/api/auth/login', { form });

describe('AUTH-1 POST /api/auth/register', () => {
  it('creates a user and returns the whole profile with 201', async () => {
    const u = newUser('reg');
    const res = await register(u);
    expect(res.status).toBe(201);
    expectJson(res);
    expect(res.body).toEqual(userProfile(u));
    expect(prop(res.body, 'created_at')).toBe(prop(res.body, 'updated_at'));
    // The stored account is the one returned.
    const tokens = await login({ username: u.username, password: u.password });
    const me = await t.rest('GET', '/api/auth/me', { headers: bearer(prop(tokens.body, 'access_token')) });
    expect(me.status).toBe(200);
    expect(me.body).toEqual(res.body);
  });

  it('lowercases email and username', async () => {
    const u = newUser('case');
    const res = await register({ ...u, email: u.email.toUpperCase(), username: u.username.toUpperCase() });
    expect(res.status).toBe(201);
    expect(res.body).toEqual(userProfile(u));
    expect(prop(res.body, 'email')).toBe(u.email);
  });

  it('stores the optional fields', async () => {
    const u = newUser('opt');
    const res = await register({ ...u, full_name: 'Ana Maria Silva', timezone: 'Europe/Lisbon', preferred_language: 'pt-BR' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual(userProfile(u, { full_name: 'Ana Maria Silva', timezone: 'Europe/Lisbon', preferred_language: 'pt-BR' }));
  });

  it('makes an email listed in XENTREE_ADMIN_EMAILS a platform admin', async () => {
    const u = { ...newUser('adm'), email: 'Admin@Xentree.TEST' };
    const res = await register(u);
    expect(res.status).toBe(201);
    expect(res.body).toEqual(userProfile(u, { email: 'admin@xentree.test', role: 'admin' }));
  });

  it('ignores unknown fields, including role and plan', async () => {
    const u = newUser('extra');
    const res = await register({ ...u, role: 'admin', plan: 'pro', live_nickname: 'x', avatar_url: 'https://x.test/a.png', something: [1, 2] });
    expect(res.status).toBe(201);
    expect(res.body).toEqual(userProfile(u));
  });

  it('rejects a duplicate email, whatever its case, with 409 email_taken', async () => {
    const u = newUser('dupe');
    expect((await register(u)).status).toBe(201);
    const res = await register({ ...newUser('dupe2'), email: u.email.toUpperCase() });
    expect(res.status).toBe(409);
    expectJson(res);
    expect(res.body).toEqual(coded('email_taken', 'Email is already registered'));
  });

  it('rejects a duplicate username, whatever its case, with 409 username_taken', async () => {
    const u = newUser('dupu');
    expect((await register(u)).status).toBe(201);
    const res = await register({ ...newUser('dupu2'), username: u.username.toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.body).toEqual(coded('username_taken', 'Username is already taken'));
  });

  it('concurrent duplicates: exactly one 201, the others 409', async () => {
    const u = newUser('race');
    const byEmail = await Promise.all([1, 2, 3].map((i) => register({ ...newUser(`race${i}`), email: u.email })));
    expect(byEmail.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    for (const r of byEmail.filter((x) => x.status === 409)) expect(r.body).toEqual(coded('email_taken', 'Email is already registered'));
    const byName = await Promise.all([1, 2, 3].map((i) => register({ ...newUser(`racu${i}`), username: u.username })));
    expect(byName.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    for (const r of byName.filter((x) => x.status === 409)) expect(r.body).toEqual(coded('username_taken', 'Username is already taken'));
  });

  it('422: password shorter than 8 characters', async () => {
    const res = await register({ ...newUser('pw'), password: 'abc' });
    expect(res.status).toBe(422);
    expectJson(res);
    expect(res.body).toEqual({
      detail: [{ type: 'string_too_short', loc: ['body', 'password'], msg: 'String should have at least 8 characters', input: 'abc', ctx: { min_length: 8 } }],
    });
  });

  it('422: password longer than 128 characters', async () => {
    const long = 'p'.repeat(129);
    const res = await register({ ...newUser('pwl'), password: long });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      detail: [{ type: 'string_too_long', loc: ['body', 'password'], msg: 'String should have at most 128 characters', input: long, ctx: { max_length: 128 } }],
    });
  });

  it('422: a malformed email is a value_error', async () => {
    const res = await register({ ...newUser('em'), email: 'not-an-email' });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      detail: [{ type: 'value_error', loc: ['body', 'email'], msg: expect.stringMatching(/^Value error, /), input: 'not-an-email', ctx: { error: {} } }],
    });
  });

  it('422: a username outside the pattern is string_pattern_mismatch', async () => {
    const res = await register({ ...newUser('un'), username: 'A!' });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      detail: [
        { type: 'string_pattern_mismatch', loc: ['body', 'username'], msg: `String should match pattern '${USERNAME_PATTERN}'`, input: 'A!', ctx: { pattern: USERNAME_PATTERN } },
      ],
    });
  });

  it('422: an unknown time zone and a bad language tag', async () => {
    const res = await register({ ...newUser('tz'), timezone: 'Mars/Olympus_Mons', preferred_language: 'PT-br' });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      detail: [
        { type: 'value_error', loc: ['body', 'timezone'], msg: expect.stringMatching(/^Value error, /), input: 'Mars/Olympus_Mons', ctx: { error: {} } },
        {
          type: 'string_pattern_mismatch',
          loc: ['body', 'preferred_language'],
          msg: "String should match pattern '^[a-z]{2}(-[A-Z]{2})?$'",
          input: 'PT-br',
          ctx: { pattern: '^[a-z]{2}(-[A-Z]{2})?$' },
        },
      ],
    });
  });

  it('422: a missing field reports the enclosing object as input', async () => {
    const body = { email: newUser('miss').email, username: 'whatever_name' };
    const res = await register(body);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ detail: [{ type: 'missing', loc: ['body', 'password'], msg: 'Field required', input: body }] });
  });

  it('422: every failing field is reported, in schema order', async () => {
    const res = await register({ password: 1 });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      detail: [
        { type: 'missing', loc: ['body', 'email'], msg: 'Field required', input: { password: 1 } },
        { type: 'missing', loc: ['body', 'username'], msg: 'Field required', input: { password: 1 } },
        { type: 'string_type', loc: ['body', 'password'], msg: 'Input should be a valid string', input: 1 },
      ],
    });
  });

  it('422: no body at all is one missing item at ["body"]', async () => {
    const res = await t.rest('POST', '/api/auth/register', { headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] });
  });

  it('422: invalid JSON is json_invalid at its character position', async () => {
    const res = await t.rest('POST', '/api/auth/register', { raw: '{"email": }' });
    expect(res.status).toBe(422);
    expectJson(res);
    expect(res.body).toEqual({ detail: [{ type: 'json_invalid', loc: ['body', 10], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } }] });
  });
});

describe('AUTH-2 POST /api/auth/login', () => {
  it('returns a TokenResponse with no-store, and an ES256 access token of 900 s', async () => {
    const u = newUser('login');
    const id = prop((await register(u)).body, 'id');
    const before = Math.floor(Date.now() / 1000);
    const res = await login({ username: u.username, password: u.password });
    expect(res.status).toBe(200);
    expectJson(res);
    expect(res.body).toEqual({ access_token: expect.stringMatching(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/), token_type: 'bearer', refresh_token: expect.stringMatching(REFRESH) });
    const access = prop(res.body, 'access_token');
    const claims = claimsOf(access);
    expect(claims).toEqual({ sub: id, sid: expect.stringMatching(UUID_V4), type: 'access', jti: expect.stringMatching(UUID_V4), iat: expect.any(Number), exp: expect.any(Number) });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
    expect(Number(claims.iat)).toBeGreaterThanOrEqual(before - 1);
    expect(Number(claims.iat)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
    const header: unknown = JSON.parse(Buffer.from(access.split('.')[0] ?? '', 'base64url').toString('utf8'));
    expect(header).toEqual({ alg: 'ES256', kid: expect.stringMatching(/^\S+$/), typ: 'JWT' });
  });

  it('accepts the email or the username, case-insensitively; each login starts a new family', async () => {
    const u = newUser('li');
    expect((await register(u)).status).toBe(201);
    const sids = new Set<unknown>();
    for (const username of [u.email, u.email.toUpperCase(), u.username.toUpperCase()]) {
      const res = await login({ username, password: u.password });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ access_token: expect.stringMatching(/^eyJ/), token_type: 'bearer', refresh_token: expect.stringMatching(REFRESH) });
      sids.add(claimsOf(prop(res.body, 'access_token')).sid);
    }
    expect(sids.size).toBe(3);
  });

  it('gives the same 401 for a wrong password and an unknown user', async () => {
    const u = newUser('bad');
    expect((await register(u)).status).toBe(201);
    const wrong = await login({ username: u.username, password: 'wrong password!' });
    const unknown = await login({ username: `nobody_${u.username}`.slice(0, 30), password: u.password });
    const caseOfPassword = await login({ username: u.username, password: u.password.toUpperCase() });
    for (const res of [wrong, unknown, caseOfPassword]) {
      expect(res.status).toBe(401);
      expectJson(res);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.body).toEqual(coded('invalid_credentials', 'Incorrect username or password'));
    }
    expect(unknown.text).toBe(wrong.text);
  });

  it('422: a missing password', async () => {
    const res = await login({ username: 'someone' });
    expect(res.status).toBe(422);
    expectJson(res);
    expect(res.body).toEqual({ detail: [{ type: 'missing', loc: ['body', 'password'], msg: 'Field required', input: null }] });
  });

  it('422: grant_type other than "password"', async () => {
    const res = await login({ username: 'someone', password: 'whatever1', grant_type: 'client_credentials' });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      detail: [{ type: 'string_pattern_mismatch', loc: ['body', 'grant_type'], msg: "String should match pattern '^password$'", input: 'client_credentials', ctx: { pattern: '^password$' } }],
    });
  });

  it('accepts grant_type=password and ignores scope, client_id and client_secret', async () => {
    const u = newUser('gt');
    expect((await register(u)).status).toBe(201);
    const res = await login({ username: u.username, password: u.password, grant_type: 'password', scope: 'a b', client_id: 'c', client_secret: 'd' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ access_token: expect.stringMatching(/^eyJ/), token_type: 'bearer', refresh_token: expect.stringMatching(REFRESH) });
  });

  it('422: a JSON body is not a form, so both fields are missing', async () => {
    const u = newUser('json');
    expect((await register(u)).status).toBe(201);
    const res = await t.rest('POST', '/api/auth/login', { json: { username: u.username, password: u.password } });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      detail: [
        { type: 'missing', loc: ['body', 'username'], msg: 'Field required', input: null },
        { type: 'missing', loc: ['body', 'password'], msg: 'Field required', input: null },
      ],
    });
  });
});

describe('AUTH-6 PATCH /api/auth/me', () => {
  const me = (access: string) => t.rest('GET', '/api/auth/me', { headers: bearer(access) });
  const patch = (access: string, json: unknown) => t.rest('PATCH', '/api/auth/me', { json, headers: bearer(access) });

  it('an empty body changes nothing, not even updated_at', async () => {
    const u = await registerAndLogin(t, 'pe');
    const current = await me(u.access);
    const res = await patch(u.access, {});
    expect(res.status).toBe(200);
    expectJson(res);
    expect(res.body).toEqual(current.body);
    expect(res.body).toEqual(userProfile(u.user, { id: u.id }));
  });

  it('sets full_name (bumping updated_at), then null clears it', async () => {
    const u = await registerAndLogin(t, 'pf');
    const before = await me(u.access);
    const set = await patch(u.access, { full_name: 'Grace Hopper' });
    expect(set.status).toBe(200);
    expect(set.body).toEqual(userProfile(u.user, { id: u.id, full_name: 'Grace Hopper', created_at: prop(before.body, 'created_at') }));
    expect(Date.parse(prop(set.body, 'updated_at'))).toBeGreaterThan(Date.parse(prop(before.body, 'updated_at')));
    const cleared = await patch(u.access, { full_name: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toEqual(userProfile(u.user, { id: u.id, full_name: null, created_at: prop(before.body, 'created_at') }));
    expect((await me(u.access)).body).toEqual(cleared.body);
  });

  it('updates every other editable field at once', async () => {
    const u = await registerAndLogin(t, 'pa');
    const res = await patch(u.access, {
      timezone: 'America/Sao_Paulo',
      preferred_language: 'fr',
      avatar_url: 'https://cdn.example.com/a.png',
      public_profile_enabled: false,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(
      userProfile(u.user, { id: u.id, timezone: 'America/Sao_Paulo', preferred_language: 'fr', avatar_url: 'https://cdn.example.com/a.png', public_profile_enabled: false }),
    );
    const cleared = await patch(u.access, { avatar_url: null });
    expect(cleared.body).toEqual({ ...(res.body as Record<string, unknown>), avatar_url: null, updated_at: expect.stringMatching(TIMESTAMP) });
  });

  it('lowercases a new username; a taken one is 409 username_taken', async () => {
    const a = await registerAndLogin(t, 'pu');
    const b = await registerAndLogin(t, 'pu');
    const wanted = newUser('rn').username;
    const renamed = await patch(a.access, { username: wanted.toUpperCase() });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toEqual(userProfile(a.user, { id: a.id, username: wanted }));
    const taken = await patch(b.access, { username: wanted.toUpperCase() });
    expect(taken.status).toBe(409);
    expectJson(taken);
    expect(taken.body).toEqual(coded('username_taken', 'Username is already taken'));
    // Renaming to one's own current name is not a conflict.
    expect((await patch(a.access, { username: wanted })).status).toBe(200);
    expect((await me(b.access)).body).toEqual(userProfile(b.user, { id: b.id }));
  });

  it('422: avatar_url must be an absolute https URL', async () => {
    const u = await registerAndLogin(t, 'pv');
    const res = await patch(u.access, { avatar_url: 'http://x' });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ detail: [{ type: 'value_error', loc: ['body', 'avatar_url'], msg: expect.stringMatching(/^Value error, /), input: 'http://x', ctx: { error: {} } }] });
    const bad = await patch(u.access, { full_name: '', public_profile_enabled: 'maybe', username: 'A!' });
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual({
      detail: [
        { type: 'string_too_short', loc: ['body', 'full_name'], msg: 'String should have at least 1 character', input: '', ctx: { min_length: 1 } },
        { type: 'string_pattern_mismatch', loc: ['body', 'username'], msg: `String should match pattern '${USERNAME_PATTERN}'`, input: 'A!', ctx: { pattern: USERNAME_PATTERN } },
        { type: 'bool_parsing', loc: ['body', 'public_profile_enabled'], msg: 'Input should be a valid boolean, unable to interpret input', input: 'maybe' },
      ],
    });
    expect((await me(u.access)).body).toEqual(userProfile(u.user, { id: u.id }));
  });

  it('422 for invalid JSON and for no body at all', async () => {
    const u = await registerAndLogin(t, 'pj');
    const json = await t.rest('PATCH', '/api/auth/me', { raw: '{"full_name": "x",}', headers: bearer(u.access) });
    expect(json.status).toBe(422);
    expect(json.body).toEqual({
      detail: [{ type: 'json_invalid', loc: ['body', 18], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting property name enclosed in double quotes' } }],
    });
    const none = await t.rest('PATCH', '/api/auth/me', { headers: bearer(u.access) });
    expect(none.status).toBe(422);
    expect(none.body).toEqual({ detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] });
  });

  it('ignores email, role and plan in the body', async () => {
    const u = await registerAndLogin(t, 'pi');
    const res = await patch(u.access, { email: 'evil@example.com', role: 'admin', plan: 'pro', full_name: 'Eve' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(userProfile(u.user, { id: u.id, full_name: 'Eve' }));
  });

  it('401 without credentials', async () => {
    const res = await t.rest('PATCH', '/api/auth/me', { json: { full_name: 'x' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.body).toEqual({ detail: 'Not authenticated' });
  });
});

describe('REST conventions on the auth routes', () => {
  it('an unknown route is 404 {"detail":"Not Found"}', async () => {
    const res = await t.rest('GET', '/api/nope');
    expect(res.status).toBe(404);
    expectJson(res);
    expect(res.body).toEqual({ detail: 'Not Found' });
  });

  it('a trailing slash is not normalised', async () => {
    const u = await registerAndLogin(t, 'ts');
    const res = await t.rest('GET', '/api/auth/me/', { headers: bearer(u.access) });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ detail: 'Not Found' });
  });

  it('a wrong method is 405 with an Allow header', async () => {
    const res = await t.rest('DELETE', '/api/auth/me');
    expect(res.status).toBe(405);
    expectJson(res);
    expect(res.headers.get('allow')).toBe('GET, PATCH');
    expect(res.body).toEqual({ detail: 'Method Not Allowed' });
    const get = await t.rest('GET', '/api/auth/login');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(get.body).toEqual({ detail: 'Method Not Allowed' });
  });

  it('echoes a valid X-Request-ID and replaces an invalid one with a UUID v4', async () => {
    const ok = await t.rest('GET', '/api/auth/me', { headers: { 'x-request-id': 'abc.DEF_123-x' } });
    expect(ok.status).toBe(401);
    expect(ok.headers.get('x-request-id')).toBe('abc.DEF_123-x');
    const max = 'r'.repeat(128);
    expect((await t.rest('GET', '/api/nope', { headers: { 'x-request-id': max } })).headers.get('x-request-id')).toBe(max);
    for (const invalid of ['has spaces in it', 'r'.repeat(129), 'r'.repeat(200), 'semi;colon']) {
      const res = await t.rest('GET', '/api/nope', { headers: { 'x-request-id': invalid } });
      expect(res.status).toBe(404);
      expect(res.headers.get('x-request-id')).toMatch(UUID_V4);
    }
    const a = await t.rest('GET', '/api/nope');
    const b = await t.rest('GET', '/api/nope');
    expect(a.headers.get('x-request-id')).toMatch(UUID_V4);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('every response carries Cache-Control: no-store', async () => {
    const u = await registerAndLogin(t, 'cc');
    const responses = [
      await register(newUser('cc')),
      await register({}),
      await login({ username: u.user.username, password: u.user.password }),
      await login({ username: u.user.username, password: 'nope-nope' }),
      await t.rest('GET', '/api/auth/me', { headers: bearer(u.access) }),
      await t.rest('PATCH', '/api/auth/me', { json: {}, headers: bearer(u.access) }),
      await t.rest('POST', '/api/auth/refresh', { json: { refresh_token: u.refresh } }),
      await t.rest('POST', '/api/auth/logout', { headers: bearer(u.access) }),
      await t.rest('GET', '/api/auth/me'),
      await t.rest('GET', '/api/nope'),
      await t.rest('PUT', '/api/auth/me'),
    ];
    expect(responses.map((r) => r.status)).toEqual([201, 422, 200, 401, 200, 200, 200, 200, 401, 404, 405]);
    for (const res of responses) expect(res.headers.get('cache-control')).toBe('no-store');
  });
});
