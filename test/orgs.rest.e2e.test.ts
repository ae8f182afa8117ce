/**
 * ORG-1..10 through REST (§3.4, §4.12, §4.13): exact statuses and whole bodies, slug
 * derivation, teams, the last-owner rule, moves, and the side effects of removal and deletion on
 * API keys. Who may do what is in org-permissions.e2e.test.ts; GraphQL parity in
 * orgs.graphql.e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { useTestStack } from './harness.ts';
import { as, account, addMember, apiKey, createKey, createOrg, memberOf, orgWith, person, platformAdmin, ALREADY_MEMBER, INVALID_API_KEY, LAST_OWNER, SLUG_TAKEN, type Member, type Org, type Person } from './org-fixtures.ts';
import { notFoundBody, ok, TIMESTAMP, UNKNOWN_ID, UUID_V4 } from './assertions.ts';

const t = useTestStack();

const get = (p: Person, path: string) => t.rest('GET', path, as(p));
/** A 422 body with one item of `type` at `loc` (msg/input/ctx are informative, §1.8). */
const invalid = (type: string, loc: (string | number)[]) => ({ detail: [expect.objectContaining({ type, loc })] });

/** The whole `OrganizationResponse` of a fresh organization. */
function freshOrg(name: string, slug: string, over: Partial<Org> = {}): Org {
  return {
    id: expect.stringMatching(UUID_V4),
    name,
    slug,
    description: null,
    my_role: 'owner',
    member_count: 1,
    teams: [],
    created_at: expect.stringMatching(TIMESTAMP),
    updated_at: expect.stringMatching(TIMESTAMP),
    ...over,
  };
}

describe('ORG-2 POST /api/organizations', () => {
  it('creates the organization with the caller as owner (201, whole body)', async () => {
    const owner = await person(t, 'acme');
    const res = await t.rest('POST', '/api/organizations', { json: { name: 'Acme Learning', description: 'Learning for everyone' }, ...as(owner) });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const org = res.body as Org;
    expect(org).toEqual(freshOrg('Acme Learning', 'acme-learning', { description: 'Learning for everyone' }));
    expect(org.created_at).toBe(org.updated_at);
    expect((await get(owner, `/api/organizations/${org.id}/members`)).body).toEqual({ items: [memberOf(owner, org.id, 'owner')], total: 1, limit: 20, offset: 0 });

    // The same name again: -2, then -3 (also when the name only derives to the same slug).
    const second = ok<Org>(await t.rest('POST', '/api/organizations', { json: { name: 'Acme Learning' }, ...as(owner) }), 201);
    expect(second).toEqual(freshOrg('Acme Learning', 'acme-learning-2'));
    const third = ok<Org>(await t.rest('POST', '/api/organizations', { json: { name: '  ACME -- learning!! ', slug: null }, ...as(owner) }), 201);
    expect(third).toEqual(freshOrg('  ACME -- learning!! ', 'acme-learning-3'));
    // A suffix never makes the slug longer than 50 characters.
    const long = 'b'.repeat(60);
    expect(ok<Org>(await t.rest('POST', '/api/organizations', { json: { name: long }, ...as(owner) }), 201).slug).toBe('b'.repeat(50));
    expect(ok<Org>(await t.rest('POST', '/api/organizations', { json: { name: long }, ...as(owner) }), 201).slug).toBe(`${'b'.repeat(48)}-2`);
  });

  it.each([
    ['Hello, World!! 2024', 'hello-world-2024'],
    ['AI', 'ai-org'],
    ['x', 'x-org'],
    ['--Q--', 'q-org'],
    ['Ünïcode Café', 'n-code-caf'],
    ['a'.repeat(60), 'a'.repeat(50)],
    // The slug pattern allows no trailing '-': a cut that ends on one drops it.
    [`${'c'.repeat(49)} d`, 'c'.repeat(49)],
    // Nothing left of the name: 'org' (a literal "'' + '-org'" would break the slug pattern).
    ['!!!', 'org'],
  ])('derives the slug of %j as %j', async (name, slug) => {
    const owner = await person(t, 'slug');
    expect((await t.rest('POST', '/api/organizations', { json: { name }, ...as(owner) })).body).toEqual(freshOrg(name, slug));
  });

  it('uses an explicit slug, refuses a taken one with 409, and derives around it', async () => {
    const owner = await person(t, 'explicit');
    expect((await t.rest('POST', '/api/organizations', { json: { name: 'Anything', slug: 'beta-crew' }, ...as(owner) })).body).toEqual(freshOrg('Anything', 'beta-crew'));
    const taken = await t.rest('POST', '/api/organizations', { json: { name: 'Other', slug: 'beta-crew' }, ...as(owner) });
    expect({ status: taken.status, body: taken.body }).toEqual({ status: 409, body: SLUG_TAKEN });
    expect((await t.rest('POST', '/api/organizations', { json: { name: 'Beta Crew' }, ...as(owner) })).body).toEqual(freshOrg('Beta Crew', 'beta-crew-2'));
  });

  it.each([
    [{}, invalid('missing', ['body', 'name'])],
    [{ name: '' }, invalid('string_too_short', ['body', 'name'])],
    [{ name: 'n'.repeat(101) }, invalid('string_too_long', ['body', 'name'])],
    [{ name: 'ok', slug: 'Bad Slug' }, invalid('string_pattern_mismatch', ['body', 'slug'])],
    [{ name: 'ok', slug: 'ab' }, invalid('string_too_short', ['body', 'slug'])],
    [{ name: 'ok', description: 'd'.repeat(501) }, invalid('string_too_long', ['body', 'description'])],
  ])('rejects %j with 422', async (json, body) => {
    const res = await t.rest('POST', '/api/organizations', { json, ...as(await person(t, 'bad')) });
    expect({ status: res.status, body: res.body }).toEqual({ status: 422, body });
  });
});

