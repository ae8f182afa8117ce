/**
 * The cross-subgraph part of `npm run bench -- gateway`: `me → organizations → members → user`
 * through the gateway against the same three subgraph calls made straight to the subgraphs (what
 * the gateway's query plan sends: identity `me`, orgs `_entities` for the user's organizations and
 * their members, identity `_entities` for the members' usernames), one call after another like the
 * plan, with the same load generator (undici `request` over keep-alive connections) on both sides.
 */
import { Agent, request } from 'undici';

export const CROSS_QUERY = '{ me { id organizations { id name members { items { role user { id username } } } } } }';

const ORGS_OP = 'query($representations:[_Any!]!){_entities(representations:$representations){...on User{organizations{id name members{items{role user{__typename id}}}}}}}';
const USERS_OP = 'query($representations:[_Any!]!){_entities(representations:$representations){...on User{username}}}';

export interface Figures {
  rps: number;
  mean: number;
  p50: number;
  p99: number;
  errors: number;
}

/** One logical request: resolves true when every answer was a 200 without `errors`. */
export type Call = () => Promise<boolean>;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** Runs `call` from `connections` concurrent loops for `durationS` seconds. */
export async function loop(call: Call, connections: number, durationS: number): Promise<Figures> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + durationS * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      const ok = await call().catch(() => false);
      latencies.push(performance.now() - start);
      if (!ok) errors += 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const mean = latencies.reduce((n, l) => n + l, 0) / (latencies.length || 1);
  return { rps: latencies.length / elapsed, mean, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: unknown[];
}

async function post<T>(url: string, headers: Record<string, string>, body: string): Promise<GraphQLAnswer<T> | null> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, dispatcher: agent });
  const answer = (await res.body.json()) as GraphQLAnswer<T>;
  return res.statusCode === 200 && !answer.errors ? answer : null;
}

/** The cross-subgraph query through the gateway, as one call. */
export function throughGateway(gatewayUrl: string, headers: Record<string, string>): Call {
  const body = JSON.stringify({ query: CROSS_QUERY });
  return async () => (await post<unknown>(gatewayUrl, headers, body)) !== null;
}

interface OrgsAnswer {
  _entities: { organizations: { members: { items: { user: { id: string } }[] } }[] }[];
}

/**
 * The same three subgraph calls the gateway's plan makes, made directly with a signed context
 * (`contextHeader()` returns a fresh one: contexts live 60 s).
 */
export function directToSubgraphs(identityUrl: string, orgsUrl: string, contextHeader: () => Record<string, string>): Call {
  const meBody = JSON.stringify({ query: '{me{__typename id}}' });
  return async () => {
    const headers = contextHeader();
    const me = await post<{ me: { __typename: string; id: string } | null }>(identityUrl, headers, meBody);
    const user = me?.data?.me;
    if (!user) return false;
    const orgs = await post<OrgsAnswer>(orgsUrl, headers, JSON.stringify({ query: ORGS_OP, variables: { representations: [user] } }));
    if (!orgs?.data) return false;
    const ids = new Set<string>();
    for (const org of orgs.data._entities[0]?.organizations ?? []) {
      for (const m of org.members.items) ids.add(m.user.id);
    }
    const users = await post<unknown>(identityUrl, headers, JSON.stringify({ query: USERS_OP, variables: { representations: [...ids].map((id) => ({ __typename: 'User', id })) } }));
    return users !== null;
  };
}

/** Registers `count` users, logs the first in, and makes it the owner of two organizations that all of them belong to. */
export async function seedOrganizations(gateway: string, count: number): Promise<{ token: string; id: string; sid: string }> {
  const stamp = Date.now().toString(36);
  const users: { id: string; username: string }[] = [];
  for (let i = 0; i < count; i += 1) {
    const u = { email: `cross_${stamp}_${i}@example.com`, username: `cross_${stamp}_${i}`, password: 'benchmark password' };
    const reg = await fetch(`${gateway}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(u) });
    if (reg.status !== 201 && reg.status !== 200) throw new Error(`register: ${reg.status} ${await reg.text()}`);
    users.push({ id: ((await reg.json()) as { id: string }).id, username: u.username });
  }
  const owner = users[0];
  if (!owner) throw new Error('no users');
  const login = await fetch(`${gateway}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: owner.username, password: 'benchmark password' }).toString(),
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const gql = async (query: string, variables: Record<string, unknown>) => {
    const res = await fetch(`${gateway}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const answer = (await res.json()) as GraphQLAnswer<Record<string, unknown>>;
    if (answer.errors) throw new Error(`seed: ${JSON.stringify(answer.errors)}`);
    return answer.data ?? {};
  };
  for (const name of ['Bench Alpha', 'Bench Beta']) {
    const created = await gql('mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id } } }', { input: { name: `${name} ${stamp}` } });
    const orgId = (created.createOrganization as { organization: { id: string } }).organization.id;
    for (const u of users.slice(1)) {
      await gql('mutation($org: ID!, $input: AddMemberInput!) { addMember(organizationId: $org, input: $input) { member { userId } } }', { org: orgId, input: { userId: u.id } });
    }
  }
  const sid = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sid: string }).sid;
  return { token, id: owner.id, sid };
}

export async function closeAgent(): Promise<void> {
  await agent.close();
}
