/**
 * Fixtures shared by the organization and API-key suites (§3.4, §3.10, §4.13, §4.14):
 * people, organizations with members in given roles, API keys, and the exact bodies the contract
 * prescribes. Every helper acts through the public REST surface and fails loudly on a surprise,
 * so a broken fixture never passes for a broken feature.
 */
import { expect } from 'vitest';
import { bearer, newUser, registerAndLogin, type TestStack } from './harness.ts';
import { coded, ok, TIMESTAMP } from './assertions.ts';

// Suites written before assertions.ts still take these from here.
export { coded, notFoundBody, UNKNOWN_ID } from './assertions.ts';

export type OrgRole = 'owner' | 'admin' | 'member';

export interface Person {
  id: string;
  access: string;
  email: string;
  username: string;
  password: string;
}

export interface Org {
  id: string;
  name: string;
  slug: string;
  description: string | null;
  my_role: OrgRole | null;
  member_count: number;
  teams: { id: string; name: string; member_count: number }[];
  created_at: string;
  updated_at: string;
}

export interface Member {
  user_id: string;
  organization_id: string;
  username: string;
  full_name: string | null;
  email: string;
  role: OrgRole;
  team_id: string | null;
  team_name: string | null;
  joined_at: string;
}

export interface CreatedKey {
  id: string;
  key: string;
  organization_id: string;
  created_by: string;
}

export const insufficientRole = (role: OrgRole) => coded('insufficient_role', 'Insufficient organization role', { required_role: role });
export const TENANT_MISMATCH = coded('tenant_mismatch', 'Credential is not valid for this organization');
export const LAST_OWNER = coded('last_owner', 'An organization must keep at least one owner');
export const ALREADY_MEMBER = coded('already_member', 'User is already a member of this organization');
export const SLUG_TAKEN = coded('slug_taken', 'Organization slug is already taken');
export const INVALID_API_KEY = coded('invalid_api_key', 'Invalid API key');
export const BEARER_REQUIRED = coded('bearer_required', 'This endpoint requires a bearer token');
export const scopeMissing = (required: string, granted: string[]) =>
  coded('INSUFFICIENT_API_KEY_SCOPE', 'API key lacks required scope for this endpoint', { required_scope: required, granted_scopes: granted });

/** Registers and logs in a fresh user. */
export async function person(t: TestStack, prefix = 'user'): Promise<Person> {
  const { id, access, user } = await registerAndLogin(t, prefix);
  return { id, access, ...user };
}

/** Registers a fresh user without logging in (cheaper: one password hash). */
export async function account(t: TestStack, prefix = 'user'): Promise<{ id: string; email: string; username: string }> {
  const u = newUser(prefix);
  const reg = ok<{ id: string }>(await t.rest('POST', '/api/auth/register', { json: u }), 201);
  return { id: reg.id, email: u.email, username: u.username };
}

// Registering admin@xentree.test works once per stack, so its login is remembered per stack.
const admins = new WeakMap<TestStack, Promise<Person>>();

/** The platform admin of the stack (the email listed in XENTREE_ADMIN_EMAILS). */
export function platformAdmin(t: TestStack): Promise<Person> {
  let p = admins.get(t);
  if (!p) {
    p = (async () => {
      const u = { ...newUser('padmin'), email: 'admin@xentree.test' };
      const reg = ok<{ id: string; role: string }>(await t.rest('POST', '/api/auth/register', { json: u }), 201);
      expect(reg.role).toBe('admin');
      const login = ok<{ access_token: string }>(await t.rest('POST', '/api/auth/login', { form: { username: u.username, password: u.password } }), 200);
      return { id: reg.id, access: login.access_token, ...u };
    })();
    admins.set(t, p);
  }
  return p;
}

/** ORG-2 as `owner`. */
export async function createOrg(t: TestStack, owner: Person, body: Record<string, unknown> = {}): Promise<Org> {
  const json = { name: `Org ${Math.random().toString(36).slice(2, 10)}`, ...body };
  return ok<Org>(await t.rest('POST', '/api/organizations', { json, headers: bearer(owner.access) }), 201);
}

/** ORG-7 by user id, acting as `by`. */
export async function addMember(t: TestStack, orgId: string, by: Person, userId: string, role: OrgRole = 'member', teamName?: string): Promise<Member> {
  const json = { user_id: userId, role, ...(teamName === undefined ? {} : { team_name: teamName }) };
  return ok<Member>(await t.rest('POST', `/api/organizations/${orgId}/members`, { json, headers: bearer(by.access) }), 201);
}

/**
 * A fresh organization created by a fresh owner (`people.owner`), plus a fresh user per other
 * entry of `roles`, added with that role; `'none'` registers a user who is not a member.
 */
export async function orgWith<K extends string>(
  t: TestStack,
  roles: Record<K, OrgRole | 'none'>,
): Promise<{ org: Org; owner: Person; people: Record<K, Person> }> {
  const names = Object.keys(roles) as K[];
  const [owner, ...others] = await Promise.all([person(t, 'owner'), ...names.map((n) => person(t, n.slice(0, 8)))]);
  if (!owner) throw new Error('no owner');
  const org = await createOrg(t, owner);
  const people = {} as Record<K, Person>;
  for (const [i, name] of names.entries()) {
    const p = others[i];
    if (!p) throw new Error(`no person for ${name}`);
    people[name] = p;
    const role = roles[name];
    if (role !== 'none') await addMember(t, org.id, owner, p.id, role);
  }
  return { org, owner, people };
}

/** KEY-2 as `by`; returns the key with its id. */
export async function createKey(t: TestStack, by: Person, orgId: string, scopes: string[], extra: Record<string, unknown> = {}): Promise<CreatedKey> {
  const json = { name: 'test key', organization_id: orgId, scopes, ...extra };
  return ok<CreatedKey>(await t.rest('POST', '/api/api-keys', { json, headers: bearer(by.access) }), 201);
}

export const apiKey = (key: string): Record<string, string> => ({ 'x-api-key': key });
/** REST call options acting as `p` (their bearer token). */
export const as = (p: Pick<Person, 'access'>) => ({ headers: bearer(p.access) });

/** The `MemberResponse` expected for `p` in `orgId`. */
export function memberOf(p: Pick<Person, 'id' | 'email' | 'username'>, orgId: string, role: OrgRole, team: { id: string; name: string } | null = null): Member {
  return {
    user_id: p.id,
    organization_id: orgId,
    username: p.username,
    full_name: null,
    email: p.email,
    role,
    team_id: team?.id ?? null,
    team_name: team?.name ?? null,
    joined_at: expect.stringMatching(TIMESTAMP),
  };
}

/** A bare polling helper: calls `probe` until `done` holds or `ms` pass; returns the last value. */
export async function pollUntil<T>(probe: () => Promise<T>, done: (v: T) => boolean, ms: number, every = 50): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, every));
    value = await probe();
  }
  return value;
}
