/**
 * The permission matrix of §4.13 as a table: each action × caller role (owner, admin,
 * member, non-member, platform admin) × target role, through REST. Every row builds its own
 * organization with fresh users, so rows never depend on each other's state. A denied row must
 * also leave the organization exactly as it was (a 403 after a half-applied change is a bug too).
 */
import { describe, expect, it } from 'vitest';
import { type RestResponse, useTestStack } from './harness.ts';
import { as, account, addMember, createOrg, insufficientRole, ALREADY_MEMBER, LAST_OWNER, person, platformAdmin, type Member, type Org, type OrgRole, type Person } from './org-fixtures.ts';
import { notFoundBody } from './assertions.ts';

const t = useTestStack();

/** `sole owner` is the organization's creator while no other owner exists. */
type Caller = 'sole owner' | 'owner' | 'admin' | 'member' | 'non-member' | 'platform admin';
/** A member in that role, the caller themselves, or the sole owner (the creator). */
type Target = OrgRole | 'self' | 'sole owner';

type Outcome = { ok: 200 | 201 | 204 } | { denied: OrgRole } | { notFound: 'Organization' | 'Member' } | { conflict: 'last_owner' | 'already_member' };

const OK200: Outcome = { ok: 200 };
const OK201: Outcome = { ok: 201 };
const OK204: Outcome = { ok: 204 };
const NEEDS_ADMIN: Outcome = { denied: 'admin' };
const NEEDS_OWNER: Outcome = { denied: 'owner' };
const NO_ORG: Outcome = { notFound: 'Organization' };
const NO_MEMBER: Outcome = { notFound: 'Member' };
const LAST_OWNER_409: Outcome = { conflict: 'last_owner' };
const ALREADY_MEMBER_409: Outcome = { conflict: 'already_member' };

interface Fixture {
  org: Org;
  /** The creator (an owner) of `org`. */
  boss: Person;
  caller: Person;
  target: Person | null;
  /** A registered account that belongs to no organization (for ORG-7). */
  newcomer: { id: string } | null;
  /** The destination of a move, created by `destBoss`. */
  dest: { org: Org; boss: Person } | null;
}

interface Action {
  run(f: Fixture): Promise<RestResponse>;
  /** Checks the change an allowed call made. */
  effect(f: Fixture, res: RestResponse, row: Row): Promise<void>;
  needsNewcomer?: boolean;
  needsDest?: boolean;
}

const memberPath = (f: Fixture) => `/api/organizations/${f.org.id}/members/${f.target?.id ?? 'missing-target'}`;
const membersOf = async (orgId: string, viewer: Person) => (await t.rest('GET', `/api/organizations/${orgId}/members?limit=100`, as(viewer))).body as { items: Member[] };
const isListed = async (orgId: string, viewer: Person, userId: string) => (await membersOf(orgId, viewer)).items.some((m) => m.user_id === userId);

function setRole(role: OrgRole): Action {
  return {
    run: (f) => t.rest('PATCH', memberPath(f), { json: { role }, ...as(f.caller) }),
    effect: async (f, res) => expect(res.body).toMatchObject({ user_id: f.target?.id, role }),
  };
}

function add(role: OrgRole): Action {
  return {
    needsNewcomer: true,
    run: (f) => t.rest('POST', `/api/organizations/${f.org.id}/members`, { json: { user_id: f.newcomer?.id, role }, ...as(f.caller) }),
    effect: async (f, res) => expect(res.body).toMatchObject({ user_id: f.newcomer?.id, organization_id: f.org.id, role }),
  };
}

function move(role?: OrgRole): Action {
  return {
    needsDest: true,
    run: (f) => t.rest('PUT', memberPath(f), { json: { organization_id: f.dest?.org.id, ...(role ? { role } : {}) }, ...as(f.caller) }),
    effect: async (f, res, row) => {
      const kept: OrgRole = row.target === 'self' || row.target === 'sole owner' ? 'owner' : (row.target ?? 'member');
      expect(res.body).toMatchObject({ user_id: f.target?.id, organization_id: f.dest?.org.id, role: role ?? kept, team_id: null });
      expect(await isListed(f.org.id, f.boss, f.target?.id ?? '')).toBe(false);
    },
  };
}

