/**
 * Health, HLT-1 and HLT-2 (§3.11, §4.18). HLT-2 is `B+K·adm` with scope `api:read`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, registerAndLogin, startTestStack, type RestResponse, type TestStack } from './harness.ts';
import { forgeAccessToken, claimsOf } from './token-forge.ts';
import { sdlHash } from '../kernel/schema-announce.ts';
import { loadSupergraph } from '../schema/compose.ts';

let t: TestStack;
let admin: { id: string; access: string };
beforeAll(async () => {
  t = await startTestStack();
  const reg = await t.rest('POST', '/api/auth/register', { json: { email: 'admin@xentree.test', username: 'health_admin', password: 'correct horse battery' } });
  expect(reg.status).toBe(201);
  expect(reg.body).toMatchObject({ role: 'admin' });
  const login = await t.rest('POST', '/api/auth/login', { form: { username: 'admin@xentree.test', password: 'correct horse battery' } });
  expect(login.status).toBe(200);
  admin = { id: (reg.body as { id: string }).id, access: (login.body as { access_token: string }).access_token };
});
afterAll(async () => {
  await t?.close();
});

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function wire(res: RestResponse): { status: number; body: unknown } {
  return { status: res.status, body: res.body };
}

describe('GET /api/health', () => {
  it('answers 200 {"status":"ok"} without credentials', async () => {
    const res = await t.rest('GET', '/api/health');
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"status":"ok"}');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('ignores credentials, even invalid ones', async () => {
    expect(wire(await t.rest('GET', '/api/health', { headers: bearer('not-a-jwt') }))).toEqual({ status: 200, body: { status: 'ok' } });
  });
});

describe('GET /api/health/detailed', () => {
  it('without credentials: 401 {"detail":"Not authenticated"} with WWW-Authenticate', async () => {
    const res = await t.rest('GET', '/api/health/detailed');
    expect(wire(res)).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('treats a non-Bearer Authorization scheme as absent', async () => {
    expect(wire(await t.rest('GET', '/api/health/detailed', { headers: { authorization: 'Basic YWRtaW46cGFzcw==' } }))).toEqual({
      status: 401,
      body: { detail: 'Not authenticated' },
    });
  });

  it('for a normal user: 403 admin_required', async () => {
    const user = await registerAndLogin(t, 'health');
    expect(wire(await t.rest('GET', '/api/health/detailed', { headers: bearer(user.access) }))).toEqual({
      status: 403,
      body: { detail: { error: 'admin_required', message: 'Administrator role required' } },
    });
  });

  it('for an unknown API key: 401 invalid_api_key', async () => {
    const res = await t.rest('GET', '/api/health/detailed', { headers: { 'x-api-key': `xntr-${'a'.repeat(86)}` } });
    expect(wire(res)).toEqual({ status: 401, body: { detail: { error: 'invalid_api_key', message: 'Invalid API key' } } });
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('for an admin with an expired token: 401 token_expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await forgeAccessToken(t, { sub: admin.id, sid: String(claimsOf(admin.access).sid), iat: now - 1000, exp: now - 1 });
    expect(wire(await t.rest('GET', '/api/health/detailed', { headers: bearer(expired) }))).toEqual({
      status: 401,
      body: { detail: { error: 'token_expired', message: 'Access token has expired' } },
    });
  });

  it('for an admin: 200 with every check ok', async () => {
    const started = Date.now();
    const res = await t.rest('GET', '/api/health/detailed', { headers: bearer(admin.access) });
    const finished = Date.now();
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const check = { status: 'ok', latency_ms: expect.any(Number) };
    expect(res.body).toEqual({
      status: 'ok',
      checks: { database: check, pubsub: check, subgraphs: { identity: check, orgs: check, chat: check, knowledge: check, learning: check, live: check, integrations: check } },
      checked_at: expect.stringMatching(ISO_MS),
      // The committed supergraph, loaded when the gateway started (README "Reloading the supergraph").
      supergraph: { hash: sdlHash(loadSupergraph().trimEnd()), loaded_at: expect.stringMatching(ISO_MS) },
    });
    const body = res.body as { checks: { database: { latency_ms: number }; pubsub: { latency_ms: number }; subgraphs: { identity: { latency_ms: number }; orgs: { latency_ms: number }; chat: { latency_ms: number } } }; checked_at: string };
    for (const { latency_ms: ms } of [body.checks.database, body.checks.pubsub, body.checks.subgraphs.identity, body.checks.subgraphs.orgs, body.checks.subgraphs.chat]) {
      expect(Number.isInteger(ms)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(2000);
    }
    expect(sdlHash(loadSupergraph().trimEnd())).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse((res.body as { supergraph: { loaded_at: string } }).supergraph.loaded_at)).toBeLessThanOrEqual(started);
    const checkedAt = Date.parse(body.checked_at);
    expect(checkedAt).toBeGreaterThanOrEqual(started - 1);
    expect(checkedAt).toBeLessThanOrEqual(finished + 1);
  });
});
