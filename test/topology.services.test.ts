/**
 * The distributed topology as separate processes sharing the real PostgreSQL and Redis:
 * identity and two gateway replicas. A logout through gateway A must be rejected by gateway B
 * within 1 s (Redis PubSub invalidation; B's positive cache would otherwise keep it for 10 s).
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
  const identityPort = await freePort();
  const common = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    REDIS_URL: SERVICES_REDIS_URL,
    INTERNAL_SERVICE_KEY: randomBytes(32).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    XENTREE_DATA_DIR: `/tmp/xentree-topology-${process.pid}`,
    SUBGRAPH_IDENTITY_PORT: String(identityPort),
    SUBGRAPH_IDENTITY_URL: `http://127.0.0.1:${identityPort}`,
  };
  const identity = await startProcess(['subgraph', 'identity'], common, `http://127.0.0.1:${identityPort}/healthz`);
  procs.push(identity);
  const [portA, portB] = [await freePort(), await freePort()];
  const [a, b] = await Promise.all([
    startProcess(['gateway'], { ...common, PORT: String(portA) }, `http://127.0.0.1:${portA}/api/health`),
    startProcess(['gateway'], { ...common, PORT: String(portB) }, `http://127.0.0.1:${portB}/api/health`),
  ]);
  procs.push(a, b);
  gatewayA = `http://127.0.0.1:${portA}`;
  gatewayB = `http://127.0.0.1:${portB}`;
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  procs = [];
  await db?.drop();
});

async function me(gateway: string, token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gateway}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

describe('identity + two gateways as separate processes', () => {
  it('rejects a token on gateway B within 1 s of logging out through gateway A', async () => {
    const user = newUser('topo');
    const reg = await fetch(`${gatewayA}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
    expect(reg.status).toBe(201);
    const login = await fetch(`${gatewayB}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user.username, password: user.password }).toString(),
    });
    expect(login.status).toBe(200);
    const { access_token: token } = (await login.json()) as { access_token: string };

    // Both replicas accept the token (B now holds a positive cache entry for its session).
    expect((await me(gatewayA, token)).status).toBe(200);
    expect((await me(gatewayB, token)).status).toBe(200);

    const logout = await fetch(`${gatewayA}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(logout.status).toBe(200);
    const loggedOutAt = Date.now();

    // The very next request on A is rejected.
    expect(await me(gatewayA, token)).toEqual({ status: 401, body: { detail: { error: 'token_revoked', message: 'Session has been revoked' } } });

    let onB = await me(gatewayB, token);
    while (onB.status === 200 && Date.now() - loggedOutAt < 1_000) {
      await new Promise((r) => setTimeout(r, 25));
      onB = await me(gatewayB, token);
    }
    expect(onB).toEqual({ status: 401, body: { detail: { error: 'token_revoked', message: 'Session has been revoked' } } });
    expect(Date.now() - loggedOutAt).toBeLessThan(1_000);
  });

  it('serves GraphQL on both replicas from the same identity process', async () => {
    for (const gw of [gatewayA, gatewayB]) {
      const res = await fetch(`${gw}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
    }
  });
});
