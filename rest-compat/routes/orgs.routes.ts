/** Organizations, ORG-1..10 (§3.4), and List tenants, KEY-4 (§3.10), which the orgs subgraph serves. */
import { v } from '../validation.ts';
import { defineRoute, type RouteDecl } from '../route.ts';
import { array, field, lowerEnum, noContent, object, present } from '../shape.ts';

/** REST spells organization roles in lowercase; the GraphQL `OrgRole` enum in uppercase. */
export const ORG_ROLES = ['owner', 'admin', 'member'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];
const GQL_ROLE: Record<OrgRole, string> = { owner: 'OWNER', admin: 'ADMIN', member: 'MEMBER' };

/** `OrgRole` enum value for a validated REST role. */
export function gqlRole(role: OrgRole): string {
  return GQL_ROLE[role];
}

const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const role = () => v.enumOf(ORG_ROLES);
const orgName = () => v.str({ min: 1, max: 100 });
const slug = () => v.str({ min: 3, max: 50, pattern: SLUG });
const description = () => v.nullable(v.str({ max: 500 }));
const teamName = () => v.nullable(v.str({ min: 1, max: 100 }));

const orgParams = v.object({ org_id: v.uuid() });
const memberParams = v.object({ org_id: v.uuid(), target_user_id: v.uuid() });

const createBody = v.object({
  name: orgName(),
  slug: v.optional(v.nullable(slug())),
  description: v.optional(description()),
});

// name and slug are not nullable here: the contract only gives `description` a clearing null.
const updateBody = v.object({
  name: v.optional(orgName()),
  slug: v.optional(slug()),
  description: v.optional(description()),
});

const membersQuery = v.object({
  limit: v.optional(v.int({ ge: 1, le: 100 }), 20),
  offset: v.optional(v.int({ ge: 0 }), 0),
  role: v.optional(role()),
  team_id: v.optional(v.uuid()),
});

// A null user_id/email counts as not given, as with Pydantic's `X | None = None` fields.
const addMemberBody = v.custom(
  v.object({
    user_id: v.optional(v.nullable(v.uuid())),
    email: v.optional(v.nullable(v.str())),
    role: v.optional(role(), 'member'),
    team_name: v.optional(teamName()),
  }),
  (b) => ((b.user_id ?? null) === null) !== ((b.email ?? null) === null) ? null : 'Exactly one of user_id or email must be provided',
);

const roleUpdateBody = v.object({ role: role() });

const memberUpdateBody = v.object({
  role: v.optional(role()),
  organization_id: v.optional(v.uuid()),
  team_name: v.optional(teamName()),
});

/** `TeamSummary`. */
export function teamSummary(team: unknown): unknown {
  const t = object(team);
  return t && { id: t.id, name: t.name, member_count: t.memberCount };
}

/** `OrganizationResponse` from the `OrganizationResponseFields` fragment. */
export function organizationResponse(org: unknown): unknown {
  const o = object(org);
  if (!o) return null;
  return {
    id: o.id,
    name: o.name,
    slug: o.slug,
    description: o.description ?? null,
    my_role: lowerEnum(o.myRole),
    member_count: o.memberCount,
    teams: array(o.teams).map(teamSummary),
    created_at: o.createdAt,
    updated_at: o.updatedAt,
  };
}

/** `MemberResponse` from the `MemberResponseFields` fragment. */
export function memberResponse(member: unknown): unknown {
  const m = object(member);
  if (!m) return null;
  return {
    user_id: m.userId,
    organization_id: m.organizationId,
    username: m.username,
    full_name: m.fullName ?? null,
    email: m.email,
    role: lowerEnum(m.role),
    team_id: m.teamId ?? null,
    team_name: m.teamName ?? null,
    joined_at: m.joinedAt,
  };
}

/** `MemberListResponse`: the §1.2 envelope of `MemberResponse`. */
export function memberListResponse(page: unknown): unknown {
  const p = object(page);
  return p && { items: array(p.items).map(memberResponse), total: p.total, limit: p.limit, offset: p.offset };
}

/** `TenantResponse`. */
export function tenantResponse(tenant: unknown): unknown {
  const t = object(tenant);
  return t && { id: t.id, name: t.name, slug: t.slug, role: lowerEnum(t.role), can_view_all_keys: t.canViewAllKeys };
}

const ORG = { tag: 'Organizations' } as const;

