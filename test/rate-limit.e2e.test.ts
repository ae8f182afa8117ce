/**
 * Rate limiting (§1.9) through REST and GraphQL over HTTP: the headers of every limited
 * response, the 429 body, buckets per IP (`auth`) and per principal (`default`), health not
 * limited, requests refused at the credentials step not counted, and the fixed window's reset.
 *
 * TRUST_PROXY lets each test speak from its own client IP (X-Forwarded-For), so the per-IP `auth`
 * buckets of different tests never meet.
 */
import { describe, expect, it } from 'vitest';
import { bearer, newUser, useTestStack } from './harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fromIp = (n: number): Record<string, string> => ({ 'x-forwarded-for': `203.0.113.${n}` });

/** Waits for the next window when fewer than `needMs` remain in the current one. */
async function freshWindow(windowSeconds: number, needMs: number): Promise<void> {
  const w = windowSeconds * 1000;
  const left = w - (Date.now() % w);
  if (left < needMs) await sleep(left + 50);
}

interface Limited {
  status: number;
  headers: Headers;
}

/**
 * Asserts §1.9's headers exactly; returns `t` (seconds to reset) and the reset time.
 * `Retry-After` is present, equal to `t`, exactly when the request was refused.
 */
function expectLimitHeaders(res: Limited, policy: string, q: number, w: number, r: number): { t: number; reset: number } {
  const h = res.headers;
  const reset = Number(h.get('x-ratelimit-reset'));
  const t = Number(/;t=(\d+)$/.exec(h.get('ratelimit') ?? '')?.[1]);
  const now = Date.now() / 1000;
  expect({
    limit: h.get('x-ratelimit-limit'),
    remaining: h.get('x-ratelimit-remaining'),
    policy: h.get('ratelimit-policy'),
    ratelimit: h.get('ratelimit'),
    retryAfter: h.get('retry-after'),
  }).toEqual({
    limit: String(q),
    remaining: String(r),
    policy: `"${policy}";q=${q};w=${w}`,
    ratelimit: `"${policy}";r=${r};t=${t}`,
    retryAfter: res.status === 429 ? String(t) : null,
  });
  // The window is aligned to the epoch, ends in the future, and `t` counts down to its end.
  expect(Number.isInteger(reset) && reset % w === 0).toBe(true);
  expect(t).toBeGreaterThanOrEqual(1);
  expect(t).toBeLessThanOrEqual(w);
  // `t` is counted when the request is counted, before the response is written: `reset - t` is at
  // most a second before that moment and never after now. How long before now depends on the
  // machine's load (over a second has been seen on a loaded CI machine), so that side is generous.
  expect(reset - t).toBeLessThanOrEqual(now);
  expect(reset - t).toBeGreaterThan(now - 1 - 10);
  return { t, reset };
}

function expectNotLimited(res: Limited): void {
  expect(['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit-policy', 'ratelimit', 'retry-after'].map((n) => res.headers.get(n))).toEqual([null, null, null, null, null, null]);
}

const TOO_MANY = (retryAfter: number) => ({ detail: { error: 'rate_limited', message: 'Too many requests', retry_after: retryAfter } });
const GQL_TOO_MANY = (retryAfter: number) => ({ errors: [{ message: 'Too many requests', extensions: { code: 'RATE_LIMITED', status: 429, retryAfter } }] });
const LOGIN = 'mutation { login(input: {username: "nobody", password: "wrong password"}) { accessToken } }';

