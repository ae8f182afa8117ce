/**
 * Integration tokens through REST, INT-1..7 (§3.9, §4.15): grant, verify (every reason, in
 * order), revoke, rotate, the public JWKS and fingerprint, and the admin revocation list, with
 * exact statuses and bodies. A token is also checked offline with `jose` against the JWKS.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { bearer, useTestStack } from './harness.ts';
import { coded, TIMESTAMP, UNKNOWN_ID, UUID_V4, wire } from './assertions.ts';
import { apiKey, createKey, insufficientRole, orgWith, platformAdmin, scopeMissing, TENANT_MISMATCH, type Org, type Person } from './org-fixtures.ts';
import { claimsFor, forge, grant, headerOf, ORIGIN, payloadOf, TENANT_REQUIRED } from './integration-fixtures.ts';

let org: Org;
let owner: Person;
let admin: Person;
let member: Person;
let outsider: Person;

const t = useTestStack();
beforeAll(async () => {
  const made = await orgWith(t, { admin: 'admin', member: 'member', outsider: 'none' });
  ({ org, owner } = made);
  ({ admin, member, outsider } = made.people);
});

const post = (path: string, json: unknown, who: Person | Record<string, string>) =>
  t.rest('POST', path, { json, headers: 'access' in who ? bearer(who.access as string) : who });

describe('INT-1 POST /api/integration/grant', () => {
  it('issues an RS256 token for an owner: 201 with the documented body and claims', async () => {
    const res = await post('/api/integration/grant', { mode: 'embed', origin: ORIGIN, scopes: ['profile:read', 'quota:read'], tenantId: org.id }, owner);
    expect(res.status).toBe(201);
    const body = res.body as Record<string, unknown>;
    expect(body).toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      tokenType: 'Bearer',
      expiresAt: expect.stringMatching(TIMESTAMP),
      jti: expect.stringMatching(UUID_V4),
      kid: expect.stringMatching(/^[\w-]{43}$/),
      tenantId: org.id,
      scopes: ['profile:read', 'quota:read'],
      origin: ORIGIN,
    });
    const token = body.token as string;
    expect(headerOf(token)).toEqual({ alg: 'RS256', typ: 'JWT', kid: body.kid });
    const claims = payloadOf(token);
    expect(claims).toEqual({
      iss: 'xentree',
      aud: 'xentree-integration',
      sub: owner.id,
      tid: org.id,
      scopes: ['profile:read', 'quota:read'],
      origin: ORIGIN,
      mode: 'embed',
      jti: body.jti,
      iat: expect.any(Number),
      exp: (claims.iat as number) + 120,
    });
    expect(body.expiresAt).toBe(new Date((claims.exp as number) * 1000).toISOString());
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('is verifiable offline with a standard JOSE library against the published JWKS', async () => {
    const g = await grant(t, owner, org.id, { ttlSeconds: 30 });
    const jwks = await t.rest('GET', `/api/integration/jwks?tenantId=${org.id}`);
    const { payload, protectedHeader } = await jwtVerify(g.token, createLocalJWKSet(jwks.body as { keys: [] }), { issuer: 'xentree', audience: 'xentree-integration', algorithms: ['RS256'] });
    expect(protectedHeader.kid).toBe(g.kid);
    expect(payload.exp).toBe((payload.iat ?? 0) + 30);
  });

  it('lets an admin grant; a member gets 403 insufficient_role, a non-member and an unknown tenant 403 tenant_mismatch', async () => {
    expect((await post('/api/integration/grant', { mode: 'api', origin: 'http://localhost:3000', scopes: ['rag:read'], tenantId: org.id }, admin)).status).toBe(201);
    const body = { mode: 'api', origin: ORIGIN, scopes: ['rag:read'], tenantId: org.id };
    expect(wire(await post('/api/integration/grant', body, member))).toEqual({ status: 403, body: insufficientRole('admin') });
    expect(wire(await post('/api/integration/grant', body, outsider))).toEqual({ status: 403, body: TENANT_MISMATCH });
    expect(wire(await post('/api/integration/grant', { ...body, tenantId: UNKNOWN_ID }, owner))).toEqual({ status: 403, body: TENANT_MISMATCH });
  });

  it('a platform admin who is not a member may grant for any organization', async () => {
    const padmin = await platformAdmin(t);
    expect((await post('/api/integration/grant', { mode: 'api', origin: ORIGIN, scopes: ['rag:read'], tenantId: org.id }, padmin)).status).toBe(201);
  });

  it('with a bearer token and no tenantId: 400 tenant_required', async () => {
    expect(wire(await post('/api/integration/grant', { mode: 'api', origin: ORIGIN, scopes: ['rag:read'] }, owner))).toEqual({ status: 400, body: TENANT_REQUIRED });
    expect(wire(await post('/api/integration/grant', { mode: 'api', origin: ORIGIN, scopes: ['rag:read'], tenantId: null }, owner))).toEqual({ status: 400, body: TENANT_REQUIRED });
  });

  it("with an API key: the key's organization by default; another tenantId is 403 tenant_mismatch; a missing scope 403", async () => {
    const key = await createKey(t, owner, org.id, ['integrations:write']);
    const res = await post('/api/integration/grant', { mode: 'api', origin: ORIGIN, scopes: ['xel:read'] }, apiKey(key.key));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ tenantId: org.id, scopes: ['xel:read'] });
    expect((await post('/api/integration/grant', { mode: 'api', origin: ORIGIN, scopes: ['xel:read'], tenantId: org.id }, apiKey(key.key))).status).toBe(201);
    const other = await orgWith(t, {});
    expect(wire(await post('/api/integration/grant', { mode: 'api', origin: ORIGIN, scopes: ['xel:read'], tenantId: other.org.id }, apiKey(key.key)))).toEqual({ status: 403, body: TENANT_MISMATCH });
    const readOnly = await createKey(t, owner, org.id, ['integrations:read']);
    expect(wire(await post('/api/integration/grant', { mode: 'api', origin: ORIGIN, scopes: ['xel:read'] }, apiKey(readOnly.key)))).toEqual({
      status: 403,
      body: scopeMissing('integrations:write', ['integrations:read']),
    });
    const memberKey = await createKey(t, member, org.id, ['integrations:write']);
    expect(wire(await post('/api/integration/grant', { mode: 'api', origin: ORIGIN, scopes: ['xel:read'] }, apiKey(memberKey.key)))).toEqual({ status: 403, body: insufficientRole('admin') });
  });

  it('validates mode, origin, scopes and ttlSeconds (422)', async () => {
    const base = { mode: 'api', origin: ORIGIN, scopes: ['rag:read'], tenantId: org.id };
    const originError = (input: string) => ({
      type: 'value_error',
      loc: ['body', 'origin'],
      msg: 'Value error, origin must be an https origin (or http://localhost / http://127.0.0.1) with no path, query or fragment',
      input,
      ctx: { error: {} },
    });
    const cases: [Record<string, unknown>, unknown][] = [
      [{ mode: 'server' }, { type: 'enum', loc: ['body', 'mode'], msg: "Input should be 'api' or 'embed'", input: 'server', ctx: { expected: "'api' or 'embed'" } }],
      [{ origin: 'https://partner.example/app' }, originError('https://partner.example/app')],
      [{ origin: 'https://partner.example/' }, originError('https://partner.example/')],
      [{ origin: 'http://partner.example' }, originError('http://partner.example')],
      [{ origin: 'https://partner.example?x=1' }, originError('https://partner.example?x=1')],
      [{ scopes: [] }, { type: 'too_short', loc: ['body', 'scopes'], msg: 'List should have at least 1 item after validation, not 0', input: [], ctx: { field_type: 'List', min_length: 1, actual_length: 0 } }],
      [{ scopes: ['rag:read', 'rag:read'] }, { type: 'value_error', loc: ['body', 'scopes'], msg: 'Value error, items must be unique', input: ['rag:read', 'rag:read'], ctx: { error: {} } }],
      [{ ttlSeconds: 29 }, { type: 'greater_than_equal', loc: ['body', 'ttlSeconds'], msg: 'Input should be greater than or equal to 30', input: 29, ctx: { ge: 30 } }],
      [{ ttlSeconds: 3601 }, { type: 'less_than_equal', loc: ['body', 'ttlSeconds'], msg: 'Input should be less than or equal to 3600', input: 3601, ctx: { le: 3600 } }],
    ];
    for (const [over, item] of cases) {
      expect(wire(await post('/api/integration/grant', { ...base, ...over }, owner)), JSON.stringify(over)).toEqual({ status: 422, body: { detail: [item] } });
    }
    const unknown = await post('/api/integration/grant', { ...base, scopes: ['organizations:read'] }, owner);
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ detail: [{ type: 'enum', loc: ['body', 'scopes', 0], input: 'organizations:read' }] });
    expect((await post('/api/integration/grant', { ...base, origin: 'http://127.0.0.1:8080' }, owner)).status).toBe(201);
  });

  it('without credentials: 401 Not authenticated', async () => {
    const res = await t.rest('POST', '/api/integration/grant', { json: { mode: 'api', origin: ORIGIN, scopes: ['rag:read'], tenantId: org.id } });
    expect(wire(res)).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
  });
});

describe('INT-2 POST /api/integration/verify', () => {
  const verify = (token: string, who: Person | Record<string, string> = owner, tenantId = org.id) => post('/api/integration/verify', { token, tenantId }, who);
  const reason = async (token: string, tenantId = org.id) => wire(await verify(token, owner, tenantId));
  const invalid = (r: string) => ({ status: 200, body: { valid: false, claims: null, reason: r } });

  it('answers a valid token with its claims; any member may verify, and an API key with integrations:read', async () => {
    const g = await grant(t, owner, org.id);
    const claims = payloadOf(g.token);
    expect(wire(await verify(g.token, member))).toEqual({ status: 200, body: { valid: true, claims, reason: null } });
    const key = await createKey(t, member, org.id, ['integrations:read']);
    expect(wire(await verify(g.token, apiKey(key.key)))).toEqual({ status: 200, body: { valid: true, claims, reason: null } });
  });

  it('a caller outside the tenant, an unknown tenant, or an API key of another tenant: 403 tenant_mismatch', async () => {
    const g = await grant(t, owner, org.id);
    expect(wire(await verify(g.token, outsider))).toEqual({ status: 403, body: TENANT_MISMATCH });
    expect(wire(await verify(g.token, owner, UNKNOWN_ID))).toEqual({ status: 403, body: TENANT_MISMATCH });
    const other = await orgWith(t, {});
    const key = await createKey(t, other.owner, other.org.id, ['integrations:read']);
    expect(wire(await verify(g.token, apiKey(key.key)))).toEqual({ status: 403, body: TENANT_MISMATCH });
  });

  it('gives each reason in the documented order', async () => {
    const g = await grant(t, owner, org.id);
    const [h, p, s] = g.token.split('.') as [string, string, string];
    const now = Math.floor(Date.now() / 1000);
    expect(await reason('not-a-jwt')).toEqual(invalid('malformed'));
    expect(await reason(`${h}.${p}`)).toEqual(invalid('malformed'));
    expect(await reason(`${h}.bm90IGpzb24.${s}`)).toEqual(invalid('malformed'));
    const hs = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: g.kid })).toString('base64url')}.${p}.${s}`;
    expect(await reason(hs)).toEqual(invalid('malformed'));
    const other = await orgWith(t, {});
    const foreign = await grant(t, other.owner, other.org.id);
    expect(await reason(foreign.token)).toEqual(invalid('unknown_key'));
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payloadOf(g.token), scopes: ['rag:read', 'xel:write'] })).toString('base64url')}.${s}`;
    expect(await reason(tampered)).toEqual(invalid('invalid_signature'));
    expect(await reason(await forge(t, org.id, claimsFor(other.org.id, owner.id)))).toEqual(invalid('tenant_mismatch'));
    expect(await reason(await forge(t, org.id, claimsFor(org.id, owner.id, { iss: 'someone-else' })))).toEqual(invalid('invalid_issuer'));
    expect(await reason(await forge(t, org.id, claimsFor(org.id, owner.id, { aud: 'xentree' })))).toEqual(invalid('invalid_audience'));
    expect(await reason(await forge(t, org.id, claimsFor(org.id, owner.id, { iat: now + 120, exp: now + 240 })))).toEqual(invalid('not_yet_valid'));
    expect((await reason(await forge(t, org.id, claimsFor(org.id, owner.id, { iat: now + 20 })))).body).toMatchObject({ valid: true });
    expect(await reason(await forge(t, org.id, claimsFor(org.id, owner.id, { iat: now - 200, exp: now - 80 })))).toEqual(invalid('expired'));
    // Earlier checks win: an expired token of the wrong issuer is `invalid_issuer`.
    expect(await reason(await forge(t, org.id, claimsFor(org.id, owner.id, { iss: 'x', iat: now - 200, exp: now - 80 })))).toEqual(invalid('invalid_issuer'));
    expect(wire(await post('/api/integration/revoke', { tenantId: org.id, jti: g.jti }, owner)).status).toBe(200);
    expect(await reason(g.token)).toEqual(invalid('revoked'));
  });

  it('validates the body (422)', async () => {
    expect(wire(await post('/api/integration/verify', { token: 'x', tenantId: 'nope' }, owner))).toEqual({
      status: 422,
      body: { detail: [{ type: 'uuid_parsing', loc: ['body', 'tenantId'], msg: expect.stringContaining('Input should be a valid UUID'), input: 'nope', ctx: { error: expect.any(String) } }] },
    });
    expect(wire(await post('/api/integration/verify', { tenantId: org.id }, owner))).toEqual({
      status: 422,
      body: { detail: [{ type: 'missing', loc: ['body', 'token'], msg: 'Field required', input: { tenantId: org.id } }] },
    });
  });
});

describe('Skills Connector without GOOGLE_OAUTH_* (SKL-1..3)', () => {
  it('lists nothing; start is 503 integration_not_configured; the callback checks its state first (400)', async () => {
    expect(wire(await t.rest('GET', '/api/integrations', { headers: bearer(owner.access) }))).toEqual({ status: 200, body: [] });
    expect(wire(await t.rest('GET', '/api/integrations/google-calendar/oauth/start', { headers: bearer(owner.access) }))).toEqual({
      status: 503,
      body: coded('integration_not_configured', 'Integration is not configured'),
    });
    expect(wire(await t.rest('GET', '/api/integrations/google-calendar/oauth/callback?state=abc&code=def'))).toEqual({
      status: 400,
      body: coded('invalid_oauth_state', 'OAuth state is invalid, expired or already used'),
    });
    expect(wire(await t.rest('GET', '/api/integrations'))).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
  });
});
