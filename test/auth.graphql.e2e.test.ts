/**
 * GraphQL parity with the REST AUTH suite (§3.1, §4.1): the same cases through the
 * gateway's POST /graphql. Service errors keep their registry code in `extensions.code` (with
 * `status` and the `serviceName` the gateway adds); authentication failures of the whole request
 * answer HTTP 401 with no `data`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { anonymousContext, signContext, type AuthContext } from '../kernel/context.ts';
import { bearer, newUser, type GraphQLResponse, useTestStack } from './harness.ts';
import { claimsOf, forgeAccessToken, forgeAlgNone, forgeHs256WithPublicKey } from './token-forge.ts';
import { UUID_V4 } from './assertions.ts';

const t = useTestStack();

const USER_FIELDS = 'id email username fullName timezone preferredLanguage avatarUrl liveNickname plan role publicProfileEnabled createdAt updatedAt';
const REGISTER = `mutation Register($input: RegisterInput!) { register(input: $input) { user { ${USER_FIELDS} } } }`;
const LOGIN = 'mutation Login($input: LoginInput!) { login(input: $input) { accessToken tokenType refreshToken } }';
const REFRESH = 'mutation Refresh($input: RefreshTokenInput!) { refreshToken(input: $input) { accessToken tokenType refreshToken } }';
const LOGOUT = 'mutation Logout($input: LogoutInput) { logout(input: $input) { message } }';
const ME = `{ me { ${USER_FIELDS} } }`;
const UPDATE_ME = `mutation UpdateMe($input: UpdateMeInput!) { updateMe(input: $input) { user { ${USER_FIELDS} } } }`;

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Tokens {
  accessToken: string;
  tokenType: string;
  refreshToken: string;
}

/** The body of a mutation that failed in the identity service (non-null root field, so `data: null`). */
function serviceError(field: string, code: string, status: number, message: string): GraphQLResponse['body'] {
  return { errors: [{ message, path: [field], extensions: { code, status, serviceName: 'identity' } }], data: null };
}

/** The body of a request rejected while authenticating (HTTP 401, no `data`). */
function authFailure(code: string, message: string): GraphQLResponse['body'] {
  return { errors: [{ message, extensions: { code, status: 401 } }] };
}

async function register(input: Record<string, unknown>): Promise<GraphQLResponse> {
  return t.gql(REGISTER, { input });
}

async function login(username: string, password: string): Promise<Tokens> {
  const res = await t.gql(LOGIN, { input: { username, password } });
  expect(res.status).toBe(200);
  return res.body.data?.login as Tokens;
}

/** Registers and logs in through GraphQL only. */
async function account(prefix = 'gql'): Promise<{ user: ReturnType<typeof newUser>; id: string; tokens: Tokens }> {
  const user = newUser(prefix);
  const reg = await register(user);
  expect(reg.status).toBe(200);
  const id = (reg.body.data?.register as { user: { id: string } }).user.id;
  return { user, id, tokens: await login(user.username, user.password) };
}

