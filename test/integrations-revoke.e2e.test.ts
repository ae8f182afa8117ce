/**
 * Integration tokens through REST, part two (§3.9, §4.15): revoke (both forms, `alreadyRevoked`),
 * rotate (scope rules, atomicity), the public JWKS and fingerprint, the admin revocation list, and
 * what deleting the organization removes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { coded, notFoundBody, TIMESTAMP, UNKNOWN_ID, UUID_V4, wire } from './assertions.ts';
import { apiKey, createKey, insufficientRole, orgWith, platformAdmin, pollUntil, TENANT_MISMATCH, type Org, type Person } from './org-fixtures.ts';
import { ADMIN_REQUIRED, claimsFor, forge, grant, integrationsSql, INVALID_TOKEN, ORIGIN, payloadOf, SCOPE_ESCALATION, tokenRevoked } from './integration-fixtures.ts';

let org: Org;
let owner: Person;
let member: Person;
let outsider: Person;

const t = useTestStack();
beforeAll(async () => {
  const made = await orgWith(t, { member: 'member', outsider: 'none' });
  ({ org, owner } = made);
  ({ member, outsider } = made.people);
});

const post = (path: string, json: unknown, who: Person | Record<string, string>) =>
  t.rest('POST', path, { json, headers: 'access' in who ? bearer(who.access as string) : who });
const verifyReason = async (token: string) => ((await post('/api/integration/verify', { token, tenantId: org.id }, owner)).body as { reason: string | null }).reason;

describe('INT-3 POST /api/integration/revoke', () => {
  it('revokes by token (form A), then answers alreadyRevoked with the original revokedAt', async () => {
    const g = await grant(t, owner, org.id);
    const first = await post('/api/integration/revoke', { integrationToken: g.token, reason: 'security-incident' }, owner);
    expect(wire(first)).toEqual({ status: 200, body: { revoked: true, jti: g.jti, tenantId: org.id, revokedAt: expect.stringMatching(TIMESTAMP), alreadyRevoked: false } });
    const again = await post('/api/integration/revoke', { tenantId: org.id, jti: g.jti }, owner);
    expect(wire(again)).toEqual({ status: 200, body: { ...(first.body as object), alreadyRevoked: true } });
    expect(await verifyReason(g.token)).toBe('revoked');
  });

  it('revokes by tenant and jti (form B); an API key of the tenant with integrations:write may revoke', async () => {
    const g = await grant(t, owner, org.id);
    const key = await createKey(t, owner, org.id, ['integrations:write']);
    const res = await post('/api/integration/revoke', { tenantId: org.id, jti: g.jti, reason: null }, apiKey(key.key));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ revoked: true, jti: g.jti, alreadyRevoked: false });
  });

  it('accepts an expired token whose signature verifies (form A)', async () => {
    const g = await grant(t, owner, org.id);
    const now = Math.floor(Date.now() / 1000);
    const expired = await forge(t, org.id, { ...payloadOf(g.token), iat: now - 300, exp: now - 100 });
    expect(await verifyReason(expired)).toBe('expired');
    expect((await post('/api/integration/revoke', { integrationToken: expired }, owner)).body).toMatchObject({ jti: g.jti, alreadyRevoked: false });
  });

  it('a token that does not verify: 400 invalid_integration_token; an unknown jti: 404 Grant not found', async () => {
    const g = await grant(t, owner, org.id);
    const [h, , s] = g.token.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payloadOf(g.token), jti: UNKNOWN_ID })).toString('base64url')}.${s}`;
    for (const token of ['garbage', tampered]) {
      expect(wire(await post('/api/integration/revoke', { integrationToken: token }, owner))).toEqual({ status: 400, body: INVALID_TOKEN });
    }
    expect(wire(await post('/api/integration/revoke', { tenantId: org.id, jti: UNKNOWN_ID }, owner))).toEqual({ status: 404, body: notFoundBody('Grant') });
    // A jti of another tenant is not this tenant's grant.
    const other = await orgWith(t, {});
    const foreign = await grant(t, other.owner, other.org.id);
    expect(wire(await post('/api/integration/revoke', { tenantId: org.id, jti: foreign.jti }, owner))).toEqual({ status: 404, body: notFoundBody('Grant') });
  });

  it('a member: 403 insufficient_role; a non-member: 403 tenant_mismatch', async () => {
    const g = await grant(t, owner, org.id);
    expect(wire(await post('/api/integration/revoke', { integrationToken: g.token }, member))).toEqual({ status: 403, body: insufficientRole('admin') });
    expect(wire(await post('/api/integration/revoke', { tenantId: org.id, jti: g.jti }, outsider))).toEqual({ status: 403, body: TENANT_MISMATCH });
    // The grant is looked up before the role (§1.5): a member naming an unknown jti gets the 404.
    expect(wire(await post('/api/integration/revoke', { tenantId: org.id, jti: UNKNOWN_ID }, member))).toEqual({ status: 404, body: notFoundBody('Grant') });
    expect(wire(await post('/api/integration/revoke', { tenantId: org.id, jti: UNKNOWN_ID }, outsider))).toEqual({ status: 403, body: TENANT_MISMATCH });
  });

  it('neither or both forms: 422', async () => {
    const g = await grant(t, owner, org.id);
    const rule = (input: unknown) => ({
      status: 422,
      body: { detail: [{ type: 'value_error', loc: ['body'], msg: 'Value error, Exactly one of integrationToken or (tenantId and jti) must be provided', input, ctx: { error: {} } }] },
    });
    for (const body of [{}, { reason: 'x' }, { integrationToken: g.token, jti: g.jti }, { tenantId: org.id }]) {
      expect(wire(await post('/api/integration/revoke', body, owner)), JSON.stringify(body)).toEqual(rule(body));
    }
    expect((await post('/api/integration/revoke', { tenantId: org.id, jti: g.jti, reason: 'r'.repeat(201) }, owner)).body).toMatchObject({
      detail: [{ type: 'string_too_long', loc: ['body', 'reason'] }],
    });
  });
});

describe('INT-4 POST /api/integration/rotate', () => {
  it('issues a replacement with the same tenant and origin and revokes the old token (source rotate)', async () => {
    const g = await grant(t, owner, org.id, { scopes: ['profile:read', 'live:read', 'xel:read'], mode: 'embed' });
    const res = await post('/api/integration/rotate', { mode: 'api', integrationToken: g.token, scopes: ['live:read'], ttlSeconds: 600 }, owner);
    expect(res.status).toBe(201);
    const body = res.body as Record<string, unknown>;
    expect(body).toEqual({
      token: expect.any(String),
      tokenType: 'Bearer',
      expiresAt: expect.stringMatching(TIMESTAMP),
      jti: expect.stringMatching(UUID_V4),
      kid: g.kid,
      tenantId: org.id,
      scopes: ['live:read'],
      origin: ORIGIN,
      previousJti: g.jti,
      previousRevoked: true,
    });
    const claims = payloadOf(body.token as string);
    expect(claims).toMatchObject({ mode: 'api', tid: org.id, origin: ORIGIN, scopes: ['live:read'], exp: (claims.iat as number) + 600 });
    expect(await verifyReason(g.token)).toBe('revoked');
    expect(await verifyReason(body.token as string)).toBe(null);
    // Rotating the revoked token again is refused with its jti.
    expect(wire(await post('/api/integration/rotate', { mode: 'api', integrationToken: g.token }, owner))).toEqual({ status: 400, body: tokenRevoked(g.jti) });
  });

  it('keeps the old token with revokePrevious false; the scopes default to the old ones', async () => {
    const g = await grant(t, owner, org.id);
    const res = await post('/api/integration/rotate', { mode: 'embed', integrationToken: g.token, revokePrevious: false }, owner);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ scopes: g.scopes, previousJti: g.jti, previousRevoked: false });
    expect(await verifyReason(g.token)).toBe(null);
  });

  it('more scopes than the old token: 400 scope_escalation; a bad token: 400 invalid_integration_token; roles and tenancy as for grant', async () => {
    const g = await grant(t, owner, org.id, { scopes: ['profile:read'] });
    expect(wire(await post('/api/integration/rotate', { mode: 'api', integrationToken: g.token, scopes: ['profile:read', 'rag:read'] }, owner))).toEqual({ status: 400, body: SCOPE_ESCALATION });
    expect(wire(await post('/api/integration/rotate', { mode: 'api', integrationToken: 'x.y.z' }, owner))).toEqual({ status: 400, body: INVALID_TOKEN });
    expect(wire(await post('/api/integration/rotate', { mode: 'api', integrationToken: g.token }, member))).toEqual({ status: 403, body: insufficientRole('admin') });
    expect(wire(await post('/api/integration/rotate', { mode: 'api', integrationToken: g.token }, outsider))).toEqual({ status: 403, body: TENANT_MISMATCH });
    expect((await post('/api/integration/rotate', { integrationToken: g.token }, owner)).body).toEqual({
      detail: [{ type: 'missing', loc: ['body', 'mode'], msg: 'Field required', input: { integrationToken: g.token } }],
    });
  });

  it('is one transaction: when revoking the old token fails, the new grant is not kept either', async () => {
    const g = await grant(t, owner, org.id);
    const grantsBefore = await integrationsSql(t, `select "jti" from "integrations"."grants" where "tenant_id" = ?`, [org.id]);
    await integrationsSql(t, `create function "integrations"."fail_rotation"() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`);
    await integrationsSql(t, `create trigger "fail_rotation" before insert on "integrations"."revocations" for each row when (new."source" = 'rotate') execute function "integrations"."fail_rotation"()`);
    try {
      const res = await post('/api/integration/rotate', { mode: 'api', integrationToken: g.token }, owner);
      expect(res.status).toBe(500);
      expect(res.body).toEqual(coded('internal_error', 'Internal server error', { request_id: res.headers.get('x-request-id') }));
    } finally {
      await integrationsSql(t, `drop trigger "fail_rotation" on "integrations"."revocations"`);
      await integrationsSql(t, `drop function "integrations"."fail_rotation"()`);
    }
    expect(await integrationsSql(t, `select "jti" from "integrations"."grants" where "tenant_id" = ?`, [org.id])).toEqual(grantsBefore);
    expect(await verifyReason(g.token)).toBe(null);
  });
});

describe('INT-5 / INT-6: the public key', () => {
  it('JWKS: public, one RS256 key, cacheable for five minutes', async () => {
    const res = await t.rest('GET', `/api/integration/jwks?tenantId=${org.id}`, { headers: bearer('not-even-a-jwt') });
    expect(res.status).toBe(200);
    const body = res.body as { keys: Record<string, string>[] };
    expect(body).toEqual({ keys: [{ kty: 'RSA', use: 'sig', alg: 'RS256', kid: expect.stringMatching(/^[\w-]{43}$/), n: expect.stringMatching(/^[\w-]{342}$/), e: 'AQAB' }] });
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const fp = await t.rest('GET', `/api/integration/fingerprint?tenantId=${org.id}`);
    const kid = body.keys[0]?.kid ?? '';
    const hex = Buffer.from(kid, 'base64url').toString('hex').toUpperCase().match(/../g)?.join(':');
    expect(wire(fp)).toEqual({ status: 200, body: { tenantId: org.id, kid, algorithm: 'SHA-256', fingerprint: kid, fingerprintHex: hex } });
    expect((fp.body as { fingerprintHex: string }).fingerprintHex).toHaveLength(95);
    expect(fp.headers.get('cache-control')).toBe('public, max-age=300');
  });

  it('every organization has its own key; an unknown tenant is 404 Tenant not found (no-store); a bad id 422', async () => {
    const other = await orgWith(t, {});
    const a = (await t.rest('GET', `/api/integration/fingerprint?tenantId=${org.id}`)).body as { kid: string };
    const b = (await t.rest('GET', `/api/integration/fingerprint?tenantId=${other.org.id}`)).body as { kid: string };
    expect(a.kid).not.toBe(b.kid);
    for (const path of ['jwks', 'fingerprint']) {
      const res = await t.rest('GET', `/api/integration/${path}?tenantId=${UNKNOWN_ID}`);
      expect(wire(res)).toEqual({ status: 404, body: notFoundBody('Tenant') });
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(wire(await t.rest('GET', `/api/integration/${path}`))).toEqual({
        status: 422,
        body: { detail: [{ type: 'missing', loc: ['query', 'tenantId'], msg: 'Field required', input: null }] },
      });
      expect((await t.rest('GET', `/api/integration/${path}?tenantId=abc`)).body).toMatchObject({ detail: [{ type: 'uuid_parsing', loc: ['query', 'tenantId'] }] });
    }
  });

  it("deleting the organization removes its key pair and grants: JWKS and fingerprint answer 404", async () => {
    const doomed = await orgWith(t, {});
    const g = await grant(t, doomed.owner, doomed.org.id);
    expect((await t.rest('GET', `/api/integration/jwks?tenantId=${doomed.org.id}`)).status).toBe(200);
    expect((await t.rest('DELETE', `/api/organizations/${doomed.org.id}`, { headers: bearer(doomed.owner.access) })).status).toBe(204);
    // The integrations subgraph learns of the deletion from orgs' event: at once in memory, a
    // moment later through Redis (the services project), so each answer is awaited, then checked.
    for (const path of ['jwks', 'fingerprint']) {
      const gone = await pollUntil(() => t.rest('GET', `/api/integration/${path}?tenantId=${doomed.org.id}`), (r) => r.status !== 200, 10_000);
      expect(wire(gone)).toEqual({ status: 404, body: notFoundBody('Tenant') });
    }
    expect(await integrationsSql(t, `select "jti" from "integrations"."grants" where "tenant_id" = ?`, [doomed.org.id])).toEqual([]);
    expect(await integrationsSql(t, `select "kid" from "integrations"."tenant_keys" where "organization_id" = ?`, [doomed.org.id])).toEqual([]);
    expect(g.jti).toMatch(UUID_V4);
  });

  it('the key is created with the organization, and its private half is stored sealed', async () => {
    const fresh = await orgWith(t, {});
    // Made from orgs' event, off the request path: it appears shortly after ORG-2 answers.
    const rows = await pollUntil(
      () => integrationsSql<{ kid: string; private_key_sealed: string }>(t, `select "kid", "private_key_sealed" from "integrations"."tenant_keys" where "organization_id" = ?`, [fresh.org.id]),
      (r) => r.length > 0,
      10_000,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.private_key_sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(rows[0]?.private_key_sealed).not.toContain('PRIVATE KEY');
  });
});

describe('INT-7 GET /api/admin/integration-token-revocations', () => {
  it('lists revocations newest first with paging and filters (platform admin only)', async () => {
    const padmin = await platformAdmin(t);
    const mine = await orgWith(t, {});
    const a = await grant(t, mine.owner, mine.org.id);
    const b = await grant(t, mine.owner, mine.org.id);
    await post('/api/integration/revoke', { tenantId: mine.org.id, jti: a.jti }, mine.owner);
    const since = new Date().toISOString();
    await post('/api/integration/rotate', { mode: 'api', integrationToken: b.token }, mine.owner);
    const list = await t.rest('GET', `/api/admin/integration-token-revocations?tenantId=${mine.org.id}`, { headers: bearer(padmin.access) });
    const item = (g: { jti: string; expiresAt: string }, reason: string, source: string) => ({
      jti: g.jti,
      tenantId: mine.org.id,
      reason,
      revokedAt: expect.stringMatching(TIMESTAMP),
      revokedBy: mine.owner.id,
      expiresAt: g.expiresAt,
      source,
    });
    expect(wire(list)).toEqual({ status: 200, body: { items: [item(b, 'rotated', 'rotate'), item(a, 'unspecified', 'revoke')], total: 2, limit: 20, offset: 0 } });
    const page2 = await t.rest('GET', `/api/admin/integration-token-revocations?tenantId=${mine.org.id}&limit=1&offset=1`, { headers: bearer(padmin.access) });
    expect(page2.body).toEqual({ items: [item(a, 'unspecified', 'revoke')], total: 2, limit: 1, offset: 1 });
    const recent = await t.rest('GET', `/api/admin/integration-token-revocations?tenantId=${mine.org.id}&since=${encodeURIComponent(since)}`, { headers: bearer(padmin.access) });
    expect(recent.body).toMatchObject({ items: [{ jti: b.jti }], total: 1 });
    const all = await t.rest('GET', '/api/admin/integration-token-revocations?limit=100', { headers: bearer(padmin.access) });
    expect((all.body as { total: number }).total).toBeGreaterThanOrEqual(2);
  });

  it('a non-admin: 403 admin_required; an API key: 401 bearer_required; bad paging: 422', async () => {
    expect(wire(await t.rest('GET', '/api/admin/integration-token-revocations', { headers: bearer(owner.access) }))).toEqual({ status: 403, body: ADMIN_REQUIRED });
    const key = await createKey(t, owner, org.id, ['integrations:read']);
    expect(wire(await t.rest('GET', '/api/admin/integration-token-revocations', { headers: apiKey(key.key) }))).toEqual({
      status: 401,
      body: coded('bearer_required', 'This endpoint requires a bearer token'),
    });
    const padmin = await platformAdmin(t);
    expect((await t.rest('GET', '/api/admin/integration-token-revocations?limit=101', { headers: bearer(padmin.access) })).body).toEqual({
      detail: [{ type: 'less_than_equal', loc: ['query', 'limit'], msg: 'Input should be less than or equal to 100', input: '101', ctx: { le: 100 } }],
    });
    expect((await t.rest('GET', '/api/admin/integration-token-revocations?since=2026-01-01T00:00:00', { headers: bearer(padmin.access) })).body).toMatchObject({
      detail: [{ type: 'timezone_aware', loc: ['query', 'since'] }],
    });
  });
});

// Tokens forged for another tenant id than their key's are covered in the verify suite; here a
// forged token with an unknown jti shows that form A needs a grant of the tenant.
describe('a validly signed token this tenant never issued', () => {
  it('form A: 404 Grant not found', async () => {
    const forged = await forge(t, org.id, claimsFor(org.id, owner.id));
    expect(wire(await post('/api/integration/revoke', { integrationToken: forged }, owner))).toEqual({ status: 404, body: notFoundBody('Grant') });
  });
});
