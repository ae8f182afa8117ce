/**
 * Integration tokens and the skills connector through GraphQL (§3.8, §3.9): the same services as
 * REST, with errors as `extensions.code` from the integrations subgraph, and the tenant key
 * federated onto `Organization`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { TIMESTAMP, UNKNOWN_ID } from './assertions.ts';
import { apiKey, createKey, orgWith, platformAdmin, type Org, type Person } from './org-fixtures.ts';
import { ORIGIN, payloadOf } from './integration-fixtures.ts';

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

const GRANT = `mutation($input: GrantIntegrationTokenInput!) { grantIntegrationToken(input: $input) { token tokenType expiresAt jti kid tenantId scopes origin } }`;
const VERIFY = `query($input: VerifyIntegrationTokenInput!) { verifyIntegrationToken(input: $input) { valid reason claims { iss aud sub tid scopes origin mode jti iat exp } } }`;
const REVOKE = `mutation($input: RevokeIntegrationTokenInput!) { revokeIntegrationToken(input: $input) { revoked jti tenantId revokedAt alreadyRevoked } }`;
const ROTATE = `mutation($input: RotateIntegrationTokenInput!) { rotateIntegrationToken(input: $input) { jti scopes origin previousJti previousRevoked } }`;

function failure(field: string, code: string, status: number, message: string, extra: Record<string, unknown> = {}, data: unknown = null) {
  return { errors: [{ message, path: [field], extensions: { code, status, ...extra, serviceName: 'integrations' } }], data };
}

async function grantGql(who: Person, input: Record<string, unknown> = {}): Promise<{ token: string; jti: string; kid: string }> {
  const res = await t.gql(GRANT, { input: { mode: 'API', origin: ORIGIN, scopes: ['profile:read', 'rag:read'], tenantId: org.id, ...input } }, bearer(who.access));
  expect(res.body.errors).toBeUndefined();
  return res.body.data?.grantIntegrationToken as { token: string; jti: string; kid: string };
}

describe('integration tokens over GraphQL', () => {
  it('grants, verifies, rotates and revokes', async () => {
    const res = await t.gql(GRANT, { input: { mode: 'EMBED', origin: ORIGIN, scopes: ['live:read'], ttlSeconds: 90, tenantId: org.id } }, bearer(owner.access));
    const g = res.body.data?.grantIntegrationToken as Record<string, unknown>;
    expect(res.body).toEqual({
      data: {
        grantIntegrationToken: { token: expect.any(String), tokenType: 'Bearer', expiresAt: expect.stringMatching(TIMESTAMP), jti: expect.any(String), kid: expect.any(String), tenantId: org.id, scopes: ['live:read'], origin: ORIGIN },
      },
    });
    const claims = payloadOf(g.token as string);
    expect(claims).toMatchObject({ mode: 'embed', exp: (claims.iat as number) + 90 });
    const verified = await t.gql(VERIFY, { input: { token: g.token, tenantId: org.id } }, bearer(member.access));
    expect(verified.body).toEqual({ data: { verifyIntegrationToken: { valid: true, reason: null, claims } } });
    const rotated = await t.gql(ROTATE, { input: { mode: 'API', integrationToken: g.token } }, bearer(owner.access));
    expect(rotated.body).toEqual({ data: { rotateIntegrationToken: { jti: expect.any(String), scopes: ['live:read'], origin: ORIGIN, previousJti: g.jti, previousRevoked: true } } });
    const newJti = (rotated.body.data?.rotateIntegrationToken as { jti: string }).jti;
    const revoked = await t.gql(REVOKE, { input: { tenantId: org.id, jti: newJti } }, bearer(owner.access));
    expect(revoked.body).toEqual({ data: { revokeIntegrationToken: { revoked: true, jti: newJti, tenantId: org.id, revokedAt: expect.stringMatching(TIMESTAMP), alreadyRevoked: false } } });
    const again = await t.gql(VERIFY, { input: { token: g.token, tenantId: org.id } }, bearer(owner.access));
    expect(again.body).toEqual({ data: { verifyIntegrationToken: { valid: false, reason: 'revoked', claims: null } } });
  });

  it('errors carry the registry codes and extras', async () => {
    const input = { mode: 'API', origin: ORIGIN, scopes: ['rag:read'], tenantId: org.id };
    expect((await t.gql(GRANT, { input }, bearer(member.access))).body).toEqual(
      failure('grantIntegrationToken', 'INSUFFICIENT_ROLE', 403, 'Insufficient organization role', { required_role: 'admin' }),
    );
    expect((await t.gql(GRANT, { input }, bearer(outsider.access))).body).toEqual(failure('grantIntegrationToken', 'TENANT_MISMATCH', 403, 'Credential is not valid for this organization'));
    expect((await t.gql(GRANT, { input: { ...input, tenantId: null } }, bearer(owner.access))).body).toEqual(failure('grantIntegrationToken', 'TENANT_REQUIRED', 400, 'tenantId is required'));
    const bad = await t.gql(GRANT, { input: { ...input, origin: 'ftp://x', ttlSeconds: 5 } }, bearer(owner.access));
    expect(bad.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      status: 422,
      fields: [
        { type: 'value_error', loc: ['input', 'origin'] },
        { type: 'greater_than_equal', loc: ['input', 'ttlSeconds'] },
      ],
    });
    const g = await grantGql(owner, { scopes: ['rag:read'] });
    expect((await t.gql(ROTATE, { input: { mode: 'API', integrationToken: g.token, scopes: ['rag:read', 'xel:read'] } }, bearer(owner.access))).body).toEqual(
      failure('rotateIntegrationToken', 'SCOPE_ESCALATION', 400, 'Rotated token cannot gain scopes'),
    );
    expect((await t.gql(REVOKE, { input: { integrationToken: 'nope' } }, bearer(owner.access))).body).toEqual(
      failure('revokeIntegrationToken', 'INVALID_INTEGRATION_TOKEN', 400, 'Integration token is malformed or its signature is invalid'),
    );
    await t.gql(REVOKE, { input: { tenantId: org.id, jti: g.jti } }, bearer(owner.access));
    expect((await t.gql(ROTATE, { input: { mode: 'API', integrationToken: g.token } }, bearer(owner.access))).body).toEqual(
      failure('rotateIntegrationToken', 'INTEGRATION_TOKEN_REVOKED', 400, 'Integration token has been revoked', { jti: g.jti }),
    );
    expect((await t.gql(REVOKE, { input: { tenantId: org.id, jti: UNKNOWN_ID } }, bearer(owner.access))).body).toEqual(failure('revokeIntegrationToken', 'NOT_FOUND', 404, 'Grant not found'));
  });

  it('API keys: tenancy from the key, scopes checked first', async () => {
    const key = await createKey(t, owner, org.id, ['integrations:read']);
    const res = await t.gql(GRANT, { input: { mode: 'API', origin: ORIGIN, scopes: ['rag:read'] } }, apiKey(key.key));
    expect(res.body).toEqual(
      failure('grantIntegrationToken', 'INSUFFICIENT_API_KEY_SCOPE', 403, 'API key lacks required scope for this endpoint', { required_scope: 'integrations:write', granted_scopes: ['integrations:read'] }),
    );
    const writer = await createKey(t, owner, org.id, ['integrations:write']);
    const ok = await t.gql(GRANT, { input: { mode: 'API', origin: ORIGIN, scopes: ['rag:read'] } }, apiKey(writer.key));
    expect(ok.body.data?.grantIntegrationToken).toMatchObject({ tenantId: org.id });
  });
});

describe('public keys and the revocation list over GraphQL', () => {
  it('integrationJwks and integrationKeyFingerprint need no credentials; an unknown tenant is null', async () => {
    const res = await t.gql(`query($id: ID!) { integrationJwks(tenantId: $id) { keys { kty use alg kid n e } } integrationKeyFingerprint(tenantId: $id) { tenantId kid algorithm fingerprint fingerprintHex } }`, { id: org.id });
    const jwks = res.body.data?.integrationJwks as { keys: { kid: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(res.body.data?.integrationKeyFingerprint).toEqual({ tenantId: org.id, kid: jwks.keys[0]?.kid, algorithm: 'SHA-256', fingerprint: jwks.keys[0]?.kid, fingerprintHex: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/) });
    const none = await t.gql(`query($id: ID!) { integrationJwks(tenantId: $id) { keys { kid } } integrationKeyFingerprint(tenantId: $id) { kid } }`, { id: UNKNOWN_ID });
    expect(none.body).toEqual({ data: { integrationJwks: null, integrationKeyFingerprint: null } });
  });

  it('Organization.integrationKey is federated onto the organization', async () => {
    const res = await t.gql(`query($id: ID!) { organization(id: $id) { id name integrationKey { kid fingerprint fingerprintHex jwk { kty alg use kid e } } } }`, { id: org.id }, bearer(member.access));
    const fp = (await t.rest('GET', `/api/integration/fingerprint?tenantId=${org.id}`)).body as { kid: string; fingerprintHex: string };
    expect(res.body).toEqual({
      data: { organization: { id: org.id, name: org.name, integrationKey: { kid: fp.kid, fingerprint: fp.kid, fingerprintHex: fp.fingerprintHex, jwk: { kty: 'RSA', alg: 'RS256', use: 'sig', kid: fp.kid, e: 'AQAB' } } } },
    });
  });

  it('integrationTokenRevocations: platform admins only', async () => {
    const Q = `query($t: ID) { integrationTokenRevocations(tenantId: $t, limit: 5) { total limit offset items { jti tenantId source reason revokedBy } } }`;
    expect((await t.gql(Q, { t: org.id }, bearer(owner.access))).body).toEqual(failure('integrationTokenRevocations', 'ADMIN_REQUIRED', 403, 'Administrator role required'));
    const padmin = await platformAdmin(t);
    const res = await t.gql(Q, { t: org.id }, bearer(padmin.access));
    expect(res.body.data?.integrationTokenRevocations).toMatchObject({ limit: 5, offset: 0 });
  });
});

describe('skills connector over GraphQL (unconfigured)', () => {
  it('integrations is empty; starting OAuth is INTEGRATION_NOT_CONFIGURED; a callback with an unknown state is INVALID_OAUTH_STATE', async () => {
    expect((await t.gql('{ integrations { provider } }', {}, bearer(owner.access))).body).toEqual({ data: { integrations: [] } });
    expect((await t.gql('mutation { startGoogleCalendarOAuth { state } }', {}, bearer(owner.access))).body).toEqual(
      failure('startGoogleCalendarOAuth', 'INTEGRATION_NOT_CONFIGURED', 503, 'Integration is not configured'),
    );
    expect((await t.gql('mutation { completeGoogleCalendarOAuth(state: "x", code: "y") { provider } }', {})).body).toEqual(
      failure('completeGoogleCalendarOAuth', 'INVALID_OAUTH_STATE', 400, 'OAuth state is invalid, expired or already used'),
    );
  });
});
