/**
 * API keys (§1.3–§1.5, §3.10, §4.14): KEY-1..4 with exact bodies and visibility, and
 * API-key authentication on endpoints that accept keys (ORG-1/3/4 and GraphQL `organizations`):
 * scopes, tenancy, expiry, revocation, malformed keys, IPv4/IPv6 allow lists and the creator's
 * current role. The stack trusts X-Forwarded-For (TRUST_PROXY=true) so IPv6 clients can be
 * simulated; requests without the header still use the socket peer, 127.0.0.1.
 */
import { describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { as, addMember, apiKey, createKey, createOrg, insufficientRole, orgWith, person, platformAdmin, pollUntil, scopeMissing, BEARER_REQUIRED, INVALID_API_KEY, TENANT_MISMATCH, type Org, type Person } from './org-fixtures.ts';
import { API_KEY, coded, notFoundBody, ok, TIMESTAMP, UNKNOWN_ID, UUID_V4, wire } from './assertions.ts';

const t = useTestStack({ env: { TRUST_PROXY: 'true' } });

interface KeyBody {
  id: string;
  name: string;
  organization_id: string;
  key_prefix: string;
  scopes: string[];
  allowed_ips: string[];
  expires_at: string | null;
  expired: boolean;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  key?: string;
}

const listKeys = async (p: Person, query = '') => ok<KeyBody[]>(await t.rest('GET', `/api/api-keys${query}`, as(p)), 200);
const idsOf = (keys: { id: string }[]) => keys.map((k) => k.id);
const invalid = (type: string, loc: (string | number)[]) => ({ detail: [expect.objectContaining({ type, loc })] });
const withKey = (key: string, headers: Record<string, string> = {}) => ({ headers: { ...apiKey(key), ...headers } });
const orgsWithKey = (key: string, headers: Record<string, string> = {}) => t.rest('GET', '/api/organizations', withKey(key, headers));

describe('KEY-2 POST /api/api-keys', () => {
  it('creates a key (201): shown once, prefix of 12 characters, normalised IPs, no expiry', async () => {
    const { org, people } = await orgWith(t, { m: 'member' });
    const json = { name: 'CI deploys', organization_id: org.id, scopes: ['organizations:write', 'organizations:read'], allowed_ips: ['10.0.0.1', '::1', '192.168.0.0/16', '2001:DB8::/32'] };
    const res = await t.rest('POST', '/api/api-keys', { json, ...as(people.m) });
    expect(res.status).toBe(201);
    const body = res.body as KeyBody;
    expect(body.key).toMatch(API_KEY);
    expect(body).toEqual({
      id: expect.stringMatching(UUID_V4),
      name: 'CI deploys',
      organization_id: org.id,
      key_prefix: body.key?.slice(0, 12),
      scopes: ['organizations:write', 'organizations:read'],
      allowed_ips: ['10.0.0.1/32', '::1/128', '192.168.0.0/16', '2001:db8::/32'],
      expires_at: null,
      expired: false,
      created_by: people.m.id,
      created_at: expect.stringMatching(TIMESTAMP),
      last_used_at: null,
      key: expect.stringMatching(API_KEY),
    });
    // The full key never appears again.
    const { key: _shownOnce, ...listed } = body;
    expect(await listKeys(people.m)).toEqual([listed]);
  });

  it('normalises expires_at to UTC; a platform admin may create keys for any organization', async () => {
    const { org } = await orgWith(t, {});
    const admin = await platformAdmin(t);
    const res = await t.rest('POST', '/api/api-keys', { json: { name: 'a', organization_id: org.id, scopes: ['api:admin'], expires_at: '2099-01-01T02:00:00+02:00' }, ...as(admin) });
    expect(wire(res)).toEqual({ status: 201, body: expect.objectContaining({ organization_id: org.id, created_by: admin.id, expires_at: '2099-01-01T00:00:00.000Z', expired: false }) });
  });

  it('answers 404 for an organization the caller is not in, and 400 for a past expiry', async () => {
    const { org, people } = await orgWith(t, { m: 'member', s: 'none' });
    for (const id of [org.id, UNKNOWN_ID]) {
      const res = await t.rest('POST', '/api/api-keys', { json: { name: 'k', organization_id: id, scopes: ['rag:read'] }, ...as(people.s) });
      expect(wire(res)).toEqual({ status: 404, body: notFoundBody('Organization') });
    }
    const past = await t.rest('POST', '/api/api-keys', { json: { name: 'k', organization_id: org.id, scopes: ['rag:read'], expires_at: '2020-01-01T00:00:00Z' }, ...as(people.m) });
    expect(wire(past)).toEqual({ status: 400, body: coded('invalid_expiry', 'expires_at must be in the future') });
  });

  it.each([
    [{ scopes: ['organizations:read', 'organizations:admin'] }, invalid('enum', ['body', 'scopes', 1])],
    [{ scopes: ['rag:read', 'rag:read'] }, invalid('value_error', ['body', 'scopes'])],
    [{ scopes: [] }, invalid('too_short', ['body', 'scopes'])],
    [{ allowed_ips: ['10.0.0.0/33'] }, invalid('value_error', ['body', 'allowed_ips', 0])],
    [{ allowed_ips: ['127.0.0.1', 'localhost'] }, invalid('value_error', ['body', 'allowed_ips', 1])],
    [{ allowed_ips: ['2001:db8::/129'] }, invalid('value_error', ['body', 'allowed_ips', 0])],
    [{ name: '' }, invalid('string_too_short', ['body', 'name'])],
    [{ expires_at: '2099-01-01T00:00:00' }, invalid('timezone_aware', ['body', 'expires_at'])],
  ])('rejects %j with 422', async (over, body) => {
    const { org, owner } = await orgWith(t, {});
    const res = await t.rest('POST', '/api/api-keys', { json: { name: 'k', organization_id: org.id, scopes: ['rag:read'], ...over }, ...as(owner) });
    expect(wire(res)).toEqual({ status: 422, body });
  });
});

describe('KEY-1 GET /api/api-keys and KEY-3 DELETE /api/api-keys/{key_id}', () => {
  it('shows owners/admins every key of their organization, members only their own, newest first', async () => {
    const { org, owner, people } = await orgWith(t, { a: 'admin', m: 'member', n: 'member', s: 'none' });
    const kO = await createKey(t, owner, org.id, ['rag:read']);
    const kA = await createKey(t, people.a, org.id, ['rag:read']);
    const kM = await createKey(t, people.m, org.id, ['rag:read']);
    const kN = await createKey(t, people.n, org.id, ['rag:read']);
    const elsewhere = await createOrg(t, people.m);
    const kMx = await createKey(t, people.m, elsewhere.id, ['rag:read']);
    const all = [kN.id, kM.id, kA.id, kO.id];
    expect(idsOf(await listKeys(owner))).toEqual(all);
    expect(idsOf(await listKeys(people.a))).toEqual(all);
    expect(idsOf(await listKeys(people.m))).toEqual([kMx.id, kM.id]);
    expect(idsOf(await listKeys(people.m, `?organization_id=${org.id}`))).toEqual([kM.id]);
    expect(idsOf(await listKeys(people.n))).toEqual([kN.id]);
    expect(await listKeys(people.s)).toEqual([]);
    const admin = await platformAdmin(t);
    expect(idsOf(await listKeys(admin, `?organization_id=${org.id}`))).toEqual(all);
    expect(idsOf(await listKeys(admin))).toEqual(expect.arrayContaining([...all, kMx.id]));
    for (const id of [org.id, UNKNOWN_ID]) {
      expect(wire(await t.rest('GET', `/api/api-keys?organization_id=${id}`, as(people.s)))).toEqual({ status: 404, body: notFoundBody('Organization') });
    }
    expect(wire(await t.rest('GET', '/api/api-keys?organization_id=nope', as(people.s)))).toEqual({ status: 422, body: invalid('uuid_parsing', ['query', 'organization_id']) });
  });

  it('sets last_used_at after a use (flushed within about a second)', async () => {
    const { org, owner } = await orgWith(t, {});
    const k = await createKey(t, owner, org.id, ['organizations:read']);
    expect((await listKeys(owner))[0]?.last_used_at).toBeNull();
    const usedAt = Date.now();
    expect((await orgsWithKey(k.key)).status).toBe(200);
    const [listed] = await pollUntil(() => listKeys(owner), (keys) => keys[0]?.last_used_at != null, 3_000, 100);
    expect(listed?.last_used_at).toMatch(TIMESTAMP);
    expect(Math.abs(Date.parse(listed?.last_used_at ?? '') - usedAt)).toBeLessThan(2_000);
  });

  it('deletes visible keys with 204; another member cannot see (404) what an owner may delete', async () => {
    const { org, owner, people } = await orgWith(t, { m: 'member', n: 'member' });
    const [kM, kN, kO] = await Promise.all([createKey(t, people.m, org.id, ['organizations:read']), createKey(t, people.n, org.id, ['organizations:read']), createKey(t, owner, org.id, ['organizations:read'])]);
    expect((await orgsWithKey(kM.key)).status).toBe(200);
    for (const id of [kN.id, kO.id, UNKNOWN_ID]) expect(wire(await t.rest('DELETE', `/api/api-keys/${id}`, as(people.m)))).toEqual({ status: 404, body: notFoundBody('API key') });
    const own = await t.rest('DELETE', `/api/api-keys/${kM.id}`, as(people.m));
    expect({ status: own.status, text: own.text }).toEqual({ status: 204, text: '' });
    expect(wire(await orgsWithKey(kM.key))).toEqual({ status: 401, body: INVALID_API_KEY });
    expect((await t.rest('DELETE', `/api/api-keys/${kN.id}`, as(owner))).status).toBe(204);
    expect(idsOf(await listKeys(owner))).toEqual([kO.id]);
    expect((await t.rest('DELETE', `/api/api-keys/${kO.id}`, as(await platformAdmin(t)))).status).toBe(204);
    expect(await listKeys(owner)).toEqual([]);
    expect(wire(await t.rest('DELETE', `/api/api-keys/${kM.id}`, as(people.m)))).toEqual({ status: 404, body: notFoundBody('API key') });
    expect(wire(await t.rest('DELETE', '/api/api-keys/nope', as(people.m)))).toEqual({ status: 422, body: invalid('uuid_parsing', ['path', 'key_id']) });
  });
});

describe('KEY-4 GET /api/tenants', () => {
  it('lists the caller’s organizations by name with role and can_view_all_keys', async () => {
    const me = await person(t, 'tenant');
    const [x, y, z] = await Promise.all([orgWith(t, {}), orgWith(t, {}), orgWith(t, {})]);
    await addMember(t, x.org.id, x.owner, me.id, 'member');
    await addMember(t, y.org.id, y.owner, me.id, 'admin');
    const mine = await createOrg(t, me);
    const tenant = (o: Org, role: string | null, all: boolean) => ({ id: o.id, name: o.name, slug: o.slug, role, can_view_all_keys: all });
    const expected = [tenant(x.org, 'member', false), tenant(y.org, 'admin', true), tenant(mine, 'owner', true)].sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(wire(await t.rest('GET', '/api/tenants', as(me)))).toEqual({ status: 200, body: expected });

    const admin = await platformAdmin(t);
    const own = await createOrg(t, admin);
    const seen = ok<ReturnType<typeof tenant>[]>(await t.rest('GET', '/api/tenants', as(admin)), 200);
    expect(seen).toEqual(expect.arrayContaining([tenant(z.org, null, true), tenant(x.org, null, true), tenant(own, 'owner', true)]));
    expect(seen.map((s) => s.name)).toEqual(seen.map((s) => s.name).sort());
  });
});

describe('KEY-1..4 are bearer-only', () => {
  it.each([
    ['GET', '/api/api-keys'],
    ['POST', '/api/api-keys'],
    ['DELETE', `/api/api-keys/${UNKNOWN_ID}`],
    ['GET', '/api/tenants'],
  ])('%s %s with an API key answers 401 bearer_required', async (method, path) => {
    const { org, owner } = await orgWith(t, {});
    const k = await createKey(t, owner, org.id, ['organizations:read', 'organizations:write', 'api:admin']);
    const res = await t.rest(method, path, { json: method === 'POST' ? { name: 'k', organization_id: org.id, scopes: ['rag:read'] } : undefined, ...withKey(k.key) });
    expect(wire(res)).toEqual({ status: 401, body: BEARER_REQUIRED });
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('API-key authentication', () => {
  it('acts as the creator, limited to the key’s organization', async () => {
    const { org, owner, people } = await orgWith(t, { c: 'admin' });
    const other = await createOrg(t, people.c);
    const k = await createKey(t, people.c, org.id, ['organizations:read', 'organizations:write']);
    const seen = ok<Org>(await t.rest('GET', `/api/organizations/${org.id}`, as(people.c)), 200);
    expect(wire(await orgsWithKey(k.key))).toEqual({ status: 200, body: [seen] });
    expect(wire(await t.rest('GET', `/api/organizations/${org.id}`, withKey(k.key)))).toEqual({ status: 200, body: seen });
    const gql = await t.gql('{ organizations { id myRole } }', {}, apiKey(k.key));
    expect(gql.body).toEqual({ data: { organizations: [{ id: org.id, myRole: 'ADMIN' }] } });
    // Another organization of the creator (read or write) is outside the key's tenancy.
    expect(wire(await t.rest('GET', `/api/organizations/${other.id}`, withKey(k.key)))).toEqual({ status: 403, body: TENANT_MISMATCH });
    expect(wire(await t.rest('PATCH', `/api/organizations/${other.id}`, { json: { name: 'x' }, ...withKey(k.key) }))).toEqual({ status: 403, body: TENANT_MISMATCH });
    // A move to another organization is outside it too.
    const res = await t.rest('PUT', `/api/organizations/${org.id}/members/${owner.id}`, { json: { organization_id: other.id }, ...withKey(k.key) });
    expect(wire(res)).toEqual({ status: 403, body: TENANT_MISMATCH });
    // An organization created through the key lies outside its tenancy.
    const created = ok<Org>(await t.rest('POST', '/api/organizations', { json: { name: 'Made by key' }, ...withKey(k.key) }), 201);
    expect(created.my_role).toBe('owner');
    expect(wire(await t.rest('GET', `/api/organizations/${created.id}`, withKey(k.key)))).toEqual({ status: 403, body: TENANT_MISMATCH });
    expect(idsOf(ok<Org[]>(await orgsWithKey(k.key), 200))).toEqual([org.id]);
  });

  it('gives a platform admin’s key its organization (my_role null) and nothing else', async () => {
    const { org } = await orgWith(t, {});
    const other = await orgWith(t, {});
    const admin = await platformAdmin(t);
    const k = await createKey(t, admin, org.id, ['organizations:read', 'organizations:write']);
    expect(wire(await t.rest('GET', `/api/organizations/${org.id}`, withKey(k.key)))).toEqual({ status: 200, body: { ...org, my_role: null } });
    expect((await t.rest('PATCH', `/api/organizations/${org.id}`, { json: { description: 'admin key' }, ...withKey(k.key) })).status).toBe(200);
    expect(wire(await t.rest('GET', `/api/organizations/${other.org.id}`, withKey(k.key)))).toEqual({ status: 403, body: TENANT_MISMATCH });
  });

  it('checks scopes exactly and first: write does not imply read; api:admin grants api:* only', async () => {
    const { org, owner } = await orgWith(t, {});
    const other = await createOrg(t, owner);
    const write = await createKey(t, owner, org.id, ['organizations:write']);
    const wrongScope = scopeMissing('organizations:read', ['organizations:write']);
    expect(wire(await orgsWithKey(write.key))).toEqual({ status: 403, body: wrongScope });
    // Scope (§1.5 step 4) comes before tenancy (6) and validation (5).
    expect(wire(await t.rest('GET', `/api/organizations/${other.id}`, withKey(write.key)))).toEqual({ status: 403, body: wrongScope });
    const read = await createKey(t, owner, org.id, ['organizations:read', 'rag:read']);
    expect(wire(await t.rest('PATCH', `/api/organizations/${org.id}`, { json: { slug: 'NOT VALID' }, ...withKey(read.key) }))).toEqual({
      status: 403,
      body: scopeMissing('organizations:write', ['organizations:read', 'rag:read']),
    });
    expect((await t.rest('PATCH', `/api/organizations/${org.id}`, { json: { description: 'by key' }, ...withKey(write.key) })).status).toBe(200);
    const gql = await t.gql('{ organizations { id } }', {}, apiKey(write.key));
    expect(gql.body).toEqual({
      errors: [{ message: 'API key lacks required scope for this endpoint', path: ['organizations'], extensions: { code: 'INSUFFICIENT_API_KEY_SCOPE', status: 403, required_scope: 'organizations:read', granted_scopes: ['organizations:write'], serviceName: 'orgs' } }],
      data: null,
    });
    const apiAdmin = await createKey(t, owner, org.id, ['api:admin']);
    expect(wire(await orgsWithKey(apiAdmin.key))).toEqual({ status: 403, body: scopeMissing('organizations:read', ['api:admin']) });
    // HLT-2 requires api:read from a platform admin's key: api:admin satisfies it. (HLT-2 may
    // answer 503 "degraded" when a dependency check is slow on a loaded machine; both mean the
    // scope check passed.)
    const admin = await platformAdmin(t);
    const adminKey = await createKey(t, admin, org.id, ['api:admin']);
    const health = await t.rest('GET', '/api/health/detailed', withKey(adminKey.key));
    expect({ status: [200, 503].includes(health.status), body: health.body }).toEqual({ status: true, body: expect.objectContaining({ status: health.status === 200 ? 'ok' : 'degraded' }) });
    const readOnly = await createKey(t, admin, org.id, ['organizations:read']);
    expect(wire(await t.rest('GET', '/api/health/detailed', withKey(readOnly.key)))).toEqual({ status: 403, body: scopeMissing('api:read', ['organizations:read']) });
  });

  it('uses the creator’s current role: a demoted creator’s key can no longer update', async () => {
    const { org, owner, people } = await orgWith(t, { c: 'admin' });
    const k = await createKey(t, people.c, org.id, ['organizations:write']);
    expect((await t.rest('PATCH', `/api/organizations/${org.id}`, { json: { description: 'one' }, ...withKey(k.key) })).status).toBe(200);
    ok(await t.rest('PATCH', `/api/organizations/${org.id}/members/${people.c.id}`, { json: { role: 'member' }, ...as(owner) }), 200);
    const res = await t.rest('PATCH', `/api/organizations/${org.id}`, { json: { description: 'two' }, ...withKey(k.key) });
    expect(wire(res)).toEqual({ status: 403, body: insufficientRole('admin') });
  });

  it('rejects an expired key with 401 api_key_expired; it stays listed as expired', async () => {
    const { org, owner } = await orgWith(t, {});
    const expires_at = new Date(Date.now() + 2_000).toISOString();
    const k = await createKey(t, owner, org.id, ['organizations:read'], { expires_at });
    // Expiry is checked before the IP allow list (§1.3).
    const elsewhere = await createKey(t, owner, org.id, ['organizations:read'], { expires_at, allowed_ips: ['10.0.0.0/8'] });
    expect((await orgsWithKey(k.key)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_100));
    const expired = { status: 401, body: coded('api_key_expired', 'API key has expired') };
    const res = await orgsWithKey(k.key);
    expect(wire(res)).toEqual(expired);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(wire(await orgsWithKey(elsewhere.key))).toEqual(expired);
    expect(await listKeys(owner)).toEqual([expect.objectContaining({ id: elsewhere.id, expired: true }), expect.objectContaining({ id: k.id, expired: true })]);
  });

  it('rejects a deleted key on the very next request with 401 invalid_api_key', async () => {
    const { org, owner } = await orgWith(t, {});
    const k = await createKey(t, owner, org.id, ['organizations:read']);
    expect((await orgsWithKey(k.key)).status).toBe(200);
    expect((await t.rest('DELETE', `/api/api-keys/${k.id}`, as(owner))).status).toBe(204);
    expect(wire(await orgsWithKey(k.key))).toEqual({ status: 401, body: INVALID_API_KEY });
    expect((await t.gql('{ organizations { id } }', {}, apiKey(k.key))).body).toEqual({ errors: [{ message: 'Invalid API key', extensions: { code: 'INVALID_API_KEY', status: 401 } }] });
  });

  it.each([
    ['too short', 'xntr-abc'],
    ['wrong prefix', `xntx-${'A'.repeat(86)}`],
    ['upper-case prefix', `XNTR-${'A'.repeat(86)}`],
    ['a character outside base64url', `xntr-${'A'.repeat(85)}!`],
    ['one character too many', `xntr-${'A'.repeat(87)}`],
    ['well formed but unknown', `xntr-${'A'.repeat(86)}`],
    ['empty', ''],
  ])('rejects a malformed or unknown key (%s) with 401 invalid_api_key', async (_, key) => {
    const res = await orgsWithKey(key);
    expect(wire(res)).toEqual({ status: 401, body: INVALID_API_KEY });
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it.each([
    [['10.0.0.0/8'], {}, 403],
    [['127.0.0.0/8'], {}, 200],
    [['127.0.0.1'], {}, 200],
    [['10.0.0.0/8'], { 'x-forwarded-for': '10.1.2.3, 127.0.0.1' }, 200],
    [['2001:db8::/32'], { 'x-forwarded-for': '2001:db8::5' }, 200],
    [['2001:db9::/32'], { 'x-forwarded-for': '2001:db8::5' }, 403],
    [['2001:db8::5'], { 'x-forwarded-for': '2001:db8::5' }, 200],
    [['2001:db8::/32'], {}, 403],
  ])('allowed_ips %j from %j → %i', async (allowed, headers, status) => {
    const { org, owner } = await orgWith(t, {});
    const k = await createKey(t, owner, org.id, ['organizations:read'], { allowed_ips: allowed });
    const res = await orgsWithKey(k.key, headers);
    if (status === 200) expect(res.status).toBe(200);
    else expect(wire(res)).toEqual({ status: 403, body: coded('api_key_ip_not_allowed', 'Client IP is not allowed for this API key') });
  });

  it('lets a bearer token win over X-API-Key; another Authorization scheme counts as absent', async () => {
    const { org, owner } = await orgWith(t, {});
    const stranger = await person(t, 'bearerwins');
    const k = await createKey(t, owner, org.id, ['organizations:read']);
    expect(wire(await orgsWithKey(k.key, bearer(stranger.access)))).toEqual({ status: 200, body: [] });
    expect(wire(await orgsWithKey('not-a-key', bearer(stranger.access)))).toEqual({ status: 200, body: [] });
    expect(idsOf(ok<Org[]>(await orgsWithKey(k.key, { authorization: 'Basic dXNlcjpwYXNz' }), 200))).toEqual([org.id]);
  });
});
