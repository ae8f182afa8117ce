/**
 * REST/GraphQL parity (a parity suite runs the same cases through REST and
 * GraphQL"): each row is one failing operation called through both surfaces, which must agree on
 * status, message and extra keys. REST answers `{"detail":{"error","message",…extra}}` (see
 * §1.7) with `error` the wire spelling; GraphQL nulls the root field and reports the registry
 * `code` with the same status and extras, tagged with the subgraph that refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestStack, type GraphQLResponse, type RestResponse, type TestStack } from './harness.ts';
import { as, apiKey, createKey, createOrg, orgWith, person, type Person } from './org-fixtures.ts';
import { createConversation } from './chat-fixtures.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(() => t?.close());

const M = {
  createOrganization: 'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id } } }',
  updateOrganization: 'mutation ($id: ID!, $input: UpdateOrganizationInput!) { updateOrganization(id: $id, input: $input) { organization { id } } }',
  deleteOrganization: 'mutation ($id: ID!) { deleteOrganization(id: $id) { id } }',
  addMember: 'mutation ($org: ID!, $input: AddMemberInput!) { addMember(organizationId: $org, input: $input) { member { userId } } }',
  updateMemberRole: 'mutation ($org: ID!, $user: ID!, $input: UpdateMemberRoleInput!) { updateMemberRole(organizationId: $org, userId: $user, input: $input) { member { userId } } }',
  removeMember: 'mutation ($org: ID!, $user: ID!) { removeMember(organizationId: $org, userId: $user) { organizationId userId } }',
  createConversation: 'mutation ($input: CreateConversationInput!) { createConversation(input: $input) { conversation { id } } }',
  deleteConversation: 'mutation ($id: ID!) { deleteConversation(id: $id) { id } }',
};
type Field = keyof typeof M;

const gql = (p: Person, field: Field, variables: Record<string, unknown>) => t.gql(M[field], variables, bearer(p.access));

/** One failing operation run through both surfaces. */
interface ParityCase {
  name: string;
  /** The GraphQL root field, and the subgraph that owns it. */
  field: Field;
  service: 'orgs' | 'chat';
  status: number;
  code: string;
  error: string;
  message: string;
  extra?: Record<string, unknown>;
  setup(): Promise<{ rest(): Promise<RestResponse>; gql(): Promise<GraphQLResponse> }>;
}

const PARITY: ParityCase[] = [
  {
    name: 'explicit slug taken',
    field: 'createOrganization', service: 'orgs',
    status: 409, code: 'SLUG_TAKEN', error: 'slug_taken', message: 'Organization slug is already taken',
    async setup() {
      const { owner, org } = await orgWith(t, {});
      const json = { name: 'x', slug: org.slug };
      return { rest: () => t.rest('POST', '/api/organizations', { json, ...as(owner) }), gql: () => gql(owner, 'createOrganization', { input: json }) };
    },
  },
  {
    name: 'member adds an admin',
    field: 'addMember', service: 'orgs',
    status: 403, code: 'INSUFFICIENT_ROLE', error: 'insufficient_role', message: 'Insufficient organization role', extra: { required_role: 'admin' },
    async setup() {
      const { org, people } = await orgWith(t, { m: 'member', x: 'none' });
      return {
        rest: () => t.rest('POST', `/api/organizations/${org.id}/members`, { json: { user_id: people.x.id, role: 'admin' }, ...as(people.m) }),
        gql: () => gql(people.m, 'addMember', { org: org.id, input: { userId: people.x.id, role: 'ADMIN' } }),
      };
    },
  },
  {
    name: 'admin grants owner',
    field: 'updateMemberRole', service: 'orgs',
    status: 403, code: 'INSUFFICIENT_ROLE', error: 'insufficient_role', message: 'Insufficient organization role', extra: { required_role: 'owner' },
    async setup() {
      const { org, people } = await orgWith(t, { a: 'admin', m: 'member' });
      const path = `/api/organizations/${org.id}/members/${people.m.id}`;
      return { rest: () => t.rest('PATCH', path, { json: { role: 'owner' }, ...as(people.a) }), gql: () => gql(people.a, 'updateMemberRole', { org: org.id, user: people.m.id, input: { role: 'OWNER' } }) };
    },
  },
  {
    name: 'last owner leaves',
    field: 'removeMember', service: 'orgs',
    status: 409, code: 'LAST_OWNER', error: 'last_owner', message: 'An organization must keep at least one owner',
    async setup() {
      const { org, owner } = await orgWith(t, {});
      return { rest: () => t.rest('DELETE', `/api/organizations/${org.id}/members/${owner.id}`, as(owner)), gql: () => gql(owner, 'removeMember', { org: org.id, user: owner.id }) };
    },
  },
  {
    name: 'non-member updates',
    field: 'updateOrganization', service: 'orgs',
    status: 404, code: 'NOT_FOUND', error: 'not_found', message: 'Organization not found',
    async setup() {
      const { org, people } = await orgWith(t, { s: 'none' });
      return { rest: () => t.rest('PATCH', `/api/organizations/${org.id}`, { json: { name: 'n' }, ...as(people.s) }), gql: () => gql(people.s, 'updateOrganization', { id: org.id, input: { name: 'n' } }) };
    },
  },
  {
    name: 'key of another organization deletes',
    field: 'deleteOrganization', service: 'orgs',
    status: 403, code: 'TENANT_MISMATCH', error: 'tenant_mismatch', message: 'Credential is not valid for this organization',
    async setup() {
      const { org, owner } = await orgWith(t, {});
      const other = await createOrg(t, owner);
      const key = await createKey(t, owner, other.id, ['organizations:write']);
      return { rest: () => t.rest('DELETE', `/api/organizations/${org.id}`, { headers: apiKey(key.key) }), gql: () => t.gql(M.deleteOrganization, { id: org.id }, apiKey(key.key)) };
    },
  },
  {
    name: 'unknown AI provider for a new conversation',
    field: 'createConversation', service: 'chat',
    status: 400, code: 'UNKNOWN_PROVIDER', error: 'unknown_provider', message: 'Unknown or unavailable AI provider', extra: { provider: 'gpt-x' },
    async setup() {
      const alice = await person(t, 'palice');
      return { rest: () => t.rest('POST', '/api/core/conversations', { json: { provider: 'gpt-x' }, ...as(alice) }), gql: () => gql(alice, 'createConversation', { input: { provider: 'gpt-x' } }) };
    },
  },
  {
    name: "deleting another user's conversation",
    field: 'deleteConversation', service: 'chat',
    status: 404, code: 'NOT_FOUND', error: 'not_found', message: 'Conversation not found',
    async setup() {
      const [alice, bob] = await Promise.all([person(t, 'palice'), person(t, 'pbob')]);
      const theirs = await createConversation(t, bob);
      return { rest: () => t.rest('DELETE', `/api/core/conversations/${theirs.id}`, as(alice)), gql: () => gql(alice, 'deleteConversation', { id: theirs.id }) };
    },
  },
];

describe('REST/GraphQL parity of errors', () => {
  it.each(PARITY.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const surfaces = await c.setup();
    const rest = await surfaces.rest();
    expect({ status: rest.status, body: rest.body }).toEqual({ status: c.status, body: { detail: { error: c.error, message: c.message, ...c.extra } } });
    const res = await surfaces.gql();
    expect(res.body).toEqual({ errors: [{ message: c.message, path: [c.field], extensions: { code: c.code, status: c.status, ...c.extra, serviceName: c.service } }], data: null });
  });
});