describe('ORG-1 GET /api/organizations', () => {
  it("lists the caller's memberships by name with their role, and nothing else", async () => {
    const me = await person(t, 'lister');
    expect((await get(me, '/api/organizations')).body).toEqual([]);
    const zulu = await createOrg(t, me, { name: 'Zulu Works' });
    const other = await orgWith(t, {});
    await addMember(t, other.org.id, other.owner, me.id, 'admin');
    const alpha = await createOrg(t, me, { name: 'Alpha Works' });
    await createOrg(t, other.owner, { name: 'Not Mine' });
    const res = await get(me, '/api/organizations');
    expect(res.status).toBe(200);
    const otherNow = ok<Org>(await get(me, `/api/organizations/${other.org.id}`), 200);
    expect(otherNow.my_role).toBe('admin');
    expect(res.body).toEqual([alpha, otherNow, zulu].sort((a, b) => a.name.localeCompare(b.name)));
  });
});

describe('ORG-3 GET /api/organizations/{org_id}', () => {
  it('shows a member the organization with my_role and teams by name with their member counts', async () => {
    const { org, owner, people } = await orgWith(t, { a: 'none', b: 'none', c: 'none' });
    const [a, b, c] = [people.a, people.b, people.c];
    await addMember(t, org.id, owner, a.id, 'member', 'Red');
    await addMember(t, org.id, owner, b.id, 'admin', 'Green');
    await addMember(t, org.id, owner, c.id, 'member', 'Blue');
    // b leaves Green for Blue: Green stays, empty.
    ok(await t.rest('PUT', `/api/organizations/${org.id}/members/${b.id}`, { json: { team_name: 'blue' }, ...as(owner) }), 200);
    const res = await get(a, `/api/organizations/${org.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ...org,
      my_role: 'member',
      member_count: 4,
      teams: [
        { id: expect.stringMatching(UUID_V4), name: 'Blue', member_count: 2 },
        { id: expect.stringMatching(UUID_V4), name: 'Green', member_count: 0 },
        { id: expect.stringMatching(UUID_V4), name: 'Red', member_count: 1 },
      ],
    });
  });

  it('answers 404 to a non-member and for an unknown id, and 422 for a malformed id', async () => {
    const { org } = await orgWith(t, {});
    const stranger = await person(t, 'stranger');
    for (const id of [org.id, UNKNOWN_ID]) {
      const res = await get(stranger, `/api/organizations/${id}`);
      expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: notFoundBody('Organization') });
    }
    const bad = await get(stranger, '/api/organizations/not-a-uuid');
    expect({ status: bad.status, body: bad.body }).toEqual({ status: 422, body: invalid('uuid_parsing', ['path', 'org_id']) });
  });

  it('shows any organization to a platform admin, with my_role null', async () => {
    const { org, owner } = await orgWith(t, {});
    const admin = await platformAdmin(t);
    expect((await get(admin, `/api/organizations/${org.id}`)).body).toEqual({ ...org, my_role: null });
    expect((await get(admin, `/api/organizations/${org.id}/members`)).body).toEqual({ items: [memberOf(owner, org.id, 'owner')], total: 1, limit: 20, offset: 0 });
    expect((await get(admin, '/api/organizations')).body).not.toContainEqual(expect.objectContaining({ id: org.id }));
  });
});

describe('ORG-4 PATCH /api/organizations/{org_id}', () => {
  it('updates name, slug and description; an empty body is a no-op; null clears the description', async () => {
    const { org, owner } = await orgWith(t, {});
    const path = `/api/organizations/${org.id}`;
    // A few milliseconds apart, so a bumped updated_at is visible at millisecond precision.
    await new Promise((r) => setTimeout(r, 5));
    const changed = ok<Org>(await t.rest('PATCH', path, { json: { name: 'Renamed', slug: `renamed-${org.slug}`, description: 'New text' }, ...as(owner) }), 200);
    expect(changed).toEqual({ ...org, name: 'Renamed', slug: `renamed-${org.slug}`, description: 'New text', updated_at: expect.stringMatching(TIMESTAMP) });
    expect(Date.parse(changed.updated_at)).toBeGreaterThan(Date.parse(org.updated_at));
    expect((await t.rest('PATCH', path, { json: {}, ...as(owner) })).body).toEqual(changed);
    expect((await get(owner, path)).body).toEqual(changed);
    const cleared = ok<Org>(await t.rest('PATCH', path, { json: { description: null }, ...as(owner) }), 200);
    expect(cleared).toEqual({ ...changed, description: null, updated_at: expect.stringMatching(TIMESTAMP) });
  });

  it('refuses a slug another organization holds with 409, and accepts its own', async () => {
    const { org, owner } = await orgWith(t, {});
    const other = await createOrg(t, owner);
    const res = await t.rest('PATCH', `/api/organizations/${org.id}`, { json: { slug: other.slug }, ...as(owner) });
    expect({ status: res.status, body: res.body }).toEqual({ status: 409, body: SLUG_TAKEN });
    expect((await t.rest('PATCH', `/api/organizations/${org.id}`, { json: { slug: org.slug }, ...as(owner) })).body).toEqual(org);
  });
});

describe('ORG-5 DELETE /api/organizations/{org_id}', () => {
  it('deletes with 204; the organization is gone and its API keys stop working at once', async () => {
    const { org, owner, people } = await orgWith(t, { m: 'member' });
    const keep = await createOrg(t, people.m);
    const doomed = await createKey(t, people.m, org.id, ['organizations:read']);
    const survivor = await createKey(t, people.m, keep.id, ['organizations:read']);
    expect((await t.rest('GET', '/api/organizations', { headers: apiKey(doomed.key) })).status).toBe(200);

    const res = await t.rest('DELETE', `/api/organizations/${org.id}`, as(owner));
    expect({ status: res.status, text: res.text }).toEqual({ status: 204, text: '' });

    const next = await t.rest('GET', '/api/organizations', { headers: apiKey(doomed.key) });
    expect({ status: next.status, body: next.body }).toEqual({ status: 401, body: INVALID_API_KEY });
    expect((await t.rest('GET', '/api/organizations', { headers: apiKey(survivor.key) })).status).toBe(200);
    expect((await get(people.m, '/api/api-keys')).body).toEqual([expect.objectContaining({ id: survivor.id })]);
    for (const p of [owner, people.m]) expect((await get(p, `/api/organizations/${org.id}`)).body).toEqual(notFoundBody('Organization'));
    expect((await get(owner, '/api/organizations')).body).toEqual([]);
    const again = await t.rest('DELETE', `/api/organizations/${org.id}`, as(owner));
    expect({ status: again.status, body: again.body }).toEqual({ status: 404, body: notFoundBody('Organization') });
  });
});

describe('ORG-6 GET /api/organizations/{org_id}/members', () => {
  it('pages members by joined_at and filters by role and team', async () => {
    const { org, owner, people } = await orgWith(t, { a: 'none', b: 'none', c: 'none' });
    const a = await addMember(t, org.id, owner, people.a.id, 'admin', 'Ops');
    const b = await addMember(t, org.id, owner, people.b.id, 'member');
    const c = await addMember(t, org.id, owner, people.c.id, 'member', 'ops');
    const o = memberOf(owner, org.id, 'owner');
    const path = `/api/organizations/${org.id}/members`;
    expect((await get(people.b, path)).body).toEqual({ items: [o, a, b, c], total: 4, limit: 20, offset: 0 });
    expect((await get(people.b, `${path}?limit=2&offset=1`)).body).toEqual({ items: [a, b], total: 4, limit: 2, offset: 1 });
    expect((await get(people.b, `${path}?offset=10`)).body).toEqual({ items: [], total: 4, limit: 20, offset: 10 });
    expect((await get(people.b, `${path}?role=member`)).body).toEqual({ items: [b, c], total: 2, limit: 20, offset: 0 });
    expect((await get(people.b, `${path}?team_id=${a.team_id ?? ''}`)).body).toEqual({ items: [a, c], total: 2, limit: 20, offset: 0 });
    expect((await get(people.b, `${path}?team_id=${a.team_id ?? ''}&role=admin`)).body).toEqual({ items: [a], total: 1, limit: 20, offset: 0 });
    expect((await get(people.b, `${path}?team_id=${UNKNOWN_ID}`)).body).toEqual({ items: [], total: 0, limit: 20, offset: 0 });
  });

  it.each([
    ['limit=0', invalid('greater_than_equal', ['query', 'limit'])],
    ['limit=101', invalid('less_than_equal', ['query', 'limit'])],
    ['offset=-1', invalid('greater_than_equal', ['query', 'offset'])],
    ['role=boss', invalid('enum', ['query', 'role'])],
    ['team_id=nope', invalid('uuid_parsing', ['query', 'team_id'])],
  ])('rejects ?%s with 422', async (query, body) => {
    const { org, owner } = await orgWith(t, {});
    const res = await get(owner, `/api/organizations/${org.id}/members?${query}`);
    expect({ status: res.status, body: res.body }).toEqual({ status: 422, body });
  });
});

describe('ORG-7 POST /api/organizations/{org_id}/members', () => {
  it('adds an existing account by user_id or by email (case-insensitive), with 201', async () => {
    const { org, owner } = await orgWith(t, {});
    const [x, y] = await Promise.all([account(t, 'byid'), account(t, 'bymail')]);
    const path = `/api/organizations/${org.id}/members`;
    const byId = await t.rest('POST', path, { json: { user_id: x.id }, ...as(owner) });
    expect({ status: byId.status, body: byId.body }).toEqual({ status: 201, body: memberOf(x, org.id, 'member') });
    const byEmail = await t.rest('POST', path, { json: { email: y.email.toUpperCase(), role: 'admin' }, ...as(owner) });
    expect({ status: byEmail.status, body: byEmail.body }).toEqual({ status: 201, body: memberOf(y, org.id, 'admin') });
    const again = await t.rest('POST', path, { json: { email: y.email }, ...as(owner) });
    expect({ status: again.status, body: again.body }).toEqual({ status: 409, body: ALREADY_MEMBER });
    const owner409 = await t.rest('POST', path, { json: { user_id: owner.id, role: 'member' }, ...as(owner) });
    expect({ status: owner409.status, body: owner409.body }).toEqual({ status: 409, body: ALREADY_MEMBER });
  });

  it('never creates accounts: an unknown user_id or email is 404 User not found', async () => {
    const { org, owner } = await orgWith(t, {});
    for (const json of [{ user_id: UNKNOWN_ID }, { email: 'nobody-here@example.com' }]) {
      const res = await t.rest('POST', `/api/organizations/${org.id}/members`, { json, ...as(owner) });
      expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: notFoundBody('User') });
    }
  });

  it('finds or creates the team by trimmed, case-insensitive name', async () => {
    const { org, owner } = await orgWith(t, {});
    const [x, y, z] = await Promise.all([account(t, 'tx'), account(t, 'ty'), account(t, 'tz')]);
    const first = await addMember(t, org.id, owner, x.id, 'member', '  Sales Team ');
    expect(first).toEqual(memberOf(x, org.id, 'member', { id: expect.stringMatching(UUID_V4), name: 'Sales Team' }));
    const team = { id: first.team_id ?? '', name: 'Sales Team' };
    expect(await addMember(t, org.id, owner, y.id, 'member', 'sales team')).toEqual(memberOf(y, org.id, 'member', team));
    expect(await addMember(t, org.id, owner, z.id, 'admin', ' SALES TEAM')).toEqual(memberOf(z, org.id, 'admin', team));
    expect(ok<Org>(await get(owner, `/api/organizations/${org.id}`), 200).teams).toEqual([{ ...team, member_count: 3 }]);
  });

  it('handles concurrent adds: one new team for all of them; a duplicate user gets 409, never 500', async () => {
    const { org, owner } = await orgWith(t, {});
    const users = await Promise.all(Array.from({ length: 6 }, () => account(t, 'race')));
    const added = await Promise.all(users.map((u) => t.rest('POST', `/api/organizations/${org.id}/members`, { json: { user_id: u.id, team_name: 'Racers' }, ...as(owner) })));
    expect(added.map((r) => r.status)).toEqual(users.map(() => 201));
    const teamIds = new Set(added.map((r) => (r.body as Member).team_id));
    expect(teamIds.size).toBe(1);
    expect(ok<Org>(await get(owner, `/api/organizations/${org.id}`), 200).teams).toEqual([{ id: [...teamIds][0], name: 'Racers', member_count: 6 }]);

    const newcomer = await account(t, 'twice');
    const twice = await Promise.all([1, 2, 3].map(() => t.rest('POST', `/api/organizations/${org.id}/members`, { json: { user_id: newcomer.id }, ...as(owner) })));
    expect(twice.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(twice.filter((r) => r.status === 409).map((r) => r.body)).toEqual([ALREADY_MEMBER, ALREADY_MEMBER]);
  });

  it.each([
    [{ user_id: UNKNOWN_ID, email: 'a@example.com' }, invalid('value_error', ['body'])],
    [{ role: 'member' }, invalid('value_error', ['body'])],
    [{ user_id: 'nope' }, invalid('uuid_parsing', ['body', 'user_id'])],
    [{ user_id: UNKNOWN_ID, role: 'boss' }, invalid('enum', ['body', 'role'])],
    [{ user_id: UNKNOWN_ID, team_name: '' }, invalid('string_too_short', ['body', 'team_name'])],
  ])('rejects %j with 422', async (json, body) => {
    const { org, owner } = await orgWith(t, {});
    const res = await t.rest('POST', `/api/organizations/${org.id}/members`, { json, ...as(owner) });
    expect({ status: res.status, body: res.body }).toEqual({ status: 422, body });
  });
});

describe('ORG-8 PATCH /api/organizations/{org_id}/members/{target_user_id}', () => {
  it("changes a member's role (200, whole body) and keeps the last owner", async () => {
    const { org, owner, people } = await orgWith(t, { m: 'member' });
    const path = `/api/organizations/${org.id}/members`;
    const res = await t.rest('PATCH', `${path}/${people.m.id}`, { json: { role: 'admin' }, ...as(owner) });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: memberOf(people.m, org.id, 'admin') });
    const last = await t.rest('PATCH', `${path}/${owner.id}`, { json: { role: 'admin' }, ...as(owner) });
    expect({ status: last.status, body: last.body }).toEqual({ status: 409, body: LAST_OWNER });
    // With a second owner, the first may step down.
    ok(await t.rest('PATCH', `${path}/${people.m.id}`, { json: { role: 'owner' }, ...as(owner) }), 200);
    expect((await t.rest('PATCH', `${path}/${owner.id}`, { json: { role: 'member' }, ...as(owner) })).body).toEqual(memberOf(owner, org.id, 'member'));
  });

  it('answers 404 Member not found for a user who is not in the organization, and 422 for a bad body', async () => {
    const { org, owner } = await orgWith(t, {});
    const outsider = await account(t, 'outsider');
    for (const id of [outsider.id, UNKNOWN_ID]) {
      const res = await t.rest('PATCH', `/api/organizations/${org.id}/members/${id}`, { json: { role: 'admin' }, ...as(owner) });
      expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: notFoundBody('Member') });
    }
    const bad = await t.rest('PATCH', `/api/organizations/${org.id}/members/${owner.id}`, { json: { role: 'root' }, ...as(owner) });
    expect({ status: bad.status, body: bad.body }).toEqual({ status: 422, body: invalid('enum', ['body', 'role']) });
    const missing = await t.rest('PATCH', `/api/organizations/${org.id}/members/${owner.id}`, { json: {}, ...as(owner) });
    expect({ status: missing.status, body: missing.body }).toEqual({ status: 422, body: invalid('missing', ['body', 'role']) });
  });
});

describe('ORG-9 PUT /api/organizations/{org_id}/members/{target_user_id}', () => {
  it('sets role and team; null clears the team; an empty body or the same organization is a no-op', async () => {
    const { org, owner, people } = await orgWith(t, { m: 'member' });
    const path = `/api/organizations/${org.id}/members/${people.m.id}`;
    const set = ok<Member>(await t.rest('PUT', path, { json: { role: 'admin', team_name: ' Core ' }, ...as(owner) }), 200);
    expect(set).toEqual(memberOf(people.m, org.id, 'admin', { id: expect.stringMatching(UUID_V4), name: 'Core' }));
    expect((await t.rest('PUT', path, { json: {}, ...as(owner) })).body).toEqual(set);
    expect((await t.rest('PUT', path, { json: { organization_id: org.id }, ...as(owner) })).body).toEqual(set);
    const cleared = await t.rest('PUT', path, { json: { team_name: null }, ...as(owner) });
    expect(cleared.body).toEqual({ ...set, team_id: null, team_name: null });
    expect(ok<Org>(await get(owner, `/api/organizations/${org.id}`), 200).teams).toEqual([{ id: set.team_id, name: 'Core', member_count: 0 }]);
  });

  it('moves a member: keeps the role, drops the team, deletes their keys of the source', async () => {
    const { org, owner, people } = await orgWith(t, { m: 'none' });
    await addMember(t, org.id, owner, people.m.id, 'admin', 'Source Team');
    const dest = await createOrg(t, owner);
    const sourceKey = await createKey(t, people.m, org.id, ['organizations:read']);
    const res = await t.rest('PUT', `/api/organizations/${org.id}/members/${people.m.id}`, { json: { organization_id: dest.id }, ...as(owner) });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: memberOf(people.m, dest.id, 'admin') });
    expect(ok<{ items: Member[] }>(await get(owner, `/api/organizations/${org.id}/members`), 200).items.map((m) => m.user_id)).toEqual([owner.id]);
    expect(ok<{ items: Member[] }>(await get(owner, `/api/organizations/${dest.id}/members`), 200).items.map((m) => m.user_id)).toEqual([owner.id, people.m.id]);
    const next = await t.rest('GET', '/api/organizations', { headers: apiKey(sourceKey.key) });
    expect({ status: next.status, body: next.body }).toEqual({ status: 401, body: INVALID_API_KEY });
    expect(ok<Org>(await get(owner, `/api/organizations/${org.id}`), 200).teams).toEqual([{ id: expect.stringMatching(UUID_V4), name: 'Source Team', member_count: 0 }]);
  });

  it('moves with a new role and a team found by name in the destination', async () => {
    const { org, owner, people } = await orgWith(t, { m: 'member', d: 'none' });
    const dest = await createOrg(t, owner);
    const ops = await addMember(t, dest.id, owner, people.d.id, 'member', 'Ops');
    const res = await t.rest('PUT', `/api/organizations/${org.id}/members/${people.m.id}`, { json: { organization_id: dest.id, role: 'owner', team_name: 'ops ' }, ...as(owner) });
    expect(res.body).toEqual(memberOf(people.m, dest.id, 'owner', { id: ops.team_id ?? '', name: 'Ops' }));
  });

  it('refuses a move into an organization the target is already in (409) or the caller is not in (404)', async () => {
    const { org, owner, people } = await orgWith(t, { m: 'member' });
    const dest = await createOrg(t, owner);
    await addMember(t, dest.id, owner, people.m.id);
    const path = `/api/organizations/${org.id}/members/${people.m.id}`;
    const dup = await t.rest('PUT', path, { json: { organization_id: dest.id }, ...as(owner) });
    expect({ status: dup.status, body: dup.body }).toEqual({ status: 409, body: ALREADY_MEMBER });
    const foreign = await orgWith(t, {});
    for (const id of [foreign.org.id, UNKNOWN_ID]) {
      const res = await t.rest('PUT', path, { json: { organization_id: id }, ...as(owner) });
      expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: notFoundBody('Organization') });
    }
    // Visibility of the destination is checked before the last-owner rule (§1.5 step 6 before 8).
    const sole = await t.rest('PUT', `/api/organizations/${org.id}/members/${owner.id}`, { json: { organization_id: foreign.org.id }, ...as(owner) });
    expect({ status: sole.status, body: sole.body }).toEqual({ status: 404, body: notFoundBody('Organization') });
  });
});

describe('ORG-10 DELETE /api/organizations/{org_id}/members/{target_user_id}', () => {
  it("removes a member (204), clears their team and deletes only their keys for that organization", async () => {
    const { org, owner, people } = await orgWith(t, { m: 'none', keeper: 'member' });
    await addMember(t, org.id, owner, people.m.id, 'member', 'Crew');
    const elsewhere = await createOrg(t, people.m);
    const [theirs, otherOrg, colleague] = await Promise.all([
      createKey(t, people.m, org.id, ['organizations:read']),
      createKey(t, people.m, elsewhere.id, ['organizations:read']),
      createKey(t, people.keeper, org.id, ['organizations:read']),
    ]);
    expect((await t.rest('GET', '/api/organizations', { headers: apiKey(theirs.key) })).status).toBe(200);
    const res = await t.rest('DELETE', `/api/organizations/${org.id}/members/${people.m.id}`, as(owner));
    expect({ status: res.status, text: res.text }).toEqual({ status: 204, text: '' });
    const next = await t.rest('GET', '/api/organizations', { headers: apiKey(theirs.key) });
    expect({ status: next.status, body: next.body }).toEqual({ status: 401, body: INVALID_API_KEY });
    expect((await t.rest('GET', '/api/organizations', { headers: apiKey(otherOrg.key) })).status).toBe(200);
    expect((await t.rest('GET', '/api/organizations', { headers: apiKey(colleague.key) })).status).toBe(200);
    const after = ok<Org>(await get(owner, `/api/organizations/${org.id}`), 200);
    expect({ member_count: after.member_count, teams: after.teams }).toEqual({ member_count: 2, teams: [{ id: expect.stringMatching(UUID_V4), name: 'Crew', member_count: 0 }] });
    expect((await get(people.m, `/api/organizations/${org.id}`)).body).toEqual(notFoundBody('Organization'));
    // Re-adding starts fresh: no team.
    expect(await addMember(t, org.id, owner, people.m.id)).toEqual(memberOf(people.m, org.id, 'member'));
  });

  it('lets a member leave (removing oneself) and keeps the last owner', async () => {
    const { org, owner, people } = await orgWith(t, { m: 'member' });
    const leave = await t.rest('DELETE', `/api/organizations/${org.id}/members/${people.m.id}`, as(people.m));
    expect({ status: leave.status, text: leave.text }).toEqual({ status: 204, text: '' });
    expect((await get(people.m, '/api/organizations')).body).toEqual([]);
    const last = await t.rest('DELETE', `/api/organizations/${org.id}/members/${owner.id}`, as(owner));
    expect({ status: last.status, body: last.body }).toEqual({ status: 409, body: LAST_OWNER });
    const gone = await t.rest('DELETE', `/api/organizations/${org.id}/members/${people.m.id}`, as(owner));
    expect({ status: gone.status, body: gone.body }).toEqual({ status: 404, body: notFoundBody('Member') });
  });
});

describe('ORG-3..10 for a non-member', () => {
  it.each([
    ['GET', ''],
    ['PATCH', ''],
    ['DELETE', ''],
    ['GET', '/members'],
    ['POST', '/members'],
    ['PATCH', '/members/{owner}'],
    ['PUT', '/members/{owner}'],
    ['DELETE', '/members/{owner}'],
  ])('%s /api/organizations/{org_id}%s answers 404 Organization not found', async (method, suffix) => {
    const { org, owner } = await orgWith(t, {});
    const stranger = await person(t, 'nosy');
    const json = method === 'POST' ? { user_id: stranger.id } : method === 'GET' || method === 'DELETE' ? undefined : { role: 'member' };
    const res = await t.rest(method, `/api/organizations/${org.id}${suffix.replace('{owner}', owner.id)}`, { json, ...as(stranger) });
    expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: notFoundBody('Organization') });
  });
});
