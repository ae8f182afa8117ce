/**
 * Token lifecycle through REST: AUTH-3 refresh (rotation, reuse detection), AUTH-4 logout and
 * AUTH-5 me with every kind of bad credential. §1.3, §1.7, §3.1, §4.1.
 */
import { createHash } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { bearer, registerAndLogin, type RestResponse, useTestStack } from './harness.ts';
import { claimsOf, forgeAccessToken, forgeAlgNone, forgeHs256WithPublicKey } from './token-forge.ts';
import { coded, prop, REFRESH, userProfile, UUID_V4 } from './assertions.ts';


const t = useTestStack();


const NOT_AUTHENTICATED = { detail: 'Not authenticated' };
const INVALID_TOKEN = coded('invalid_token', 'Could not validate credentials');
const TOKEN_REVOKED = coded('token_revoked', 'Session has been revoked');
const INVALID_REFRESH = coded('invalid_refresh_token', 'Refresh token is invalid or expired');
const TOKEN_PAIR = { access_token: expect.stringMatching(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/), token_type: 'bearer', refresh_token: expect.stringMatching(REFRESH) };

/** Asserts a 401 with its WWW-Authenticate header, no-store and the whole body. */
function expect401(res: RestResponse, body: unknown): void {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body).toEqual(body);
}

const me = (headers: Record<string, string> = {}) => t.rest('GET', '/api/auth/me', { headers });
const refresh = (token: unknown) => t.rest('POST', '/api/auth/refresh', { json: { refresh_token: token } });
const logout = (access: string, json?: unknown) => t.rest('POST', '/api/auth/logout', { headers: bearer(access), ...(json === undefined ? {} : { json }) });
const login = (u: { username: string; password: string }) => t.rest('POST', '/api/auth/login', { form: { username: u.username, password: u.password } });

/** Runs SQL on the identity subgraph's database (for what REST cannot observe: refresh expiry). */
async function identitySql(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
  const identity = t.stack.subgraphs.find((s) => s.name === 'identity');
  if (!identity) throw new Error('identity subgraph not running');
  return identity.orm.em.fork().getConnection().execute<Record<string, unknown>[]>(sql, params);
}

/** created_at/expires_at of a refresh token's row, in ms. */
async function refreshRow(token: string): Promise<{ created: number; expires: number }> {
  const hash = createHash('sha256').update(token).digest('hex');
  const [row] = await identitySql('select created_at, expires_at from "identity"."refresh_tokens" where token_hash = ?', [hash]);
  if (!row) throw new Error('refresh token row not found');
  const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));
  return { created: ms(row.created_at), expires: ms(row.expires_at) };
}

/** A second session (family) of the same user. */
async function secondSession(u: { username: string; password: string }): Promise<{ access: string; refresh: string }> {
  const res = await login(u);
  expect(res.status).toBe(200);
  return { access: prop(res.body, 'access_token'), refresh: prop(res.body, 'refresh_token') };
}

/** The whole profile of a user registered by `registerAndLogin`. */
const profileOf = (u: { id: string; user: { email: string; username: string } }): Record<string, unknown> => userProfile(u.user, { id: u.id });

