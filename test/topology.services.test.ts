/**
 * The distributed topology as separate processes sharing the real PostgreSQL and Redis:
 * identity and two gateway replicas, run as the production image runs them (the compiled build,
 * the gateway as its minified bundle). A logout through gateway A must be rejected by gateway B
 * within 1 s (Redis PubSub invalidation; B's positive cache would otherwise keep it for 10 s).
 */
import { describe, expect, it } from 'vitest';
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
});