describe('register', () => {
  it('creates the account and shows the registrant their own email', async () => {
    const user = newUser('reg');
    const res = await register({ ...user, fullName: 'Ada Lovelace', timezone: 'Europe/Lisbon', preferredLanguage: 'pt-BR' });
    expect(res.status).toBe(200);
    const created = (res.body.data?.register as { user: { id: string; createdAt: string } }).user;
    expect(created.id).toMatch(UUID_V4);
    expect(created.createdAt).toMatch(ISO_MS);
    expect(res.body).toEqual({
      data: {
        register: {
          user: {
            id: created.id,
            email: user.email,
            username: user.username,
            fullName: 'Ada Lovelace',
            timezone: 'Europe/Lisbon',
            preferredLanguage: 'pt-BR',
            avatarUrl: null,
            liveNickname: null,
            plan: 'FREE',
            role: 'USER',
            publicProfileEnabled: true,
            createdAt: created.createdAt,
            updatedAt: created.createdAt,
          },
        },
      },
    });
  });

  it('stores email and username lowercased, with the defaults', async () => {
    const user = newUser('case');
    const res = await register({ ...user, email: user.email.toUpperCase(), username: user.username.toUpperCase() });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.register).toMatchObject({ user: { email: user.email, username: user.username, fullName: null, timezone: 'UTC', preferredLanguage: 'en' } });
  });

  it('makes an email listed in XENTREE_ADMIN_EMAILS a platform admin', async () => {
    const res = await register({ email: 'Admin@Xentree.test', username: 'graphql_admin', password: 'correct horse battery' });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.register).toMatchObject({ user: { email: 'admin@xentree.test', role: 'ADMIN', plan: 'FREE' } });
  });

  it('rejects a duplicate email (case-insensitively) with EMAIL_TAKEN', async () => {
    const user = newUser('dupe');
    expect((await register(user)).body.errors).toBeUndefined();
    const res = await register({ ...newUser('dupe'), email: user.email.toUpperCase() });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(serviceError('register', 'EMAIL_TAKEN', 409, 'Email is already registered'));
  });

  it('rejects a duplicate username with USERNAME_TAKEN', async () => {
    const user = newUser('dupu');
    expect((await register(user)).body.errors).toBeUndefined();
    const res = await register({ ...newUser('dupu'), username: user.username });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(serviceError('register', 'USERNAME_TAKEN', 409, 'Username is already taken'));
  });

  it('rejects a short password with BAD_USER_INPUT and one field item', async () => {
    const res = await register({ ...newUser('short'), password: 'abc' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      errors: [
        {
          message: 'input.password: Too small: expected string to have >=8 characters',
          path: ['register'],
          extensions: {
            code: 'BAD_USER_INPUT',
            status: 422,
            fields: [{ type: 'string_too_short', loc: ['input', 'password'], msg: 'Too small: expected string to have >=8 characters', input: null }],
            serviceName: 'identity',
          },
        },
      ],
      data: null,
    });
  });

  it('lists every bad field at once', async () => {
    const res = await register({ email: 'not-an-email', username: 'No Spaces!', password: 'x'.repeat(129), timezone: 'Mars/Olympus', preferredLanguage: 'english' });
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    const ext = res.body.errors?.[0]?.extensions ?? {};
    expect(ext.code).toBe('BAD_USER_INPUT');
    expect(ext.status).toBe(422);
    const fields = (ext.fields as { type: string; loc: string[] }[]).map((f) => ({ type: f.type, loc: f.loc }));
    expect(fields).toEqual([
      // The service's email rule is a pattern; REST reports `value_error` from its own validator.
      { type: 'string_pattern_mismatch', loc: ['input', 'email'] },
      { type: 'string_pattern_mismatch', loc: ['input', 'username'] },
      { type: 'string_too_long', loc: ['input', 'password'] },
      { type: 'value_error', loc: ['input', 'timezone'] },
      { type: 'string_pattern_mismatch', loc: ['input', 'preferredLanguage'] },
    ]);
  });

  it('reports a missing required input field as a GraphQL variable error (HTTP 400)', async () => {
    const res = await register({ email: 'x@example.com', username: 'no_password' });
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.body.errors?.[0]?.message).toBe('Variable "$input" got invalid value { email: "x@example.com", username: "no_password" }; Field "password" of required type "String!" was not provided.');
  });
});

