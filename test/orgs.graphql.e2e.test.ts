/**
 * GraphQL parity with orgs.rest.e2e.test.ts (§3.4, §4.13): the main ORG cases through the
 * gateway's POST /graphql. The same failing cases through REST and GraphQL side by side are in
 * parity.e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { bearer, type GraphQLResponse, useTestStack } from './harness.ts';
import { addMember, account, apiKey, createKey, createOrg, orgWith, person, platformAdmin, type Person } from './org-fixtures.ts';
import { TIMESTAMP, UNKNOWN_ID, UUID_V4 } from './assertions.ts';

const t = useTestStack();

const ORG = 'id name slug description myRole memberCount teams { id name memberCount } createdAt updatedAt';
const MEMBER = 'userId organizationId username fullName email role teamId teamName joinedAt user { id }';
const Q = {
  organizations: `{ organizations { ${ORG} } }`,
  organization: `query ($id: ID!) { organization(id: $id) { ${ORG} } }`,
  members: `query ($id: ID!, $limit: Int, $offset: Int, $role: OrgRole, $teamId: ID) { organization(id: $id) { members(limit: $limit, offset: $offset, role: $role, teamId: $teamId) { items { ${MEMBER} } total limit offset } } }`,
  create: `mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { ${ORG} } } }`,
  update: `mutation ($id: ID!, $input: UpdateOrganizationInput!) { updateOrganization(id: $id, input: $input) { organization { ${ORG} } } }`,
  delete: 'mutation ($id: ID!) { deleteOrganization(id: $id) { id } }',
  add: `mutation ($org: ID!, $input: AddMemberInput!) { addMember(organizationId: $org, input: $input) { member { ${MEMBER} } } }`,
  setRole: `mutation ($org: ID!, $user: ID!, $input: UpdateMemberRoleInput!) { updateMemberRole(organizationId: $org, userId: $user, input: $input) { member { ${MEMBER} } } }`,
  update9: `mutation ($org: ID!, $user: ID!, $input: UpdateMemberInput!) { updateMember(organizationId: $org, userId: $user, input: $input) { member { ${MEMBER} } } }`,
  remove: 'mutation ($org: ID!, $user: ID!) { removeMember(organizationId: $org, userId: $user) { organizationId userId } }',
  tenants: '{ tenants { id name slug role canViewAllKeys } }',
  myOrgs: '{ me { id organizations { id name myRole } } }',
};

const gql = (p: Person | null, query: string, variables: Record<string, unknown> = {}) => t.gql(query, variables, p ? bearer(p.access) : {});
const data = <T>(res: GraphQLResponse, ...path: string[]): T => {
  expect(res.body.errors).toBeUndefined();
  let v: unknown = res.body.data;
  for (const k of path) v = (v as Record<string, unknown>)[k];
  return v as T;
};

/** A root field that failed in the orgs service: one error, the field nulled. */
function failed(field: string, code: string, status: number, message: string, extra: Record<string, unknown> = {}, nullable = false): GraphQLResponse['body'] {
  return { errors: [{ message, path: [field], extensions: { code, status, ...extra, serviceName: 'orgs' } }], data: nullable ? { [field]: null } : null };
}

const gqlOrg = (over: Record<string, unknown>) => ({
  id: expect.stringMatching(UUID_V4),
  description: null,
  myRole: 'OWNER',
  memberCount: 1,
  teams: [],
  createdAt: expect.stringMatching(TIMESTAMP),
  updatedAt: expect.stringMatching(TIMESTAMP),
  ...over,
});

const gqlMember = (p: { id: string; email: string; username: string }, org: string, role: string, team: { id: string; name: string } | null = null) => ({
  userId: p.id,
  organizationId: org,
  username: p.username,
  fullName: null,
  email: p.email,
  role,
  teamId: team?.id ?? null,
  teamName: team?.name ?? null,
  joinedAt: expect.stringMatching(TIMESTAMP),
  user: { id: p.id },
});