export const orgRoutes: RouteDecl[] = [
  defineRoute({
    ...ORG,
    id: 'ORG-1',
    method: 'GET',
    path: '/api/organizations',
    summary: "List the caller's organizations",
    operation: 'ListOrganizations',
    variables: () => ({}),
    result: (data) => array(field(data, 'organizations')).map(organizationResponse),
    status: 200,
    responseName: 'OrganizationResponse[]',
  }),
  defineRoute({
    ...ORG,
    id: 'ORG-2',
    method: 'POST',
    path: '/api/organizations',
    summary: 'Create an organization',
    body: { kind: 'json', spec: createBody },
    operation: 'CreateOrganization',
    // A null slug asks for a derived one, the same as leaving it out.
    variables: ({ body }) => ({ input: { name: body.name, slug: body.slug ?? null, description: body.description ?? null } }),
    result: (data) => organizationResponse(field(data, 'createOrganization', 'organization')),
    status: 201,
    responseName: 'OrganizationResponse',
  }),
  defineRoute({
    ...ORG,
    id: 'ORG-3',
    method: 'GET',
    path: '/api/organizations/:org_id',
    summary: 'Get an organization',
    params: orgParams,
    operation: 'GetOrganization',
    variables: ({ params }) => ({ id: params.org_id }),
    result: (data) => organizationResponse(field(data, 'organization')),
    status: 200,
    notFound: 'Organization',
    responseName: 'OrganizationResponse',
  }),
  defineRoute({
    ...ORG,
    id: 'ORG-4',
    method: 'PATCH',
    path: '/api/organizations/:org_id',
    summary: 'Update an organization',
    params: orgParams,
    body: { kind: 'json', spec: updateBody },
    operation: 'UpdateOrganization',
    variables: ({ params, body }) => ({
      id: params.org_id,
      input: present(body, { name: 'name', slug: 'slug', description: 'description' }),
    }),
    result: (data) => organizationResponse(field(data, 'updateOrganization', 'organization')),
    status: 200,
    notFound: 'Organization',
    responseName: 'OrganizationResponse',
  }),
  defineRoute({
    ...ORG,
    id: 'ORG-5',
    method: 'DELETE',
    path: '/api/organizations/:org_id',
    summary: 'Delete an organization',
    params: orgParams,
    operation: 'DeleteOrganization',
    variables: ({ params }) => ({ id: params.org_id }),
    result: (data) => noContent(field(data, 'deleteOrganization')),
    status: 204,
    notFound: 'Organization',
  }),
  defineRoute({
    ...ORG,
    id: 'ORG-6',
    method: 'GET',
    path: '/api/organizations/:org_id/members',
    summary: 'List the members of an organization',
    params: orgParams,
    query: membersQuery,
    operation: 'ListMembers',
    variables: ({ params, query }) => ({
      id: params.org_id,
      limit: query.limit,
      offset: query.offset,
      // Filters are sent only when given, so the service sees an omitted argument, not null.
      ...(query.role !== undefined && { role: gqlRole(query.role) }),
      ...present(query, { team_id: 'teamId' }),
    }),
    result: (data) => memberListResponse(field(data, 'organization', 'members')),
    status: 200,
    notFound: 'Organization',
    responseName: 'MemberListResponse',
  }),
  defineRoute({
    ...ORG,
    id: 'ORG-7',
    method: 'POST',
    path: '/api/organizations/:org_id/members',
    summary: 'Add a member to an organization',
    params: orgParams,
    body: { kind: 'json', spec: addMemberBody },
    operation: 'AddMember',
    variables: ({ params, body }) => ({
      organizationId: params.org_id,
      // Only the identifier given is sent: the service reads a null userId/email as given, not absent.
      input: {
        ...(body.user_id != null ? { userId: body.user_id } : { email: body.email }),
        role: gqlRole(body.role),
        teamName: body.team_name ?? null,
      },
    }),
    result: (data) => memberResponse(field(data, 'addMember', 'member')),
    status: 201,
    notFound: 'Organization',
    responseName: 'MemberResponse',
  }),
  defineRoute({
    ...ORG,
    id: 'ORG-8',
    method: 'PATCH',
    path: '/api/organizations/:org_id/members/:target_user_id',
    summary: "Change a member's role",
    params: memberParams,
    body: { kind: 'json', spec: roleUpdateBody },
    operation: 'UpdateMemberRole',
    variables: ({ params, body }) => ({
      organizationId: params.org_id,
      userId: params.target_user_id,
      input: { role: gqlRole(body.role) },
    }),
    result: (data) => memberResponse(field(data, 'updateMemberRole', 'member')),
    status: 200,
    notFound: 'Organization',
    responseName: 'MemberResponse',
  }),
  defineRoute({
    ...ORG,
    id: 'ORG-9',
    method: 'PUT',
    path: '/api/organizations/:org_id/members/:target_user_id',
    summary: "Update a member's role, organization and team",
    params: memberParams,
    body: { kind: 'json', spec: memberUpdateBody },
    operation: 'UpdateMember',
    variables: ({ params, body }) => ({
      organizationId: params.org_id,
      userId: params.target_user_id,
      // Absent fields stay out of the input (unchanged); an explicit team_name null clears the team.
      input: {
        ...(body.role !== undefined && { role: gqlRole(body.role) }),
        ...present(body, { organization_id: 'organizationId', team_name: 'teamName' }),
      },
    }),
    result: (data) => memberResponse(field(data, 'updateMember', 'member')),
    status: 200,
    notFound: 'Organization',
    responseName: 'MemberResponse',
  }),
  defineRoute({
    ...ORG,
    id: 'ORG-10',
    method: 'DELETE',
    path: '/api/organizations/:org_id/members/:target_user_id',
    summary: 'Remove a member (or leave the organization)',
    params: memberParams,
    operation: 'RemoveMember',
    variables: ({ params }) => ({ organizationId: params.org_id, userId: params.target_user_id }),
    result: (data) => noContent(field(data, 'removeMember')),
    status: 204,
    notFound: 'Organization',
  }),
  defineRoute({
    id: 'KEY-4',
    method: 'GET',
    path: '/api/tenants',
    summary: 'List the organizations where the caller may create API keys',
    tag: 'API Keys',
    operation: 'ListTenants',
    variables: () => ({}),
    result: (data) => array(field(data, 'tenants')).map(tenantResponse),
    status: 200,
    responseName: 'TenantResponse[]',
  }),
];
