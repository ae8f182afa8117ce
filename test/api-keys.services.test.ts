/**
 * API-key revocation across replicas (API.md §4.14, issue "Organizations, teams, API keys and
 * tenancy"): identity, orgs and two gateway processes share the real PostgreSQL and Redis. Both
 * gateways hold the key in their 5 s cache; after a delete through gateway A, A rejects the key on
 * the very next request (the `revokedApiKeys` response extension) and B within 1 s (PubSub).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES_REDIS_URL, freshDatabase, newUser } from './harness.ts';
import { freePort, startProcess, type Proc } from './processes.ts';

let procs: Proc[] = [];
let db: Awaited<ReturnType<typeof freshDatabase>>;
let gatewayA = '';
let gatewayB = '';

beforeAll(async () => {
  db = await freshDatabase();
  const [identityPort, orgsPort] = [await freePort(), await freePort()];
  const common = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    REDIS_URL: SERVICES_REDIS_URL,
    INTERNAL_SERVICE_KEY: randomBytes(32).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    XENTREE_DATA_DIR: `/tmp/xentree-api-keys-${process.pid}`,
    RATE_LIMIT_KEY_PREFIX: `xentree:test:${randomBytes(6).toString('hex')}:rl:`,
    SUBGRAPH_IDENTITY_PORT: String(identityPort),
    SUBGRAPH_IDENTITY_URL: `http://127.0.0.1:${identityPort}`,
    SUBGRAPH_ORGS_PORT: String(orgsPort),
    SUBGRAPH_ORGS_URL: `http://127.0.0.1:${orgsPort}`,
  };
  // Sequentially: both run their migrations against the same fresh database.
  procs.push(await startProcess(['subgraph', 'identity'], common, `http://127.0.0.1:${identityPort}/healthz`));
  procs.push(await startProcess(['subgraph', 'orgs'], common, `http://127.0.0.1:${orgsPort}/healthz`));
  const [portA, portB] = [await freePort(), await freePort()];
  const gateways = await Promise.all([
    startProcess(['gateway'], { ...common, PORT: String(portA) }, `http://127.0.0.1:${portA}/api/health`),
    startProcess(['gateway'], { ...common, PORT: String(portB) }, `http://127.0.0.1:${portB}/api/health`),
  ]);
  procs.push(...gateways);
  gatewayA = `http://127.0.0.1:${portA}`;
  gatewayB = `http://127.0.0.1:${portB}`;
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  procs = [];
  await db?.drop();
});

async function call(gateway: string, method: string, path: string, headers: Record<string, string>, json?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gateway}${path}`, {
    method,
    headers: { ...headers, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

const INVALID_API_KEY = { status: 401, body: { detail: { error: 'invalid_api_key', message: 'Invalid API key' } } };

describe('identity + orgs + two gateways as separate processes', () => {
  it('rejects a deleted key on gateway A at once and on gateway B within 1 s', async () => {
    const user = newUser('keys');
    expect((await call(gatewayA, 'POST', '/api/auth/register', {}, user)).status).toBe(201);
    const login = await fetch(`${gatewayB}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user.username, password: user.password }).toString(),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${token}` };
    const org = await call(gatewayA, 'POST', '/api/organizations', auth, { name: 'Replicated Org' });
    expect(org.status).toBe(201);
    const orgId = (org.body as { id: string }).id;
    const created = await call(gatewayB, 'POST', '/api/api-keys', auth, { name: 'replicated', organization_id: orgId, scopes: ['organizations:read'] });
    expect(created.status).toBe(201);
    const { id, key } = created.body as { id: string; key: string };

    // Both replicas accept the key and now hold it in their caches.
    const listed = { status: 200, body: [expect.objectContaining({ id: orgId, my_role: 'owner' })] };
    for (const gw of [gatewayA, gatewayB]) expect(await call(gw, 'GET', '/api/organizations', { 'x-api-key': key })).toEqual(listed);

    expect((await call(gatewayA, 'DELETE', `/api/api-keys/${id}`, auth)).status).toBe(204);
    const deletedAt = Date.now();
    expect(await call(gatewayA, 'GET', '/api/organizations', { 'x-api-key': key })).toEqual(INVALID_API_KEY);

    let onB = await call(gatewayB, 'GET', '/api/organizations', { 'x-api-key': key });
    while (onB.status === 200 && Date.now() - deletedAt < 1_000) {
      await new Promise((r) => setTimeout(r, 25));
      onB = await call(gatewayB, 'GET', '/api/organizations', { 'x-api-key': key });
    }
    expect(onB).toEqual(INVALID_API_KEY);
    expect(Date.now() - deletedAt).toBeLessThan(1_000);
  });

  it('rejects the keys of a deleted organization on gateway A at once and on gateway B within 1 s', async () => {
    const user = newUser('keysorg');
    expect((await call(gatewayB, 'POST', '/api/auth/register', {}, user)).status).toBe(201);
    const login = await fetch(`${gatewayA}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user.username, password: user.password }).toString(),
    });
    const auth = { authorization: `Bearer ${((await login.json()) as { access_token: string }).access_token}` };
    const orgId = ((await call(gatewayA, 'POST', '/api/organizations', auth, { name: 'Doomed Org' })).body as { id: string }).id;
    const { key } = (await call(gatewayA, 'POST', '/api/api-keys', auth, { name: 'doomed', organization_id: orgId, scopes: ['organizations:read'] })).body as { key: string };
    for (const gw of [gatewayA, gatewayB]) expect((await call(gw, 'GET', '/api/organizations', { 'x-api-key': key })).status).toBe(200);

    expect((await call(gatewayA, 'DELETE', `/api/organizations/${orgId}`, auth)).status).toBe(204);
    const deletedAt = Date.now();
    // orgs reports the deleted keys in its response, so A needs no PubSub message.
    expect(await call(gatewayA, 'GET', '/api/organizations', { 'x-api-key': key })).toEqual(INVALID_API_KEY);
    let onB = await call(gatewayB, 'GET', '/api/organizations', { 'x-api-key': key });
    while (onB.status === 200 && Date.now() - deletedAt < 1_000) {
      await new Promise((r) => setTimeout(r, 25));
      onB = await call(gatewayB, 'GET', '/api/organizations', { 'x-api-key': key });
    }
    expect(onB).toEqual(INVALID_API_KEY);
    expect(Date.now() - deletedAt).toBeLessThan(1_000);
  });
});