describe('login', () => {
  it('returns a bearer TokenPayload whose access token is an ES256 JWT for the user', async () => {
    const { user, id } = await account('login');
    const res = await t.gql(LOGIN, { input: { username: user.username, password: user.password } });
    expect(res.status).toBe(200);
    const tokens = res.body.data?.login as Tokens;
    expect(res.body).toEqual({ data: { login: { accessToken: tokens.accessToken, tokenType: 'bearer', refreshToken: tokens.refreshToken } } });
    expect(tokens.accessToken).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(tokens.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const header = JSON.parse(Buffer.from(tokens.accessToken.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(header).toEqual({ alg: 'ES256', kid: expect.any(String), typ: 'JWT' });
    const claims = claimsOf(tokens.accessToken);
    expect(claims).toEqual({ sub: id, sid: expect.stringMatching(UUID_V4), type: 'access', jti: expect.stringMatching(UUID_V4), iat: expect.any(Number), exp: expect.any(Number) });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
  });

  it('accepts the email in any case as the username', async () => {
    const { user } = await account('bymail');
    const res = await t.gql(LOGIN, { input: { username: user.email.toUpperCase(), password: user.password } });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.login).toMatchObject({ tokenType: 'bearer' });
  });

  it('gives the same INVALID_CREDENTIALS error for a wrong password and an unknown user', async () => {
    const { user } = await account('wrong');
    const wrongPassword = await t.gql(LOGIN, { input: { username: user.username, password: 'not the password' } });
    const unknownUser = await t.gql(LOGIN, { input: { username: 'nobody_at_all', password: 'not the password' } });
    const expected = serviceError('login', 'INVALID_CREDENTIALS', 401, 'Incorrect username or password');
    expect({ status: wrongPassword.status, body: wrongPassword.body }).toEqual({ status: 401, body: expected });
    expect({ status: unknownUser.status, body: unknownUser.body }).toEqual({ status: 401, body: expected });
  });

  it('rejects a grantType other than `password`', async () => {
    const { user } = await account('grant');
    const res = await t.gql(LOGIN, { input: { username: user.username, password: user.password, grantType: 'client_credentials' } });
    expect(res.body.data).toBeNull();
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', status: 422, fields: [{ type: 'string_pattern_mismatch', loc: ['input', 'grantType'] }] });
  });
});

describe('refreshToken', () => {
  it('rotates: a new pair in the same family, and the new access token works', async () => {
    const { id, tokens } = await account('rotate');
    const res = await t.gql(REFRESH, { input: { refreshToken: tokens.refreshToken } });
    expect(res.status).toBe(200);
    const next = res.body.data?.refreshToken as Tokens;
    expect(res.body).toEqual({ data: { refreshToken: { accessToken: next.accessToken, tokenType: 'bearer', refreshToken: next.refreshToken } } });
    expect(next.refreshToken).not.toBe(tokens.refreshToken);
    expect(claimsOf(next.accessToken).sid).toBe(claimsOf(tokens.accessToken).sid);
    const me = await t.gql('{ me { id } }', {}, bearer(next.accessToken));
    expect(me.body).toEqual({ data: { me: { id } } });
  });

  it('on reuse revokes the whole family: REFRESH_TOKEN_REUSED, then INVALID_REFRESH_TOKEN and TOKEN_REVOKED', async () => {
    const { tokens } = await account('reuse');
    expect((await t.gql('{ me { id } }', {}, bearer(tokens.accessToken))).status).toBe(200);
    const rotated = (await t.gql(REFRESH, { input: { refreshToken: tokens.refreshToken } })).body.data?.refreshToken as Tokens;

    const reused = await t.gql(REFRESH, { input: { refreshToken: tokens.refreshToken } });
    expect({ status: reused.status, body: reused.body }).toEqual({
      status: 401,
      body: serviceError('refreshToken', 'REFRESH_TOKEN_REUSED', 401, 'Refresh token reuse detected; session revoked'),
    });

    const latest = await t.gql(REFRESH, { input: { refreshToken: rotated.refreshToken } });
    expect({ status: latest.status, body: latest.body }).toEqual({
      status: 401,
      body: serviceError('refreshToken', 'INVALID_REFRESH_TOKEN', 401, 'Refresh token is invalid or expired'),
    });

    for (const access of [tokens.accessToken, rotated.accessToken]) {
      const me = await t.gql('{ me { id } }', {}, bearer(access));
      expect({ status: me.status, body: me.body }).toEqual({ status: 401, body: authFailure('TOKEN_REVOKED', 'Session has been revoked') });
    }
  });

  it('rejects an unknown refresh token with INVALID_REFRESH_TOKEN', async () => {
    const res = await t.gql(REFRESH, { input: { refreshToken: 'A'.repeat(43) } });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 401,
      body: serviceError('refreshToken', 'INVALID_REFRESH_TOKEN', 401, 'Refresh token is invalid or expired'),
    });
  });
});

