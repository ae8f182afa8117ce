/**
 * The distributed topology as separate processes sharing the real PostgreSQL and Redis:
 * identity and two gateway replicas, run as the production image runs them (the compiled build,
 * the gateway as its minified bundle). A logout through gateway A must be rejected by gateway B
 * within 1 s (Redis PubSub invalidation; B's positive cache would otherwise keep it for 10 s).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPENAPI_FILE } from '../rest-compat/openapi-file.ts';
import { signUp, untilRefused, useTopology } from './topology.ts';

const topology = useTopology({ name: 'topology', subgraphs: ['identity', 'live'], compiledGateways: true });

async function me(gateway: string, token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gateway}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

describe('identity + two gateways as separate processes', () => {
  it('rejects a token on gateway B within 1 s of logging out through gateway A', async () => {
    const { token } = await signUp(topology.gatewayA, topology.gatewayB, 'topo');

    // Both replicas accept the token (B now holds a positive cache entry for its session).
    expect((await me(topology.gatewayA, token)).status).toBe(200);
    expect((await me(topology.gatewayB, token)).status).toBe(200);

    const logout = await fetch(`${topology.gatewayA}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(logout.status).toBe(200);
    const loggedOutAt = Date.now();

    // The very next request on A is rejected.
    expect(await me(topology.gatewayA, token)).toEqual({ status: 401, body: { detail: { error: 'token_revoked', message: 'Session has been revoked' } } });

    const onB = await untilRefused(() => me(topology.gatewayB, token), loggedOutAt);
    expect(onB).toEqual({ status: 401, body: { detail: { error: 'token_revoked', message: 'Session has been revoked' } } });
    expect(Date.now() - loggedOutAt).toBeLessThan(1_000);
  });

  it('serves GraphQL on both replicas from the same identity process', async () => {
    for (const gw of [topology.gatewayA, topology.gatewayB]) {
      const res = await fetch(`${gw}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('serves, from its bundle, the files it finds beside its code and in node_modules', async () => {
    const gw = topology.gatewayA;
    const openapi = await fetch(`${gw}/api/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(await openapi.json()).toEqual(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')));
    const assets: [string, Record<string, string>, string][] = [
      ['/api/docs', {}, 'text/html; charset=utf-8'],
      ['/api/docs/swagger-ui-bundle.js', {}, 'text/javascript; charset=utf-8'],
      ['/graphql', { accept: 'text/html' }, 'text/html; charset=utf-8'],
      ['/graphql/_ide/graphiql.min.js', {}, 'text/javascript; charset=utf-8'],
    ];
    for (const [path, headers, type] of assets) {
      const res = await fetch(`${gw}${path}`, { headers });
      expect({ path, status: res.status, type: res.headers.get('content-type') }).toEqual({ path, status: 200, type });
      expect((await res.text()).length, path).toBeGreaterThan(200);
    }
  });
});