describe('RATE_LIMIT_AUTH=3/60, RATE_LIMIT_DEFAULT=5/60', () => {
  const t = useTestStack({ env: { RATE_LIMIT_AUTH: '3/60', RATE_LIMIT_DEFAULT: '5/60', TRUST_PROXY: 'true' } });

  /** Registers and logs in from `ip` (two requests of that IP's `auth` bucket). */
  async function user(ip: number): Promise<{ id: string; access: string; username: string; password: string }> {
    const u = newUser('rl');
    const reg = await t.rest('POST', '/api/auth/register', { json: u, headers: fromIp(ip) });
    expect(reg.status).toBe(201);
    const login = await t.rest('POST', '/api/auth/login', { form: { username: u.username, password: u.password }, headers: fromIp(ip) });
    expect(login.status).toBe(200);
    return { id: (reg.body as { id: string }).id, access: (login.body as { access_token: string }).access_token, username: u.username, password: u.password };
  }

  it('REST AUTH-1..3 share one `auth` bucket per IP; the 4th request gets 429', async () => {
    await freshWindow(60, 10_000);
    const login = await t.rest('POST', '/api/auth/login', { form: { username: 'nobody', password: 'wrong password' }, headers: fromIp(1) });
    expect({ status: login.status, body: login.body }).toEqual({ status: 401, body: { detail: { error: 'invalid_credentials', message: 'Incorrect username or password' } } });
    const first = expectLimitHeaders(login, 'auth', 3, 60, 2);

    // Counting comes before validation (§1.5 step 3 before 5): a 422 is counted and carries the headers.
    const register = await t.rest('POST', '/api/auth/register', { json: {}, headers: fromIp(1) });
    expect(register.status).toBe(422);
    expectLimitHeaders(register, 'auth', 3, 60, 1);
    const refresh = await t.rest('POST', '/api/auth/refresh', { json: { refresh_token: 'unknown' }, headers: fromIp(1) });
    expect(refresh.status).toBe(401);
    expect(expectLimitHeaders(refresh, 'auth', 3, 60, 0).reset).toBe(first.reset);

    const refused = await t.rest('POST', '/api/auth/login', { form: { username: 'nobody', password: 'wrong password' }, headers: fromIp(1) });
    const { t: retry, reset } = expectLimitHeaders(refused, 'auth', 3, 60, 0);
    expect({ status: refused.status, body: refused.body, cacheControl: refused.headers.get('cache-control') }).toEqual({ status: 429, body: TOO_MANY(retry), cacheControl: 'no-store' });
    expect(reset).toBe(first.reset);
    // A valid registration from the same IP is refused too, before it is looked at.
    const valid = await t.rest('POST', '/api/auth/register', { json: newUser('rl'), headers: fromIp(1) });
    expect(valid.status).toBe(429);

    // Another IP has its own bucket.
    const other = await t.rest('POST', '/api/auth/refresh', { json: { refresh_token: 'unknown' }, headers: fromIp(2) });
    expect(other.status).toBe(401);
    expectLimitHeaders(other, 'auth', 3, 60, 2);
  });

  it('GraphQL login, register and refreshToken count in the same `auth` bucket: HTTP 429 RATE_LIMITED', async () => {
    await freshWindow(60, 10_000);
    const ip = fromIp(3);
    for (const r of [2, 1]) {
      const res = await t.gql(LOGIN, undefined, ip);
      expect({ status: res.status, code: res.body.errors?.[0]?.extensions?.code }).toEqual({ status: 401, code: 'INVALID_CREDENTIALS' });
      expectLimitHeaders(res, 'auth', 3, 60, r);
    }
    // REST and GraphQL share the bucket.
    const rest = await t.rest('POST', '/api/auth/refresh', { json: { refresh_token: 'unknown' }, headers: ip });
    expectLimitHeaders(rest, 'auth', 3, 60, 0);

    const refused = await t.gql(LOGIN, undefined, ip);
    const { t: retry } = expectLimitHeaders(refused, 'auth', 3, 60, 0);
    expect({ status: refused.status, body: refused.body }).toEqual({ status: 429, body: GQL_TOO_MANY(retry) });
    const u = newUser('rl');
    for (const q of [
      `mutation { register(input: {email: "${u.email}", username: "${u.username}", password: "${u.password}"}) { user { id } } }`,
      'mutation { refreshToken(input: {refreshToken: "unknown"}) { accessToken } }',
      // An operation counts once, against its strictest root field.
      `mutation { logout { message } ${LOGIN.slice('mutation { '.length, -2)} }`,
    ]) {
      const res = await t.gql(q, undefined, ip);
      expect({ q, status: res.status, code: res.body.errors?.[0]?.extensions?.code }).toEqual({ q, status: 429, code: 'RATE_LIMITED' });
    }
    // The refused register did not run: the user can register from another IP.
    expect((await t.rest('POST', '/api/auth/register', { json: u, headers: fromIp(4) })).status).toBe(201);
    // Everything else is `default`, per IP for anonymous callers.
    const typename = await t.gql('{ __typename }', undefined, ip);
    expect({ status: typename.status, body: typename.body }).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
    expectLimitHeaders(typename, 'default', 5, 60, 4);
  });

  it('`default` is per user: one user’s 429 leaves another untouched, on REST and GraphQL alike', async () => {
    const a = await user(5);
    const b = await user(6);
    await freshWindow(60, 10_000);
    for (const r of [4, 3, 2, 1, 0]) {
      const me = await t.rest('GET', '/api/auth/me', { headers: { ...bearer(a.access), ...fromIp(7 + r) } });
      expect(me.status).toBe(200);
      expectLimitHeaders(me, 'default', 5, 60, r);
    }
    const refused = await t.rest('GET', '/api/auth/me', { headers: bearer(a.access) });
    const { t: retry } = expectLimitHeaders(refused, 'default', 5, 60, 0);
    expect({ status: refused.status, body: refused.body }).toEqual({ status: 429, body: TOO_MANY(retry) });
    // Refused before request validation (§1.5 step 3 before 5).
    const patch = await t.rest('PATCH', '/api/auth/me', { json: { username: '!' }, headers: bearer(a.access) });
    expect(patch.status).toBe(429);
    const gql = await t.gql('{ me { id } }', undefined, bearer(a.access));
    expect({ status: gql.status, code: gql.body.errors?.[0]?.extensions?.code }).toEqual({ status: 429, code: 'RATE_LIMITED' });
    expectLimitHeaders(gql, 'default', 5, 60, 0);

    const bMe = await t.rest('GET', '/api/auth/me', { headers: bearer(b.access) });
    expect({ status: bMe.status, id: (bMe.body as { id: string }).id }).toEqual({ status: 200, id: b.id });
    expectLimitHeaders(bMe, 'default', 5, 60, 4);
    const bGql = await t.gql('{ me { id } }', undefined, bearer(b.access));
    expect({ status: bGql.status, body: bGql.body }).toEqual({ status: 200, body: { data: { me: { id: b.id } } } });
    expectLimitHeaders(bGql, 'default', 5, 60, 3);
  });

  it('does not count requests refused at the credentials step (401)', async () => {
    const c = await user(20);
    await freshWindow(60, 10_000);
    const logout = await t.rest('POST', '/api/auth/logout', { headers: bearer(c.access) });
    expect(logout.status).toBe(200);
    expectLimitHeaders(logout, 'default', 5, 60, 4);
    for (let i = 0; i < 6; i++) {
      const revoked = await t.rest('GET', '/api/auth/me', { headers: bearer(c.access) });
      expect({ status: revoked.status, body: revoked.body }).toEqual({ status: 401, body: { detail: { error: 'token_revoked', message: 'Session has been revoked' } } });
      expectNotLimited(revoked);
      const anonymous = await t.rest('GET', '/api/auth/me', { headers: fromIp(21) });
      expect(anonymous.status).toBe(401);
      expectNotLimited(anonymous);
      const key = await t.rest('POST', '/api/auth/logout', { headers: { 'x-api-key': 'xntr-abc', ...fromIp(21) } });
      expect(key.status).toBe(401);
      expectNotLimited(key);
      const gql = await t.gql('{ me { id } }', undefined, bearer('not-a-jwt'));
      expect(gql.status).toBe(401);
      expectNotLimited(gql);
    }
    // C's bucket still holds only the logout: the 401s of its revoked token were not counted.
    const again = await t.rest('POST', '/api/auth/login', { form: { username: c.username, password: c.password }, headers: fromIp(20) });
    expect(again.status).toBe(200);
    const me = await t.rest('GET', '/api/auth/me', { headers: bearer((again.body as { access_token: string }).access_token) });
    expect(me.status).toBe(200);
    expectLimitHeaders(me, 'default', 5, 60, 3);
  });

  it('does not limit HLT-1 or HLT-2', async () => {
    const reg = await t.rest('POST', '/api/auth/register', { json: { email: 'admin@xentree.test', username: 'rl_admin', password: 'correct horse battery' }, headers: fromIp(30) });
    expect(reg.status).toBe(201);
    const login = await t.rest('POST', '/api/auth/login', { form: { username: 'rl_admin', password: 'correct horse battery' }, headers: fromIp(30) });
    const admin = bearer((login.body as { access_token: string }).access_token);
    for (let i = 0; i < 8; i++) {
      const health = await t.rest('GET', '/api/health', { headers: fromIp(31) });
      expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: { status: 'ok' } });
      expectNotLimited(health);
      const detailed = await t.rest('GET', '/api/health/detailed', { headers: admin });
      expect(detailed.status).not.toBe(429);
      expect((detailed.body as { checks?: unknown }).checks).toBeDefined();
      expectNotLimited(detailed);
    }
  });
});