describe('logout', () => {
  it('revokes the session: the next `me` is HTTP 401 TOKEN_REVOKED and the refresh token is dead', async () => {
    const { tokens } = await account('logout');
    expect((await t.gql('{ me { id } }', {}, bearer(tokens.accessToken))).status).toBe(200);
    const res = await t.gql(LOGOUT, {}, bearer(tokens.accessToken));
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { data: { logout: { message: 'Logged out' } } } });

    const me = await t.gql('{ me { id } }', {}, bearer(tokens.accessToken));
    expect({ status: me.status, body: me.body }).toEqual({ status: 401, body: authFailure('TOKEN_REVOKED', 'Session has been revoked') });
    const refresh = await t.gql(REFRESH, { input: { refreshToken: tokens.refreshToken } });
    expect(refresh.body).toEqual(serviceError('refreshToken', 'INVALID_REFRESH_TOKEN', 401, 'Refresh token is invalid or expired'));
  });

  it('also revokes the family of a refresh token given in the input, leaving other families alone', async () => {
    const { user, tokens: first } = await account('logout2');
    const second = await login(user.username, user.password);
    const third = await login(user.username, user.password);
    const res = await t.gql(LOGOUT, { input: { refreshToken: second.refreshToken } }, bearer(first.accessToken));
    expect(res.body).toEqual({ data: { logout: { message: 'Logged out' } } });
    expect((await t.gql('{ me { id } }', {}, bearer(second.accessToken))).body).toEqual(authFailure('TOKEN_REVOKED', 'Session has been revoked'));
    expect((await t.gql('{ me { id } }', {}, bearer(third.accessToken))).status).toBe(200);
  });

  it('requires a bearer token', async () => {
    const res = await t.gql(LOGOUT);
    expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: serviceError('logout', 'UNAUTHENTICATED', 401, 'Not authenticated') });
  });
});

describe('me', () => {
  it('returns the full profile to its owner', async () => {
    const { user, id, tokens } = await account('me');
    const res = await t.gql(ME, {}, bearer(tokens.accessToken));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: {
        me: {
          id,
          email: user.email,
          username: user.username,
          fullName: null,
          timezone: 'UTC',
          preferredLanguage: 'en',
          avatarUrl: null,
          liveNickname: null,
          plan: 'FREE',
          role: 'USER',
          publicProfileEnabled: true,
          createdAt: expect.stringMatching(ISO_MS),
          updatedAt: expect.stringMatching(ISO_MS),
        },
      },
    });
  });

  it('is null with UNAUTHENTICATED without credentials (the field is nullable, so HTTP 200)', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Basic dXNlcjpwYXNz' }];
    for (const headers of attempts) {
      const res = await t.gql('{ me { id } }', {}, headers);
      expect({ status: res.status, body: res.body }).toEqual({
        status: 200,
        body: { errors: [{ message: 'Not authenticated', path: ['me'], extensions: { code: 'UNAUTHENTICATED', status: 401, serviceName: 'identity' } }], data: { me: null } },
      });
    }
  });
});

describe('updateMe', () => {
  it('changes the given fields only; null clears fullName and avatarUrl', async () => {
    const { user, id, tokens } = await account('upd');
    const before = (await t.gql(ME, {}, bearer(tokens.accessToken))).body.data?.me as Record<string, unknown>;
    const set = await t.gql(UPDATE_ME, { input: { fullName: 'Grace Hopper', avatarUrl: 'https://img.example.com/a.png', timezone: 'America/New_York', preferredLanguage: 'en-US', publicProfileEnabled: false } }, bearer(tokens.accessToken));
    const afterSet = (set.body.data?.updateMe as { user: Record<string, unknown> }).user;
    expect(set.body).toEqual({
      data: {
        updateMe: {
          user: {
            ...before,
            fullName: 'Grace Hopper',
            avatarUrl: 'https://img.example.com/a.png',
            timezone: 'America/New_York',
            preferredLanguage: 'en-US',
            publicProfileEnabled: false,
            updatedAt: expect.stringMatching(ISO_MS),
          },
        },
      },
    });
    expect(Date.parse(String(afterSet.updatedAt))).toBeGreaterThanOrEqual(Date.parse(String(before.updatedAt)));

    const cleared = await t.gql(UPDATE_ME, { input: { fullName: null, avatarUrl: null } }, bearer(tokens.accessToken));
    expect(cleared.body).toEqual({ data: { updateMe: { user: { ...afterSet, fullName: null, avatarUrl: null, updatedAt: expect.stringMatching(ISO_MS) } } } });
    expect((await t.gql('{ me { id email fullName } }', {}, bearer(tokens.accessToken))).body).toEqual({ data: { me: { id, email: user.email, fullName: null } } });
  });

  it('with an empty input returns the current profile unchanged', async () => {
    const { tokens } = await account('noop');
    const before = (await t.gql(ME, {}, bearer(tokens.accessToken))).body.data?.me;
    const res = await t.gql(UPDATE_ME, { input: {} }, bearer(tokens.accessToken));
    expect(res.body).toEqual({ data: { updateMe: { user: before } } });
  });

  it('rejects a username that is taken with USERNAME_TAKEN', async () => {
    const other = await account('taken');
    const { tokens } = await account('taker');
    const res = await t.gql(UPDATE_ME, { input: { username: other.user.username.toUpperCase() } }, bearer(tokens.accessToken));
    expect(res.body).toEqual(serviceError('updateMe', 'USERNAME_TAKEN', 409, 'Username is already taken'));
  });

  it('rejects a non-https avatar URL with a field item', async () => {
    const { tokens } = await account('avatar');
    const res = await t.gql(UPDATE_ME, { input: { avatarUrl: 'http://img.example.com/a.png' } }, bearer(tokens.accessToken));
    expect(res.body.data).toBeNull();
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', status: 422, fields: [{ loc: ['input', 'avatarUrl'] }] });
  });

  it('requires a bearer token', async () => {
    const res = await t.gql(UPDATE_ME, { input: { fullName: 'Nobody' } });
    expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: serviceError('updateMe', 'UNAUTHENTICATED', 401, 'Not authenticated') });
  });
});

