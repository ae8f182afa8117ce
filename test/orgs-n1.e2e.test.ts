/**
 * N+1 guard (one query per list, never one per item; issue "Organizations, teams, API keys and tenancy"): one
 * GraphQL request through the gateway listing an organization's members with their teams and
 * user profiles runs the same number of SQL statements per subgraph for 10 members as for 100.
 * Statements are counted with the stack's `onQuery` hook, only while that one request runs; the
 * request uses a bearer token, so no API-key `last_used_at` flush can land in the window. Only the
 * two subgraphs the query touches are counted: other subgraphs run their own timers (chat's idle
 * session sweeper) that may land a statement in the window and say nothing about this request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubgraphName } from '../kernel/config.ts';
import { bearer, startTestStack, type TestStack } from './harness.ts';
import { account, addMember, createOrg, person, type Org, type Person } from './org-fixtures.ts';

let t: TestStack;
let counting = false;
const counts = new Map<SubgraphName, number>();
const COUNTED: ReadonlySet<SubgraphName> = new Set(['identity', 'orgs']);
/**
 * orgs' internal `organizationExists` check (subgraphs/orgs/router.ts), which no GraphQL read
 * runs: integrations calls it after making a new organization's tenant key, a while after the
 * fixture created the organization, so it may land in the counted window.
 */
const EXISTS_PROBE = /select "o0"\."id" from "orgs"\."organizations" as "o0" where "o0"\."id" = \$1 limit/;

beforeAll(async () => {
  t = await startTestStack({
    onQuery: (subgraph, sql) => {
      if (counting && COUNTED.has(subgraph) && !EXISTS_PROBE.test(sql)) counts.set(subgraph, (counts.get(subgraph) ?? 0) + 1);
    },
  });
});
afterAll(async () => {
  await t?.close();
});

const QUERY = `query ($id: ID!) {
  organization(id: $id) {
    id name memberCount
    teams { name memberCount }
    members(limit: 100) { total items { username email role teamName user { id username } } }
  }
}`;

const TEAMS = ['Blue', 'Green', 'Red'];

interface Listed {
  organization: { memberCount: number; teams: { name: string; memberCount: number }[]; members: { total: number; items: { username: string; teamName: string | null; user: { id: string; username: string } }[] } };
}

/** An organization of `size` members (the owner included), spread over three teams. */
async function orgOf(owner: Person, users: { id: string }[], size: number): Promise<string> {
  const org = await createOrg(t, owner);
  const others = users.slice(0, size - 1);
  // Small batches keep the embedded database's single connection from queueing too deep.
  for (let i = 0; i < others.length; i += 10) {
    await Promise.all(others.slice(i, i + 10).map((u, j) => addMember(t, org.id, owner, u.id, 'member', TEAMS[(i + j) % TEAMS.length])));
  }
  return org.id;
}

/** Statements per subgraph during exactly one run of `query` (after a warm-up run). */
async function measure<T = Listed>(owner: Person, orgId: string | null, query = QUERY): Promise<{ counts: Record<string, number>; data: T }> {
  const run = () => t.gql(query, orgId === null ? {} : { id: orgId }, bearer(owner.access));
  // Warm-up: the gateway's JWKS and session caches are filled by the first request, not this one.
  expect((await run()).body.errors).toBeUndefined();
  counts.clear();
  counting = true;
  const res = await run();
  counting = false;
  expect(res.body.errors).toBeUndefined();
  const data = res.body.data as T | null | undefined;
  if (!data) throw new Error(`no data: ${JSON.stringify(res.body)}`);
  return { counts: Object.fromEntries([...counts].sort()), data };
}