describe('window reset with RATE_LIMIT_DEFAULT=2/2', () => {
  const t = useTestStack({ env: { RATE_LIMIT_DEFAULT: '2/2' } });

  it('refuses the 3rd request of a window and accepts again once X-RateLimit-Reset has passed', async () => {
    const u = newUser('rl');
    expect((await t.rest('POST', '/api/auth/register', { json: u })).status).toBe(201);
    const login = await t.rest('POST', '/api/auth/login', { form: { username: u.username, password: u.password } });
    const auth = bearer((login.body as { access_token: string }).access_token);

    await freshWindow(2, 1_500);
    const first = await t.rest('GET', '/api/auth/me', { headers: auth });
    expect(first.status).toBe(200);
    const { reset } = expectLimitHeaders(first, 'default', 2, 2, 1);
    expectLimitHeaders(await t.rest('GET', '/api/auth/me', { headers: auth }), 'default', 2, 2, 0);
    const refused = await t.rest('GET', '/api/auth/me', { headers: auth });
    const { t: retry } = expectLimitHeaders(refused, 'default', 2, 2, 0);
    expect({ status: refused.status, body: refused.body }).toEqual({ status: 429, body: TOO_MANY(retry) });
    expect(Number(refused.headers.get('x-ratelimit-reset'))).toBe(reset);

    await sleep(reset * 1000 - Date.now() + 50);
    const next = await t.rest('GET', '/api/auth/me', { headers: auth });
    expect(next.status).toBe(200);
    expect(expectLimitHeaders(next, 'default', 2, 2, 1).reset).toBe(reset + 2);
  });
});