describe('AUTH-3 POST /api/auth/refresh', () => {
  it('rotates: a new pair in the same family, and the new access token works', async () => {
    const u = await registerAndLogin(t, 'rf');
    const res = await refresh(u.refresh);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual(TOKEN_PAIR);
    const next = { access: prop(res.body, 'access_token'), refresh: prop(res.body, 'refresh_token') };
    expect(next.refresh).not.toBe(u.refresh);
    const claims = claimsOf(next.access);
    expect(claims).toEqual({ ...claimsOf(u.access), jti: expect.stringMatching(UUID_V4), iat: expect.any(Number), exp: expect.any(Number) });
    expect(claims.jti).not.toBe(claimsOf(u.access).jti);
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
    const profile = await me(bearer(next.access));
    expect(profile.status).toBe(200);
    expect(profile.body).toEqual(profileOf(u));
    // The new refresh token rotates again.
    const again = await refresh(next.refresh);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(TOKEN_PAIR);
  });

  it('reuse of a consumed token revokes the whole family', async () => {
    const u = await registerAndLogin(t, 'ru');
    const first = await refresh(u.refresh);
    expect(first.status).toBe(200);
    const newest = { access: prop(first.body, 'access_token'), refresh: prop(first.body, 'refresh_token') };
    expect((await me(bearer(newest.access))).status).toBe(200);

    const reused = await refresh(u.refresh);
    expect401(reused, coded('refresh_token_reused', 'Refresh token reuse detected; session revoked'));

    expect401(await refresh(newest.refresh), INVALID_REFRESH);
    expect401(await refresh(u.refresh), INVALID_REFRESH);
    expect401(await me(bearer(newest.access)), TOKEN_REVOKED);
    expect401(await me(bearer(u.access)), TOKEN_REVOKED);
  });

  it('reuse revokes only that family, not the user’s other sessions', async () => {
    const u = await registerAndLogin(t, 'rs');
    const other = await secondSession(u.user);
    expect((await refresh(u.refresh)).status).toBe(200);
    expect((await refresh(u.refresh)).status).toBe(401);
    const profile = await me(bearer(other.access));
    expect(profile.status).toBe(200);
    expect(profile.body).toEqual(profileOf(u));
    expect((await refresh(other.refresh)).status).toBe(200);
  });

  it('of two concurrent refreshes with one token, one wins and the other revokes the family', async () => {
    const u = await registerAndLogin(t, 'rc');
    const [a, b] = await Promise.all([refresh(u.refresh), refresh(u.refresh)]);
    const [winner, loser] = a.status === 200 ? [a, b] : [b, a];
    expect(winner.status).toBe(200);
    expect(winner.body).toEqual(TOKEN_PAIR);
    expect401(loser, coded('refresh_token_reused', 'Refresh token reuse detected; session revoked'));
    expect401(await me(bearer(prop(winner.body, 'access_token'))), TOKEN_REVOKED);
    expect401(await refresh(prop(winner.body, 'refresh_token')), INVALID_REFRESH);
  });

  it('each refresh token lives 30 days from its own issue; an expired one is invalid', async () => {
    const DAYS_30 = 30 * 24 * 3600 * 1000;
    const u = await registerAndLogin(t, 're');
    const first = await refreshRow(u.refresh);
    expect(first.expires - first.created).toBe(DAYS_30);
    await new Promise((r) => setTimeout(r, 20));
    const res = await refresh(u.refresh);
    expect(res.status).toBe(200);
    const next = { access: prop(res.body, 'access_token'), refresh: prop(res.body, 'refresh_token') };
    const second = await refreshRow(next.refresh);
    expect(second.expires - second.created).toBe(DAYS_30);
    expect(second.created).toBeGreaterThan(first.created);
    const hash = createHash('sha256').update(next.refresh).digest('hex');
    await identitySql('update "identity"."refresh_tokens" set expires_at = now() - interval \'1 second\' where token_hash = ?', [hash]);
    expect401(await refresh(next.refresh), INVALID_REFRESH);
    // Expiry is not reuse: the family stays alive.
    expect((await me(bearer(next.access))).body).toEqual(profileOf(u));
  });

  it('401 invalid_refresh_token for an unknown token', async () => {
    expect401(await refresh('A'.repeat(43)), INVALID_REFRESH);
    expect401(await refresh('not-a-token'), INVALID_REFRESH);
  });

  it('422 for an empty, too long, missing or non-string token', async () => {
    const empty = await refresh('');
    expect(empty.status).toBe(422);
    expect(empty.headers.get('cache-control')).toBe('no-store');
    expect(empty.body).toEqual({
      detail: [{ type: 'string_too_short', loc: ['body', 'refresh_token'], msg: 'String should have at least 1 character', input: '', ctx: { min_length: 1 } }],
    });
    const long = 'x'.repeat(513);
    const tooLong = await refresh(long);
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toEqual({
      detail: [{ type: 'string_too_long', loc: ['body', 'refresh_token'], msg: 'String should have at most 512 characters', input: long, ctx: { max_length: 512 } }],
    });
    expect401(await refresh('x'.repeat(512)), INVALID_REFRESH);
    const missing = await t.rest('POST', '/api/auth/refresh', { json: { token: 'x' } });
    expect(missing.status).toBe(422);
    expect(missing.body).toEqual({ detail: [{ type: 'missing', loc: ['body', 'refresh_token'], msg: 'Field required', input: { token: 'x' } }] });
    const number = await refresh(42);
    expect(number.status).toBe(422);
    expect(number.body).toEqual({ detail: [{ type: 'string_type', loc: ['body', 'refresh_token'], msg: 'Input should be a valid string', input: 42 }] });
    const none = await t.rest('POST', '/api/auth/refresh');
    expect(none.status).toBe(422);
    expect(none.body).toEqual({ detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] });
  });
});

