/**
 * INT-2 verify remembers memberships, verified signatures and "not revoked" answers (issue 15's
 * benchmark); every change is felt at once: a revocation or rotation refuses a token verified just
 * before it, a removed member or a deleted organization is refused, an added member is admitted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestStack, type TestStack } from './harness.ts';
import { wire } from './assertions.ts';
import { addMember, orgWith, TENANT_MISMATCH, type Org, type Person } from './org-fixtures.ts';
import { grant } from './integration-fixtures.ts';

let t: TestStack;
let org: Org;
let owner: Person;
let member: Person;
let outsider: Person;

beforeAll(async () => {
  t = await startTestStack();
  const made = await orgWith(t, { member: 'member', outsider: 'none' });
  ({ org, owner } = made);
  ({ member, outsider } = made.people);
});
afterAll(async () => {
  await t?.close();
});

const verify = async (token: string, who: Person, tenantId = org.id) =>
  wire(await t.rest('POST', '/api/integration/verify', { json: { token, tenantId }, headers: bearer(who.access) }));
const VALID = { status: 200, body: { valid: true, claims: expect.objectContaining({ jti: expect.any(String) }) as unknown, reason: null } };
const refused = (reason: string) => ({ status: 200, body: { valid: false, claims: null, reason } });

describe('what INT-2 remembers is forgotten at once', () => {
  it('a token verified before its revocation is refused as soon as INT-3 has answered', async () => {
    const g = await grant(t, owner, org.id);
    expect(await verify(g.token, owner)).toEqual(VALID);
    expect(await verify(g.token, owner)).toEqual(VALID);
    expect((await t.rest('POST', '/api/integration/revoke', { json: { tenantId: org.id, jti: g.jti }, headers: bearer(owner.access) })).status).toBe(200);
    expect(await verify(g.token, owner)).toEqual(refused('revoked'));
  });

  it('a token verified before its rotation is refused as soon as INT-4 has answered; the new one is valid', async () => {
    const g = await grant(t, owner, org.id);
    expect(await verify(g.token, member)).toEqual(VALID);
    const rotated = await t.rest('POST', '/api/integration/rotate', { json: { mode: 'api', integrationToken: g.token }, headers: bearer(owner.access) });
    expect(rotated.status).toBe(201);
    expect(await verify(g.token, member)).toEqual(refused('revoked'));
    expect(await verify((rotated.body as { token: string }).token, member)).toEqual(VALID);
  });

  it('a member removed after verifying is refused at once; an outsider added is admitted at once', async () => {
    const g = await grant(t, owner, org.id);
    const { org: other, owner: otherOwner, people } = await orgWith(t, { leaver: 'member' });
    const h = await grant(t, otherOwner, other.id);
    expect(await verify(h.token, people.leaver, other.id)).toEqual(VALID);
    const removed = await t.rest('DELETE', `/api/organizations/${other.id}/members/${people.leaver.id}`, { headers: bearer(otherOwner.access) });
    expect(removed.status).toBe(204);
    expect(await verify(h.token, people.leaver, other.id)).toEqual({ status: 403, body: TENANT_MISMATCH });

    expect(await verify(g.token, outsider)).toEqual({ status: 403, body: TENANT_MISMATCH });
    await addMember(t, org.id, owner, outsider.id);
    expect(await verify(g.token, outsider)).toEqual(VALID);
  });

  it('a member of a deleted organization is refused at once', async () => {
    const { org: doomed, owner: doomedOwner, people } = await orgWith(t, { stayer: 'member' });
    const g = await grant(t, doomedOwner, doomed.id);
    expect(await verify(g.token, people.stayer, doomed.id)).toEqual(VALID);
    expect((await t.rest('DELETE', `/api/organizations/${doomed.id}`, { headers: bearer(doomedOwner.access) })).status).toBe(204);
    expect(await verify(g.token, people.stayer, doomed.id)).toEqual({ status: 403, body: TENANT_MISMATCH });
  });
});