const ACTIONS = {
  'view (ORG-3)': {
    run: (f) => t.rest('GET', `/api/organizations/${f.org.id}`, as(f.caller)),
    effect: async (f, res, row) => expect(res.body).toMatchObject({ id: f.org.id, my_role: row.caller === 'platform admin' ? null : row.caller.replace('sole ', '') }),
  },
  'list members (ORG-6)': {
    run: (f) => t.rest('GET', `/api/organizations/${f.org.id}/members?limit=100`, as(f.caller)),
    effect: async (f, res) => expect(res.body).toEqual(await membersOf(f.org.id, f.boss)),
  },
  'update (ORG-4)': {
    run: (f) => t.rest('PATCH', `/api/organizations/${f.org.id}`, { json: { description: 'changed by the matrix' }, ...as(f.caller) }),
    effect: async (f, res) => expect(res.body).toMatchObject({ id: f.org.id, description: 'changed by the matrix' }),
  },
  'delete (ORG-5)': {
    run: (f) => t.rest('DELETE', `/api/organizations/${f.org.id}`, as(f.caller)),
    effect: async (f, res) => {
      expect(res.text).toBe('');
      expect((await t.rest('GET', `/api/organizations/${f.org.id}`, as(f.boss))).status).toBe(404);
    },
  },
  'add as member (ORG-7)': add('member'),
  'add as admin (ORG-7)': add('admin'),
  'add as owner (ORG-7)': add('owner'),
  'set role member (ORG-8)': setRole('member'),
  'set role admin (ORG-8)': setRole('admin'),
  'set role owner (ORG-8)': setRole('owner'),
  'grant owner (ORG-9)': {
    run: (f) => t.rest('PUT', memberPath(f), { json: { role: 'owner' }, ...as(f.caller) }),
    effect: async (f, res) => expect(res.body).toMatchObject({ user_id: f.target?.id, role: 'owner' }),
  },
  'set team (ORG-9)': {
    run: (f) => t.rest('PUT', memberPath(f), { json: { team_name: 'Blue' }, ...as(f.caller) }),
    effect: async (f, res) => expect(res.body).toMatchObject({ user_id: f.target?.id, team_name: 'Blue' }),
  },
  'remove (ORG-10)': {
    run: (f) => t.rest('DELETE', memberPath(f), as(f.caller)),
    effect: async (f, res) => {
      expect(res.text).toBe('');
      expect(await isListed(f.org.id, f.boss, f.target?.id ?? '')).toBe(false);
    },
  },
  'move (ORG-9)': move(),
  'move as owner (ORG-9)': move('owner'),
} satisfies Record<string, Action>;

type ActionName = keyof typeof ACTIONS;

interface Row {
  action: ActionName;
  caller: Caller;
  target?: Target;
  /** The caller's role in the destination of a move (`none`: not a member there). */
  dest?: OrgRole | 'none';
  /** The target already belongs to the destination. */
  targetInDest?: boolean;
  expect: Outcome;
}

type ByCaller = Record<'owner' | 'admin' | 'member' | 'non-member' | 'platform admin', Outcome>;

/** One line of the §4.13 matrix: the same action and target for the five caller roles. */
function line(action: ActionName, target: Target | undefined, by: ByCaller): Row[] {
  return (Object.keys(by) as (keyof ByCaller)[]).map((caller) => ({ action, caller, ...(target ? { target } : {}), expect: by[caller] }));
}