describe('N+1: organization members with users through the gateway', () => {
  it('runs the same number of SQL statements per subgraph for 10 and 100 members', async () => {
    const owner = await person(t, 'n1owner');
    const users: { id: string }[] = [];
    for (let i = 0; i < 99; i += 10) users.push(...(await Promise.all(Array.from({ length: Math.min(10, 99 - i) }, () => account(t, 'n1')))));
    const [small, large] = [await orgOf(owner, users, 10), await orgOf(owner, users, 100)];

    const ten = await measure(owner, small);
    const hundred = await measure(owner, large);

    for (const [m, size] of [[ten, 10], [hundred, 100]] as const) {
      const listed = m.data.organization;
      expect(listed.memberCount).toBe(size);
      expect(listed.members.total).toBe(size);
      expect(listed.members.items).toHaveLength(size);
      expect(listed.teams.reduce((n, team) => n + team.memberCount, 0)).toBe(size - 1);
      // Every member came back with its profile resolved from identity.
      for (const item of listed.members.items) expect(item.user.username).toBe(item.username);
    }
    expect(ten.counts.orgs).toBeGreaterThan(0);
    expect(ten.counts.identity).toBeGreaterThan(0);
    expect(hundred.counts).toEqual(ten.counts);
  });

  it('answers me → organizations → members → user with two orgs statements, for one organization as for three', async () => {
    const CROSS = '{ me { organizations { id name members { items { role user { id username } } } } } }';
    type Cross = { me: { organizations: { id: string; name: string; members: { items: { role: string; user: { id: string; username: string } }[] } }[] } };
    const member = await person(t, 'crossm');
    const owners = await Promise.all([0, 1, 2].map(() => person(t, 'crosso')));
    const orgs: Org[] = [];
    for (const owner of owners) {
      const org = await createOrg(t, owner, { name: `Cross ${orgs.length}` });
      await addMember(t, org.id, owner, member.id, 'admin');
      orgs.push(org);
    }
    const one = await measure<Cross>(owners[0] as Person, null, CROSS);
    const three = await measure<Cross>(member, null, CROSS);
    expect(one.data.me.organizations.map((o) => o.name)).toEqual(['Cross 0']);
    expect(three.data.me.organizations.map((o) => o.name)).toEqual(['Cross 0', 'Cross 1', 'Cross 2']);
    for (const [i, org] of three.data.me.organizations.entries()) {
      expect(org.id).toBe(orgs[i]?.id);
      expect(org.members.items.map((m) => [m.role, m.user.username]).sort()).toEqual([['ADMIN', member.username], ['OWNER', owners[i]?.username]].sort());
    }
    // The user's memberships with their organizations in one statement, which also answers each
    // organization's access check; the member pages of all of them in another.
    expect(one.counts.orgs).toBe(2);
    expect(three.counts).toEqual(one.counts);
  });

  it('lists the caller\'s organizations (ORG-1) in as many orgs statements for one organization as for three, on GraphQL and on REST', async () => {
    const member = await person(t, 'listm');
    const owners = await Promise.all([0, 1, 2].map(() => person(t, 'listo')));
    for (const [i, owner] of owners.entries()) {
      const org = await createOrg(t, owner, { name: `List ${i}` });
      await addMember(t, org.id, owner, member.id, 'member');
    }
    const gql = await measure<{ organizations: { name: string }[] }>(member, null, '{ organizations { id name slug } }');
    expect(gql.data.organizations.map((o) => o.name)).toEqual(['List 0', 'List 1', 'List 2']);
    // The memberships with their organizations, in one statement.
    expect(gql.counts).toEqual({ orgs: 1 });

    const listed = async (who: Person) => {
      const list = () => t.rest('GET', '/api/organizations', { headers: bearer(who.access) });
      expect((await list()).status).toBe(200);
      counts.clear();
      counting = true;
      const res = await list();
      counting = false;
      expect(res.status).toBe(200);
      return { body: res.body as { name: string; my_role: string }[], counts: Object.fromEntries(counts) };
    };
    const one = await listed(owners[0] as Person);
    const three = await listed(member);
    expect(one.body.map((o) => [o.name, o.my_role])).toEqual([['List 0', 'owner']]);
    expect(three.body.map((o) => [o.name, o.my_role])).toEqual([['List 0', 'member'], ['List 1', 'member'], ['List 2', 'member']]);
    // That statement also answers `my_role`; the member counts and the teams take one each.
    expect(one.counts).toEqual({ orgs: 3 });
    expect(three.counts).toEqual(one.counts);
  });
});