describe('organizations through GraphQL', () => {
  it('creates with a derived slug (collisions get -2; short names get -org) and lists by name', async () => {
    const me = await person(t, 'gqlorg');
    const create = (input: Record<string, unknown>) => gql(me, Q.create, { input });
    const first = await create({ name: 'Acme Learning', description: 'Hello' });
    expect(first.body).toEqual({ data: { createOrganization: { organization: gqlOrg({ name: 'Acme Learning', slug: 'acme-learning', description: 'Hello' }) } } });
    expect((await create({ name: 'Acme Learning' })).body).toEqual({ data: { createOrganization: { organization: gqlOrg({ name: 'Acme Learning', slug: 'acme-learning-2' }) } } });
    expect((await create({ name: 'Zq' })).body).toEqual({ data: { createOrganization: { organization: gqlOrg({ name: 'Zq', slug: 'zq-org' }) } } });
    expect((await create({ name: 'Taken', slug: 'acme-learning' })).body).toEqual(failed('createOrganization', 'SLUG_TAKEN', 409, 'Organization slug is already taken'));

    // By name; the two equal names by id (§1.2: ties are broken by id ascending).
    const listed = data<{ id: string; name: string }[]>(await gql(me, Q.organizations), 'organizations');
    const acmeIds = listed.filter((o) => o.name === 'Acme Learning').map((o) => o.id);
    expect(listed.map((o) => [o.name, o.id])).toEqual([...[...acmeIds].sort().map((id) => ['Acme Learning', id]), ['Zq', expect.stringMatching(UUID_V4)]]);
  });

  it('lists User.organizations in the same order as organizations, mixed case included', async () => {
    const me = await person(t, 'gqlcase');
    for (const name of ['beta', 'Alpha', 'AI', 'alpha', 'Beta']) await createOrg(t, me, { name });
    const listed = data<{ id: string; name: string; myRole: string }[]>(await gql(me, Q.organizations), 'organizations');
    const mine = data<{ id: string; organizations: { id: string; name: string; myRole: string }[] }>(await gql(me, Q.myOrgs), 'me');
    expect(mine).toEqual({ id: me.id, organizations: listed.map((o) => ({ id: o.id, name: o.name, myRole: 'OWNER' })) });
  });

  it('shows an organization to members; null to others; myRole null to a platform admin', async () => {
    const { org, people } = await orgWith(t, { m: 'member', stranger: 'none' });
    const shown = data<Record<string, unknown>>(await gql(people.m, Q.organization, { id: org.id }), 'organization');
    expect(shown).toEqual(gqlOrg({ id: org.id, name: org.name, slug: org.slug, myRole: 'MEMBER', memberCount: 2 }));
    expect((await gql(people.stranger, Q.organization, { id: org.id })).body).toEqual({ data: { organization: null } });
    expect((await gql(people.stranger, Q.organization, { id: UNKNOWN_ID })).body).toEqual({ data: { organization: null } });
    expect(data(await gql(await platformAdmin(t), Q.organization, { id: org.id }), 'organization')).toEqual({ ...shown, myRole: null });
  });

  it('updates (owner/admin), clears the description with null, and refuses members with INSUFFICIENT_ROLE', async () => {
    const { org, owner, people } = await orgWith(t, { m: 'member', a: 'admin' });
    const byAdmin = await gql(people.a, Q.update, { id: org.id, input: { name: 'New Name', description: 'Text' } });
    expect(data(byAdmin, 'updateOrganization', 'organization')).toMatchObject({ name: 'New Name', description: 'Text', myRole: 'ADMIN' });
    expect(data(await gql(owner, Q.update, { id: org.id, input: { description: null } }), 'updateOrganization', 'organization')).toMatchObject({ name: 'New Name', description: null });
    expect((await gql(people.m, Q.update, { id: org.id, input: { name: 'x' } })).body).toEqual(
      failed('updateOrganization', 'INSUFFICIENT_ROLE', 403, 'Insufficient organization role', { required_role: 'admin' }),
    );
  });

  it('deletes (owner only); a non-member gets NOT_FOUND', async () => {
    const { org, owner, people } = await orgWith(t, { a: 'admin', stranger: 'none' });
    expect((await gql(people.a, Q.delete, { id: org.id })).body).toEqual(failed('deleteOrganization', 'INSUFFICIENT_ROLE', 403, 'Insufficient organization role', { required_role: 'owner' }));
    expect((await gql(people.stranger, Q.delete, { id: org.id })).body).toEqual(failed('deleteOrganization', 'NOT_FOUND', 404, 'Organization not found'));
    expect((await gql(owner, Q.delete, { id: org.id })).body).toEqual({ data: { deleteOrganization: { id: org.id } } });
    expect((await gql(owner, Q.organization, { id: org.id })).body).toEqual({ data: { organization: null } });
  });
});