const ROWS: Row[] = [
  // View the organization; list members.
  ...line('view (ORG-3)', undefined, { owner: OK200, admin: OK200, member: OK200, 'non-member': NO_ORG, 'platform admin': OK200 }),
  ...line('list members (ORG-6)', undefined, { owner: OK200, admin: OK200, member: OK200, 'non-member': NO_ORG, 'platform admin': OK200 }),
  // Update / delete the organization.
  ...line('update (ORG-4)', undefined, { owner: OK200, admin: OK200, member: NEEDS_ADMIN, 'non-member': NO_ORG, 'platform admin': OK200 }),
  ...line('delete (ORG-5)', undefined, { owner: OK204, admin: NEEDS_OWNER, member: NEEDS_OWNER, 'non-member': NO_ORG, 'platform admin': OK204 }),
  // Add a member as member/admin; as owner.
  ...line('add as member (ORG-7)', undefined, { owner: OK201, admin: OK201, member: NEEDS_ADMIN, 'non-member': NO_ORG, 'platform admin': OK201 }),
  ...line('add as admin (ORG-7)', undefined, { owner: OK201, admin: OK201, member: NEEDS_ADMIN, 'non-member': NO_ORG, 'platform admin': OK201 }),
  ...line('add as owner (ORG-7)', undefined, { owner: OK201, admin: NEEDS_OWNER, member: NEEDS_OWNER, 'non-member': NO_ORG, 'platform admin': OK201 }),
  // Change role or team of a `member` target (to member/admin).
  ...line('set role admin (ORG-8)', 'member', { owner: OK200, admin: OK200, member: NEEDS_ADMIN, 'non-member': NO_ORG, 'platform admin': OK200 }),
  ...line('set role member (ORG-8)', 'member', { owner: OK200, admin: OK200, member: NEEDS_ADMIN, 'non-member': NO_ORG, 'platform admin': OK200 }),
  ...line('set team (ORG-9)', 'member', { owner: OK200, admin: OK200, member: NEEDS_ADMIN, 'non-member': NO_ORG, 'platform admin': OK200 }),
  // Change role or team of an `admin` or `owner` target.
  ...line('set role member (ORG-8)', 'admin', { owner: OK200, admin: NEEDS_OWNER, member: NEEDS_OWNER, 'non-member': NO_ORG, 'platform admin': OK200 }),
  ...line('set team (ORG-9)', 'admin', { owner: OK200, admin: NEEDS_OWNER, member: NEEDS_OWNER, 'non-member': NO_ORG, 'platform admin': OK200 }),
  ...line('set role admin (ORG-8)', 'owner', { owner: OK200, admin: NEEDS_OWNER, member: NEEDS_OWNER, 'non-member': NO_ORG, 'platform admin': OK200 }),
  ...line('set team (ORG-9)', 'owner', { owner: OK200, admin: NEEDS_OWNER, member: NEEDS_OWNER, 'non-member': NO_ORG, 'platform admin': OK200 }),
  // Grant owner.
  ...line('set role owner (ORG-8)', 'member', { owner: OK200, admin: NEEDS_OWNER, member: NEEDS_OWNER, 'non-member': NO_ORG, 'platform admin': OK200 }),
  ...line('set role owner (ORG-8)', 'admin', { owner: OK200, admin: NEEDS_OWNER, member: NEEDS_OWNER, 'non-member': NO_ORG, 'platform admin': OK200 }),
  ...line('grant owner (ORG-9)', 'member', { owner: OK200, admin: NEEDS_OWNER, member: NEEDS_OWNER, 'non-member': NO_ORG, 'platform admin': OK200 }),
  // Changes to oneself: an admin may only demote themselves to member.
  { action: 'set role member (ORG-8)', caller: 'admin', target: 'self', expect: OK200 },
  { action: 'set role owner (ORG-8)', caller: 'admin', target: 'self', expect: NEEDS_OWNER },
  { action: 'set team (ORG-9)', caller: 'admin', target: 'self', expect: NEEDS_OWNER },
  { action: 'set role admin (ORG-8)', caller: 'member', target: 'self', expect: NEEDS_ADMIN },
  { action: 'set team (ORG-9)', caller: 'member', target: 'self', expect: NEEDS_ADMIN },
  { action: 'set role admin (ORG-8)', caller: 'owner', target: 'self', expect: OK200 },
  { action: 'set role admin (ORG-8)', caller: 'sole owner', target: 'self', expect: LAST_OWNER_409 },
  { action: 'set role member (ORG-8)', caller: 'platform admin', target: 'sole owner', expect: LAST_OWNER_409 },
  // Remove a member / an admin / an owner.
  ...line('remove (ORG-10)', 'member', { owner: OK204, admin: OK204, member: NEEDS_ADMIN, 'non-member': NO_ORG, 'platform admin': OK204 }),
  ...line('remove (ORG-10)', 'admin', { owner: OK204, admin: NEEDS_OWNER, member: NEEDS_OWNER, 'non-member': NO_ORG, 'platform admin': OK204 }),
  ...line('remove (ORG-10)', 'owner', { owner: OK204, admin: NEEDS_OWNER, member: NEEDS_OWNER, 'non-member': NO_ORG, 'platform admin': OK204 }),
  { action: 'remove (ORG-10)', caller: 'platform admin', target: 'sole owner', expect: LAST_OWNER_409 },
  // Self-removal (leaving) is always allowed, except for the last owner.
  ...line('remove (ORG-10)', 'self', { owner: OK204, admin: OK204, member: OK204, 'non-member': NO_ORG, 'platform admin': NO_MEMBER }),
  { action: 'remove (ORG-10)', caller: 'sole owner', target: 'self', expect: LAST_OWNER_409 },
  // Move to another organization: owner/admin in both, the target rule in the source, and an
  // owner in the destination when the resulting role is owner.
  { action: 'move (ORG-9)', caller: 'owner', dest: 'owner', target: 'member', expect: OK200 },
  { action: 'move (ORG-9)', caller: 'owner', dest: 'admin', target: 'member', expect: OK200 },
  { action: 'move (ORG-9)', caller: 'admin', dest: 'admin', target: 'member', expect: OK200 },
  { action: 'move (ORG-9)', caller: 'owner', dest: 'admin', target: 'admin', expect: OK200 },
  { action: 'move (ORG-9)', caller: 'owner', dest: 'owner', target: 'owner', expect: OK200 },
  { action: 'move (ORG-9)', caller: 'platform admin', dest: 'none', target: 'member', expect: OK200 },
  { action: 'move (ORG-9)', caller: 'admin', dest: 'admin', target: 'admin', expect: NEEDS_OWNER },
  { action: 'move (ORG-9)', caller: 'owner', dest: 'admin', target: 'owner', expect: NEEDS_OWNER },
  { action: 'move (ORG-9)', caller: 'member', dest: 'admin', target: 'member', expect: NEEDS_ADMIN },
  { action: 'move (ORG-9)', caller: 'owner', dest: 'member', target: 'member', expect: NEEDS_ADMIN },
  { action: 'move (ORG-9)', caller: 'owner', dest: 'none', target: 'member', expect: NO_ORG },
  { action: 'move (ORG-9)', caller: 'non-member', dest: 'admin', target: 'member', expect: NO_ORG },
  { action: 'move (ORG-9)', caller: 'owner', dest: 'owner', target: 'member', targetInDest: true, expect: ALREADY_MEMBER_409 },
  { action: 'move (ORG-9)', caller: 'platform admin', dest: 'none', target: 'sole owner', expect: LAST_OWNER_409 },
  { action: 'move as owner (ORG-9)', caller: 'owner', dest: 'owner', target: 'member', expect: OK200 },
  { action: 'move as owner (ORG-9)', caller: 'admin', dest: 'owner', target: 'member', expect: OK200 },
  { action: 'move as owner (ORG-9)', caller: 'owner', dest: 'admin', target: 'member', expect: NEEDS_OWNER },
  { action: 'move as owner (ORG-9)', caller: 'admin', dest: 'admin', target: 'member', expect: NEEDS_OWNER },
];