describe('AUTH-4 POST /api/auth/logout', () => {
  it('logs out; the same access token is revoked on the very next request, and its refresh token too', async () => {
    const u = await registerAndLogin(t, 'lo');
    expect((await me(bearer(u.access))).status).toBe(200);
    const res = await logout(u.access, { refresh_token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({ message: 'Logged out' });
    expect401(await me(bearer(u.access)), TOKEN_REVOKED);
    expect401(await refresh(u.refresh), INVALID_REFRESH);
    expect401(await logout(u.access), TOKEN_REVOKED);
  });

  it('works without a body and leaves the user’s other sessions alone', async () => {
    const u = await registerAndLogin(t, 'lb');
    const other = await secondSession(u.user);
    const res = await t.rest('POST', '/api/auth/logout', { headers: bearer(u.access) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Logged out' });
    expect401(await me(bearer(u.access)), TOKEN_REVOKED);
    expect((await me(bearer(other.access))).body).toEqual(profileOf(u));
    expect((await refresh(other.refresh)).status).toBe(200);
  });

  it('a body refresh_token of another of the caller’s sessions revokes that family too', async () => {
    const u = await registerAndLogin(t, 'l2');
    const other = await secondSession(u.user);
    expect((await me(bearer(other.access))).status).toBe(200);
    const res = await logout(u.access, { refresh_token: other.refresh });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Logged out' });
    expect401(await me(bearer(u.access)), TOKEN_REVOKED);
    expect401(await me(bearer(other.access)), TOKEN_REVOKED);
    expect401(await refresh(other.refresh), INVALID_REFRESH);
    expect401(await refresh(u.refresh), INVALID_REFRESH);
  });

  it('ignores a body token of another user, and an unknown one', async () => {
    const caller = await registerAndLogin(t, 'lc');
    const victim = await registerAndLogin(t, 'lv');
    const res = await logout(caller.access, { refresh_token: victim.refresh, ignored_field: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Logged out' });
    expect401(await me(bearer(caller.access)), TOKEN_REVOKED);
    const profile = await me(bearer(victim.access));
    expect(profile.status).toBe(200);
    expect(profile.body).toEqual(profileOf(victim));
    expect((await refresh(victim.refresh)).status).toBe(200);

    const other = await registerAndLogin(t, 'lu');
    expect((await logout(other.access, { refresh_token: 'unknown-token' })).body).toEqual({ message: 'Logged out' });
  });

  it('422 for a non-string refresh_token; invalid JSON; nothing is revoked', async () => {
    const u = await registerAndLogin(t, 'lq');
    const bad = await logout(u.access, { refresh_token: 7 });
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual({ detail: [{ type: 'string_type', loc: ['body', 'refresh_token'], msg: 'Input should be a valid string', input: 7 }] });
    const json = await t.rest('POST', '/api/auth/logout', { raw: '{', headers: bearer(u.access) });
    expect(json.status).toBe(422);
    expect(json.body).toEqual({
      detail: [{ type: 'json_invalid', loc: ['body', 1], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting property name enclosed in double quotes' } }],
    });
    expect((await me(bearer(u.access))).status).toBe(200);
  });

  it('401 without credentials, and bearer_required for an API key', async () => {
    expect401(await t.rest('POST', '/api/auth/logout'), NOT_AUTHENTICATED);
    expect401(await t.rest('POST', '/api/auth/logout', { headers: { 'x-api-key': `xntr-${'a'.repeat(86)}` } }), coded('bearer_required', 'This endpoint requires a bearer token'));
  });
});

describe('AUTH-5 GET /api/auth/me', () => {
  it('returns the whole profile', async () => {
    const u = await registerAndLogin(t, 'me');
    const res = await me(bearer(u.access));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual(profileOf(u));
    // The scheme is case-insensitive; a bearer token wins over an X-API-Key.
    const lower = await me({ authorization: `bearer ${u.access}`, 'x-api-key': 'xntr-whatever' });
    expect(lower.status).toBe(200);
    expect(lower.body).toEqual(res.body);
  });

  it('401 Not authenticated without credentials, or with a non-Bearer scheme', async () => {
    expect401(await me(), NOT_AUTHENTICATED);
    expect401(await me({ authorization: 'Basic abc' }), NOT_AUTHENTICATED);
    expect401(await me({ authorization: 'Token abc' }), NOT_AUTHENTICATED);
  });

  it('401 bearer_required for an X-API-Key alone', async () => {
    const body = coded('bearer_required', 'This endpoint requires a bearer token');
    expect401(await me({ 'x-api-key': `xntr-${'a'.repeat(86)}` }), body);
    expect401(await me({ 'x-api-key': 'xntr-short', authorization: 'Basic abc' }), body);
  });

  it('401 token_expired for an expired, correctly signed token', async () => {
    const u = await registerAndLogin(t, 'ex');
    const now = Math.floor(Date.now() / 1000);
    const expired = await forgeAccessToken(t, { sub: u.id, sid: String(claimsOf(u.access).sid), iat: now - 1000, exp: now - 100 });
    expect401(await me(bearer(expired)), coded('token_expired', 'Access token has expired'));
    // The forge itself makes valid tokens: the same claims, unexpired, are accepted.
    const fresh = await forgeAccessToken(t, { sub: u.id, sid: String(claimsOf(u.access).sid) });
    expect((await me(bearer(fresh))).body).toEqual(profileOf(u));
  });

  it('401 invalid_token for a tampered signature', async () => {
    const u = await registerAndLogin(t, 'tp');
    const [h, p, s = ''] = u.access.split('.');
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    expect401(await me(bearer(`${h}.${p}.${flipped}`)), INVALID_TOKEN);
    // A payload changed under the original signature fails as well.
    const forgedPayload = Buffer.from(JSON.stringify({ ...claimsOf(u.access), exp: Math.floor(Date.now() / 1000) + 9999 })).toString('base64url');
    expect401(await me(bearer(`${h}.${forgedPayload}.${s}`)), INVALID_TOKEN);
    expect((await me(bearer(u.access))).status).toBe(200);
  });

  it('401 invalid_token for alg none and for HS256 signed with the public key', async () => {
    const u = await registerAndLogin(t, 'al');
    const claims = { sub: u.id, sid: String(claimsOf(u.access).sid) };
    expect401(await me(bearer(forgeAlgNone(claims))), INVALID_TOKEN);
    expect401(await me(bearer(await forgeHs256WithPublicKey(t, claims))), INVALID_TOKEN);
  });

  it('401 invalid_token for an ES256 token signed by a key the identity service never published', async () => {
    const u = await registerAndLogin(t, 'uk');
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const claims = { sid: String(claimsOf(u.access).sid), type: 'access' };
    for (const kid of ['not-a-published-kid', undefined]) {
      const token = await new SignJWT(claims)
        .setProtectedHeader(kid ? { alg: 'ES256', kid, typ: 'JWT' } : { alg: 'ES256', typ: 'JWT' })
        .setSubject(u.id)
        .setJti(crypto.randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + 900)
        .sign(privateKey);
      expect401(await me(bearer(token)), INVALID_TOKEN);
    }
  });

  it('401 invalid_token for a token whose type is not "access"', async () => {
    const u = await registerAndLogin(t, 'ty');
    const sid = String(claimsOf(u.access).sid);
    expect401(await me(bearer(await forgeAccessToken(t, { sub: u.id, sid, type: 'refresh' }))), INVALID_TOKEN);
    expect401(await me(bearer(await forgeAccessToken(t, { sub: u.id, sid, type: 'integration' }))), INVALID_TOKEN);
  });

  it('401 invalid_token for garbage bearer values and for a refresh token', async () => {
    const u = await registerAndLogin(t, 'gb');
    for (const value of ['Bearer abc', 'Bearer a.b.c', 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.', `Bearer ${u.refresh}`]) {
      expect401(await me({ authorization: value }), INVALID_TOKEN);
    }
  });
});
