/**
 * API-key revocation across replicas (§4.14, issue "Organizations, teams, API keys and
 * tenancy"): identity, orgs and two gateway processes share the real PostgreSQL and Redis. Both
 * gateways hold the key in their 5 s cache; after a delete through gateway A, A rejects the key on
 * the very next request (the `revokedApiKeys` response extension) and B within 1 s (PubSub).
 */
import { describe, expect, it } from 'vitest';
import { call, signUp, untilRefused, useTopology } from './topology.ts';

const topology = useTopology({ name: 'api-keys', subgraphs: ['identity', 'live', 'orgs'] });

const INVALID_API_KEY = { status: 401, body: { detail: { error: 'invalid_api_key', message: 'Invalid API key' } } };

describe('identity + orgs + two gateways as separate processes', () => {
  it('rejects a deleted key on gateway A at once and on gateway B within 1 s', async () => {
    const { token } = await signUp(topology.gatewayA, topology.gatewayB, 'keys');
    const auth = { authorization: `Bearer ${token}` };
    const org = await call(topology.gatewayA, 'POST', '/api/organizations', auth, { name: 'Replicated Org' });
    expect(org.status).toBe(201);
    const orgId = (org.body as { id: string }).id;
    const created = await call(topology.gatewayB, 'POST', '/api/api-keys', auth, { name: 'replicated', organization_id: orgId, scopes: ['organizations:read'] });
    expect(created.status).toBe(201);
    const { id, key } = created.body as { id: string; key: string };

    // Both replicas accept the key and now hold it in their caches.
    const listed = { status: 200, body: [expect.objectContaining({ id: orgId, my_role: 'owner' })] };
    for (const gw of [topology.gatewayA, topology.gatewayB]) expect(await call(gw, 'GET', '/api/organizations', { 'x-api-key': key })).toEqual(listed);

    expect((await call(topology.gatewayA, 'DELETE', `/api/api-keys/${id}`, auth)).status).toBe(204);
    const deletedAt = Date.now();
    expect(await call(topology.gatewayA, 'GET', '/api/organizations', { 'x-api-key': key })).toEqual(INVALID_API_KEY);

    const onB = await untilRefused(() => call(topology.gatewayB, 'GET', '/api/organizations', { 'x-api-key': key }), deletedAt);
    expect(onB).toEqual(INVALID_API_KEY);
    expect(Date.now() - deletedAt).toBeLessThan(1_000);
  });

  it('rejects the keys of a deleted organization on gateway A at once and on gateway B within 1 s', async () => {
    const auth = { authorization: `Bearer ${(await signUp(topology.gatewayB, topology.gatewayA, 'keysorg')).token}` };
    const orgId = ((await call(topology.gatewayA, 'POST', '/api/organizations', auth, { name: 'Doomed Org' })).body as { id: string }).id;
    const { key } = (await call(topology.gatewayA, 'POST', '/api/api-keys', auth, { name: 'doomed', organization_id: orgId, scopes: ['organizations:read'] })).body as { key: string };
    for (const gw of [topology.gatewayA, topology.gatewayB]) expect((await call(gw, 'GET', '/api/organizations', { 'x-api-key': key })).status).toBe(200);

    expect((await call(topology.gatewayA, 'DELETE', `/api/organizations/${orgId}`, auth)).status).toBe(204);
    const deletedAt = Date.now();
    // orgs reports the deleted keys in its response, so A needs no PubSub message.
    expect(await call(topology.gatewayA, 'GET', '/api/organizations', { 'x-api-key': key })).toEqual(INVALID_API_KEY);
    const onB = await untilRefused(() => call(topology.gatewayB, 'GET', '/api/organizations', { 'x-api-key': key }), deletedAt);
    expect(onB).toEqual(INVALID_API_KEY);
    expect(Date.now() - deletedAt).toBeLessThan(1_000);
  });
});