/** Builds the row's organization (and destination) with fresh users in the roles it names. */
async function fixture(row: Row): Promise<Fixture> {
  const action: Action = ACTIONS[row.action];
  const fresh = (caller: Caller) => caller !== 'sole owner' && caller !== 'platform admin';
  const needsTarget = row.target !== undefined && row.target !== 'self' && row.target !== 'sole owner';
  const [boss, freshCaller, freshTarget, newcomer, destBoss] = await Promise.all([
    person(t, 'boss'),
    fresh(row.caller) ? person(t, 'caller') : null,
    needsTarget ? person(t, 'target') : null,
    action.needsNewcomer ? account(t, 'newcomer') : null,
    action.needsDest ? person(t, 'destboss') : null,
  ]);
  const org = await createOrg(t, boss);
  const caller = row.caller === 'sole owner' ? boss : row.caller === 'platform admin' ? await platformAdmin(t) : freshCaller;
  if (!caller) throw new Error('no caller');
  if (freshCaller && (row.caller === 'owner' || row.caller === 'admin' || row.caller === 'member')) await addMember(t, org.id, boss, freshCaller.id, row.caller);
  const target = row.target === 'self' ? caller : row.target === 'sole owner' ? boss : freshTarget;
  if (freshTarget && row.target && row.target !== 'self' && row.target !== 'sole owner') await addMember(t, org.id, boss, freshTarget.id, row.target);
  let dest: Fixture['dest'] = null;
  if (destBoss) {
    dest = { org: await createOrg(t, destBoss), boss: destBoss };
    if (row.dest && row.dest !== 'none' && row.caller !== 'platform admin') await addMember(t, dest.org.id, destBoss, caller.id, row.dest);
    if (row.targetInDest && target) await addMember(t, dest.org.id, destBoss, target.id, 'member');
  }
  return { org, boss, caller, target, newcomer, dest };
}

