/**
 * Integration tokens across replicas (§4.15) on the real PostgreSQL and Redis: two integrations
 * processes (`xentree subgraph integrations`), each behind its own gateway. Both learn of a new
 * organization and race to create its key: exactly one key survives and both publish it. A token
 * revoked or rotated on one replica is refused on the other at once, and an organization deleted
 * through one is gone from both. (live runs too: the user profile's `liveNickname` is its field.)
 */
import { describe, expect, it } from 'vitest';
import { call, signUp, useTopology } from './topology.ts';

const topology = useTopology({ name: 'integrations', subgraphs: ['identity', 'orgs', 'live', 'integrations'], perGateway: 'integrations' });

async function keyRows(orgIds: string[]): Promise<{ organization_id: string; kid: string }[]> {
  const res = await topology.query<{ organization_id: string; kid: string }>(`select "organization_id", "kid" from "integrations"."tenant_keys" where "organization_id" = any($1::uuid[]) order by "organization_id"`, [orgIds]);
  return res.rows;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two integrations replicas', () => {
  it('racing to create tenant keys (the created event on both, and first use on both) keep exactly one key per tenant', async () => {
    const { token } = await signUp(topology.gatewayA, topology.gatewayB, 'intrace');
    const auth = { authorization: `Bearer ${token}` };
    const created = await Promise.all([1, 2, 3, 4].map((i) => call(i % 2 ? topology.gatewayA : topology.gatewayB, 'POST', '/api/organizations', auth, { name: `Race ${i}` })));
    const ids = created.map((r) => (r.body as { id: string }).id);
    // Both replicas are asked at once while their event handlers are generating keys too.
    const answers = await Promise.all(ids.flatMap((id) => [topology.gatewayA, topology.gatewayB].map((gw) => call(gw, 'GET', `/api/integration/fingerprint?tenantId=${id}`))));
    for (const a of answers) expect(a.status).toBe(200);
    await sleep(1_500); // let every event-driven creation finish
    const rows = await keyRows(ids);
    expect(rows.map((r) => r.organization_id).sort()).toEqual([...ids].sort());
    for (const [i, id] of ids.entries()) {
      const kids = new Set([answers[2 * i], answers[2 * i + 1]].map((a) => (a?.body as { kid: string }).kid));
      expect(kids, `one kid for ${id}`).toEqual(new Set([rows.find((r) => r.organization_id === id)?.kid]));
      const later = await Promise.all([topology.gatewayA, topology.gatewayB].map((gw) => call(gw, 'GET', `/api/integration/jwks?tenantId=${id}`)));
      expect(later.map((l) => (l.body as { keys: { kid: string }[] }).keys[0]?.kid)).toEqual([...kids, ...kids]);
    }
  });

  it('a revocation or rotation on one replica is refused on the other at once; a deleted organization is gone from both', async () => {
    const { token } = await signUp(topology.gatewayA, topology.gatewayB, 'intrevoke');
    const auth = { authorization: `Bearer ${token}` };
    const orgId = ((await call(topology.gatewayA, 'POST', '/api/organizations', auth, { name: 'Revocations' })).body as { id: string }).id;
    const grant = async (gw: string) => {
      const res = await call(gw, 'POST', '/api/integration/grant', auth, { mode: 'api', origin: 'https://partner.example', scopes: ['rag:read'], tenantId: orgId });
      expect(res.status).toBe(201);
      return res.body as { token: string; jti: string };
    };
    const reason = async (gw: string, t: string) => ((await call(gw, 'POST', '/api/integration/verify', auth, { token: t, tenantId: orgId })).body as { reason: string | null }).reason;

    const g = await grant(topology.gatewayA);
    expect(await reason(topology.gatewayB, g.token)).toBe(null);
    expect((await call(topology.gatewayA, 'POST', '/api/integration/revoke', auth, { integrationToken: g.token })).status).toBe(200);
    expect(await reason(topology.gatewayB, g.token)).toBe('revoked');

    const h = await grant(topology.gatewayB);
    expect(await reason(topology.gatewayA, h.token)).toBe(null);
    const rotated = await call(topology.gatewayB, 'POST', '/api/integration/rotate', auth, { mode: 'api', integrationToken: h.token });
    expect(rotated.status).toBe(201);
    expect(await reason(topology.gatewayA, h.token)).toBe('revoked');
    expect(await reason(topology.gatewayA, (rotated.body as { token: string }).token)).toBe(null);

    expect((await call(topology.gatewayA, 'DELETE', `/api/organizations/${orgId}`, auth)).status).toBe(204);
    // Each replica forgets the key when orgs' event reaches it through Redis: await both.
    const gone = async (gateway: string, path: string) => {
      const deadline = Date.now() + 10_000;
      let res = await call(gateway, 'GET', `/api/integration/${path}?tenantId=${orgId}`);
      while (res.status === 200 && Date.now() < deadline) {
        await sleep(50);
        res = await call(gateway, 'GET', `/api/integration/${path}?tenantId=${orgId}`);
      }
      return res;
    };
    const notFound = { status: 404, body: { detail: { error: 'not_found', message: 'Tenant not found' } } };
    for (const gateway of [topology.gatewayA, topology.gatewayB]) for (const path of ['jwks', 'fingerprint']) expect(await gone(gateway, path)).toEqual(notFound);
    expect(await keyRows([orgId])).toEqual([]);
  });

  it('a member removed through one replica is refused by the other at once (its membership was cached there)', async () => {
    const owner = await signUp(topology.gatewayA, topology.gatewayB, 'intmember');
    const member = await signUp(topology.gatewayA, topology.gatewayB, 'intleaver');
    const asOwner = { authorization: `Bearer ${owner.token}` };
    const orgId = ((await call(topology.gatewayA, 'POST', '/api/organizations', asOwner, { name: 'Memberships' })).body as { id: string }).id;
    expect((await call(topology.gatewayA, 'POST', `/api/organizations/${orgId}/members`, asOwner, { user_id: member.id, role: 'member' })).status).toBe(201);
    const g = (await call(topology.gatewayA, 'POST', '/api/integration/grant', asOwner, { mode: 'api', origin: 'https://partner.example', scopes: ['rag:read'], tenantId: orgId })).body as { token: string };
    const verifyOnB = () => call(topology.gatewayB, 'POST', '/api/integration/verify', { authorization: `Bearer ${member.token}` }, { token: g.token, tenantId: orgId });
    expect(await verifyOnB()).toMatchObject({ status: 200, body: { valid: true, reason: null } });
    expect(await verifyOnB()).toMatchObject({ status: 200, body: { valid: true, reason: null } });
    expect((await call(topology.gatewayA, 'DELETE', `/api/organizations/${orgId}/members/${member.id}`, asOwner)).status).toBe(204);
    expect(await verifyOnB()).toEqual({ status: 403, body: { detail: { error: 'tenant_mismatch', message: 'Credential is not valid for this organization' } } });
  });
});