describe('members through GraphQL', () => {
  it('adds by email with a team, pages and filters the members, each with their User', async () => {
    const { org, owner } = await orgWith(t, {});
    const [x, y] = await Promise.all([account(t, 'gx'), account(t, 'gy')]);
    const added = data<{ teamId: string }>(await gql(owner, Q.add, { org: org.id, input: { email: x.email.toUpperCase(), role: 'ADMIN', teamName: ' Core ' } }), 'addMember', 'member');
    expect(added).toEqual(gqlMember(x, org.id, 'ADMIN', { id: expect.stringMatching(UUID_V4), name: 'Core' }));
    const core = { id: added.teamId, name: 'Core' };
    expect(data(await gql(owner, Q.add, { org: org.id, input: { userId: y.id, teamName: 'CORE' } }), 'addMember', 'member')).toEqual(gqlMember(y, org.id, 'MEMBER', core));

    const page = (vars: Record<string, unknown>) => gql(owner, Q.members, { id: org.id, ...vars });
    const all = [gqlMember(owner, org.id, 'OWNER'), gqlMember(x, org.id, 'ADMIN', core), gqlMember(y, org.id, 'MEMBER', core)];
    expect(data(await page({}), 'organization', 'members')).toEqual({ items: all, total: 3, limit: 20, offset: 0 });
    expect(data(await page({ limit: 1, offset: 1 }), 'organization', 'members')).toEqual({ items: [all[1]], total: 3, limit: 1, offset: 1 });
    expect(data(await page({ role: 'MEMBER', teamId: core.id }), 'organization', 'members')).toEqual({ items: [all[2]], total: 1, limit: 20, offset: 0 });
  });

  it('pages the members of each organization apart when one query asks for several organizations', async () => {
    const { org, owner, people } = await orgWith(t, { a: 'member', b: 'member' });
    const solo = await createOrg(t, owner, { name: `${org.name} solo` });
    const query = `query($limit: Int, $offset: Int, $role: OrgRole) { me { organizations { id members(limit: $limit, offset: $offset, role: $role) { items { userId } total limit offset } } } }`;
    const pages = async (vars: Record<string, unknown>) =>
      data<{ id: string; members: unknown }[]>(await gql(owner, query, vars), 'me', 'organizations').map((o) => ({ id: o.id, members: o.members }));
    const members = [owner.id, people.a.id, people.b.id];
    expect(await pages({ limit: 2, offset: 1 })).toEqual([
      { id: org.id, members: { items: members.slice(1, 3).map((userId) => ({ userId })), total: 3, limit: 2, offset: 1 } },
      { id: solo.id, members: { items: [], total: 1, limit: 2, offset: 1 } },
    ]);
    expect(await pages({ limit: 5, offset: 3 })).toEqual([
      { id: org.id, members: { items: [], total: 3, limit: 5, offset: 3 } },
      { id: solo.id, members: { items: [], total: 1, limit: 5, offset: 3 } },
    ]);
    expect(await pages({ role: 'MEMBER' })).toEqual([
      { id: org.id, members: { items: members.slice(1).map((userId) => ({ userId })), total: 2, limit: 20, offset: 0 } },
      { id: solo.id, members: { items: [], total: 0, limit: 20, offset: 0 } },
    ]);
  });

  it('reports NOT_FOUND for an unknown user and ALREADY_MEMBER for a member', async () => {
    const { org, owner } = await orgWith(t, {});
    expect((await gql(owner, Q.add, { org: org.id, input: { email: 'ghost@example.com' } })).body).toEqual(failed('addMember', 'NOT_FOUND', 404, 'User not found'));
    expect((await gql(owner, Q.add, { org: org.id, input: { userId: owner.id } })).body).toEqual(
      failed('addMember', 'ALREADY_MEMBER', 409, 'User is already a member of this organization'),
    );
  });

  it('changes roles, keeps the last owner, moves members and removes them', async () => {
    const { org, owner, people } = await orgWith(t, { m: 'member' });
    const dest = await createOrg(t, owner);
    expect(data(await gql(owner, Q.setRole, { org: org.id, user: people.m.id, input: { role: 'ADMIN' } }), 'updateMemberRole', 'member')).toEqual(gqlMember(people.m, org.id, 'ADMIN'));
    expect((await gql(owner, Q.setRole, { org: org.id, user: owner.id, input: { role: 'MEMBER' } })).body).toEqual(
      failed('updateMemberRole', 'LAST_OWNER', 409, 'An organization must keep at least one owner'),
    );
    expect((await gql(owner, Q.remove, { org: org.id, user: owner.id })).body).toEqual(failed('removeMember', 'LAST_OWNER', 409, 'An organization must keep at least one owner'));
    const moved = await gql(owner, Q.update9, { org: org.id, user: people.m.id, input: { organizationId: dest.id, teamName: 'Landing' } });
    expect(data(moved, 'updateMember', 'member')).toEqual(gqlMember(people.m, dest.id, 'ADMIN', { id: expect.stringMatching(UUID_V4), name: 'Landing' }));
    await addMember(t, org.id, owner, people.m.id);
    expect((await gql(owner, Q.update9, { org: org.id, user: people.m.id, input: { organizationId: dest.id } })).body).toEqual(
      failed('updateMember', 'ALREADY_MEMBER', 409, 'User is already a member of this organization'),
    );
    expect((await gql(owner, Q.remove, { org: org.id, user: people.m.id })).body).toEqual({ data: { removeMember: { organizationId: org.id, userId: people.m.id } } });
    expect((await gql(owner, Q.remove, { org: org.id, user: people.m.id })).body).toEqual(failed('removeMember', 'NOT_FOUND', 404, 'Member not found'));
  });
});