describe('bad access tokens', () => {
  let victim: { id: string; sid: string; access: string };
  beforeAll(async () => {
    const { id, tokens } = await account('victim');
    victim = { id, sid: String(claimsOf(tokens.accessToken).sid), access: tokens.accessToken };
  });
  const invalid = authFailure('INVALID_TOKEN', 'Could not validate credentials');

  it('rejects an expired token with TOKEN_EXPIRED', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await forgeAccessToken(t, { sub: victim.id, sid: victim.sid, iat: now - 1000, exp: now - 100 });
    const res = await t.gql('{ me { id } }', {}, bearer(token));
    expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: authFailure('TOKEN_EXPIRED', 'Access token has expired') });
  });

  it.each([
    ['a tampered payload', async () => {
      const [h, , s] = victim.access.split('.');
      const payload = Buffer.from(JSON.stringify({ ...claimsOf(victim.access), sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
      return `${h}.${payload}.${s}`;
    }],
    ['a tampered signature', async () => `${victim.access.slice(0, -4)}AAAA`],
    ['alg none', async () => forgeAlgNone({ sub: victim.id, sid: victim.sid })],
    ['HS256 keyed with the public JWK', async () => forgeHs256WithPublicKey(t, { sub: victim.id, sid: victim.sid })],
    ['type refresh', async () => forgeAccessToken(t, { sub: victim.id, sid: victim.sid, type: 'refresh' })],
    ['not a JWT', async () => 'not-a-jwt'],
  ])('rejects %s with INVALID_TOKEN', async (_label, make) => {
    const res = await t.gql('{ me { id } }', {}, bearer(await make()));
    expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: invalid });
  });

  it('still accepts the untouched token', async () => {
    expect((await t.gql('{ me { id } }', {}, bearer(victim.access))).body).toEqual({ data: { me: { id: victim.id } } });
  });
});

describe('email privacy', () => {
  // Through the gateway the only User is `me`; another user is reachable only by federation
  // (`_entities`), which no other subgraph uses yet, so this asks identity directly with a
  // gateway-signed context, exactly as the gateway would when resolving a reference.
  async function emailSeenBy(viewer: Partial<AuthContext>, userId: string): Promise<unknown> {
    const context = await signContext({ ...anonymousContext('email-privacy'), ...viewer }, t.config.internalServiceKey);
    const res = await fetch(`${t.subgraphUrl('identity')}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-xentree-context': context },
      body: JSON.stringify({ query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } } }', variables: { r: [{ __typename: 'User', id: userId }] } }),
    });
    expect(res.status).toBe(200);
    return res.json();
  }

  it('is null for anyone but the account itself and platform admins', async () => {
    const owner = await account('private');
    const other = await account('nosy');
    const entity = (email: string | null) => ({ data: { _entities: [{ id: owner.id, email }] } });
    expect(await emailSeenBy({ mode: 'bearer', userId: other.id, role: 'user' }, owner.id)).toEqual(entity(null));
    expect(await emailSeenBy({}, owner.id)).toEqual(entity(null));
    expect(await emailSeenBy({ mode: 'bearer', userId: owner.id, role: 'user' }, owner.id)).toEqual(entity(owner.user.email));
    expect(await emailSeenBy({ mode: 'bearer', userId: other.id, role: 'admin' }, owner.id)).toEqual(entity(owner.user.email));
  });
});