/** Everything a denied call must leave untouched, as the organizations' owners see it. */
async function state(f: Fixture): Promise<unknown[]> {
  const views = [t.rest('GET', `/api/organizations/${f.org.id}`, as(f.boss)), t.rest('GET', `/api/organizations/${f.org.id}/members?limit=100`, as(f.boss))];
  if (f.dest) views.push(t.rest('GET', `/api/organizations/${f.dest.org.id}/members?limit=100`, as(f.dest.boss)));
  return (await Promise.all(views)).map((r) => ({ status: r.status, body: r.body }));
}

function expectedBody(outcome: Outcome): unknown {
  if ('denied' in outcome) return insufficientRole(outcome.denied);
  if ('notFound' in outcome) return notFoundBody(outcome.notFound);
  if ('conflict' in outcome) return outcome.conflict === 'last_owner' ? LAST_OWNER : ALREADY_MEMBER;
  return undefined;
}

function statusOf(outcome: Outcome): number {
  if ('ok' in outcome) return outcome.ok;
  if ('denied' in outcome) return 403;
  if ('notFound' in outcome) return 404;
  return 409;
}

function describeOutcome(outcome: Outcome): string {
  if ('ok' in outcome) return `allowed (${outcome.ok})`;
  if ('denied' in outcome) return `403 insufficient_role, required_role ${outcome.denied}`;
  if ('notFound' in outcome) return `404 ${outcome.notFound} not found`;
  return `409 ${outcome.conflict}`;
}

function title(row: Row): string {
  const parts = [row.action, `caller ${row.caller}`];
  if (row.dest) parts.push(`in destination ${row.dest}`);
  if (row.target) parts.push(`target ${row.target}${row.targetInDest ? ' (already in destination)' : ''}`);
  return `${parts.join(' | ')} → ${describeOutcome(row.expect)}`;
}

describe('§4.13 permission matrix', () => {
  it('has one row per distinct case', () => {
    const titles = ROWS.map(title);
    expect(new Set(titles).size).toBe(titles.length);
  });

  for (const row of ROWS) {
    it(title(row), async () => {
      const f = await fixture(row);
      const before = await state(f);
      const res = await ACTIONS[row.action].run(f);
      if ('ok' in row.expect) {
        expect({ status: res.status, body: res.status === row.expect.ok ? 'as expected' : res.body }).toEqual({ status: row.expect.ok, body: 'as expected' });
        await ACTIONS[row.action].effect(f, res, row);
      } else {
        expect({ status: res.status, body: res.body }).toEqual({ status: statusOf(row.expect), body: expectedBody(row.expect) });
        expect(await state(f)).toEqual(before);
      }
    });
  }
});