describe('tenants and API keys through GraphQL', () => {
  it('lists tenants for a bearer; an API key gets BEARER_REQUIRED', async () => {
    const { org, people } = await orgWith(t, { m: 'member' });
    expect(data(await gql(people.m, Q.tenants), 'tenants')).toEqual([{ id: org.id, name: org.name, slug: org.slug, role: 'MEMBER', canViewAllKeys: false }]);
    const key = await createKey(t, people.m, org.id, ['organizations:read']);
    const res = await t.gql(Q.tenants, {}, apiKey(key.key));
    expect(res.body).toEqual({ errors: [{ message: 'This endpoint requires a bearer token', path: ['tenants'], extensions: { code: 'BEARER_REQUIRED', status: 401, serviceName: 'orgs' } }], data: null });
  });

  it("limits a key to its organization: organizations lists only it; another organization is TENANT_MISMATCH", async () => {
    const { org, people } = await orgWith(t, { m: 'admin' });
    const other = await createOrg(t, people.m);
    const key = await createKey(t, people.m, org.id, ['organizations:read']);
    const listed = await t.gql(Q.organizations, {}, apiKey(key.key));
    expect(data<{ id: string }[]>(listed, 'organizations').map((o) => o.id)).toEqual([org.id]);
    expect((await t.gql(Q.organization, { id: other.id }, apiKey(key.key))).body).toEqual(
      failed('organization', 'TENANT_MISMATCH', 403, 'Credential is not valid for this organization', {}, true),
    );
    // The creator's other organizations stay hidden through User.organizations as well.
    const viaUser = await t.gql(`query ($id: ID!) { organization(id: $id) { members(role: ADMIN) { items { user { id organizations { id } } } } } }`, { id: org.id }, apiKey(key.key));
    expect(viaUser.body).toEqual({ data: { organization: { members: { items: [{ user: { id: people.m.id, organizations: [{ id: org.id }] } }] } } } });
    const writeOnly = await createKey(t, people.m, org.id, ['organizations:write']);
    expect((await t.gql(Q.organizations, {}, apiKey(writeOnly.key))).body).toEqual(
      failed('organizations', 'INSUFFICIENT_API_KEY_SCOPE', 403, 'API key lacks required scope for this endpoint', { required_scope: 'organizations:read', granted_scopes: ['organizations:write'] }),
    );
  });
});
