/** Organizations, ORG-1..10 (§3.4), and List tenants, KEY-4 (§3.10), which the orgs subgraph serves. */
import { v } from '../../validation.ts';
import { defineRoute, type RouteDecl } from '../../route.ts';
import { field, noContent, present } from '../../shape.ts';
import { MemberListResponse, MemberResponse, OrganizationResponse, TenantResponse } from './responses.ts';

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
    response: OrganizationResponse.list(),
    select: (data) => data.organizations,
    status: 200,
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
    response: OrganizationResponse,
    select: (data) => field(data, 'createOrganization', 'organization'),
    status: 201,
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
    response: OrganizationResponse,
    select: (data) => data.organization,
    status: 200,
    notFound: 'Organization',
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
    response: OrganizationResponse,
    select: (data) => field(data, 'updateOrganization', 'organization'),
    status: 200,
    notFound: 'Organization',
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
    response: MemberListResponse,
    select: (data) => field(data, 'organization', 'members'),
    status: 200,
    notFound: 'Organization',
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
    response: MemberResponse,
    select: (data) => field(data, 'addMember', 'member'),
    status: 201,
    notFound: 'Organization',
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
    response: MemberResponse,
    select: (data) => field(data, 'updateMemberRole', 'member'),
    status: 200,
    notFound: 'Organization',
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
    response: MemberResponse,
    select: (data) => field(data, 'updateMember', 'member'),
    status: 200,
    notFound: 'Organization',
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
    response: TenantResponse.list(),
    select: (data) => data.tenants,
    status: 200,
  }),
];
