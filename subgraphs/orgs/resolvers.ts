/** Thin GraphQL adapter for orgs: parse args, call a service, shape the result. */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireBearer, requireUser } from '../../kernel/authz.ts';
import type { OrgsContext } from './context.ts';
import type { Membership, Organization, OrgRole } from './organization.entity.ts';

type GqlRole = 'OWNER' | 'ADMIN' | 'MEMBER';
const toRole = (r: GqlRole): OrgRole => r.toLowerCase() as OrgRole;
const fromRole = (r: OrgRole | null): GqlRole | null => (r ? (r.toUpperCase() as GqlRole) : null);

interface MemberInputArgs {
  organizationId: string;
  userId: string;
}

const user = (ctx: OrgsContext) => requireUser(ctx.auth, null);

export const resolvers: GraphQLResolverMap<OrgsContext> = {
  DateTime: DateTimeScalar,
  Query: {
    organizations: (_: unknown, __: unknown, ctx: OrgsContext) => ctx.services.orgs.list(ctx.em, user(ctx)),
    organization: (_: unknown, args: { id: string }, ctx: OrgsContext) => ctx.services.orgs.get(ctx.em, user(ctx), args.id),
    tenants: async (_: unknown, __: unknown, ctx: OrgsContext) =>
      (await ctx.services.orgs.tenants(ctx.em, requireBearer(ctx.auth))).map((t) => ({
        id: t.org.id,
        name: t.org.name,
        slug: t.org.slug,
        role: fromRole(t.role),
        canViewAllKeys: t.canViewAllKeys,
      })),
  },
  Mutation: {
    createOrganization: async (_: unknown, args: { input: { name: string; slug?: string | null; description?: string | null } }, ctx: OrgsContext) => ({
      organization: await ctx.services.orgs.create(ctx.em, user(ctx), args.input),
    }),
    updateOrganization: async (_: unknown, args: { id: string; input: { name?: string; slug?: string; description?: string | null } }, ctx: OrgsContext) => ({
      organization: await ctx.services.orgs.update(ctx.em, user(ctx), args.id, args.input),
    }),
    deleteOrganization: async (_: unknown, args: { id: string }, ctx: OrgsContext) => ({
      id: await ctx.services.orgs.delete(ctx.em, user(ctx), args.id, (ids) => ctx.revokedApiKeys.push(...ids)),
    }),
    addMember: async (
      _: unknown,
      args: { organizationId: string; input: { userId?: string; email?: string; role?: GqlRole; teamName?: string | null } },
      ctx: OrgsContext,
    ) => {
      const { role, ...rest } = args.input;
      return { member: await ctx.services.members.add(ctx.em, user(ctx), args.organizationId, { ...rest, ...(role ? { role: toRole(role) } : {}) }) };
    },
    updateMemberRole: async (_: unknown, args: MemberInputArgs & { input: { role: GqlRole } }, ctx: OrgsContext) => ({
      member: await ctx.services.members.updateRole(ctx.em, user(ctx), args.organizationId, args.userId, toRole(args.input.role)),
    }),
    updateMember: async (
      _: unknown,
      args: MemberInputArgs & { input: { role?: GqlRole | null; organizationId?: string | null; teamName?: string | null } },
      ctx: OrgsContext,
    ) => {
      const { role, organizationId, ...rest } = args.input;
      const input = { ...rest, ...(role ? { role: toRole(role) } : {}), ...(organizationId ? { organizationId } : {}) };
      return { member: await ctx.services.members.update(ctx.em, user(ctx), args.organizationId, args.userId, input, (ids) => ctx.revokedApiKeys.push(...ids)) };
    },
    removeMember: async (_: unknown, args: MemberInputArgs, ctx: OrgsContext) => {
      await ctx.services.members.remove(ctx.em, user(ctx), args.organizationId, args.userId, (ids) => ctx.revokedApiKeys.push(...ids));
      return { organizationId: args.organizationId, userId: args.userId };
    },
  },
  Organization: {
    __resolveReference: (ref: { id: string }, ctx: OrgsContext) => ctx.loaders.orgById.load(ref.id),
    myRole: async (org: Organization, _: unknown, ctx: OrgsContext) => fromRole(await ctx.loaders.callerRole.load(org.id)),
    memberCount: (org: Organization, _: unknown, ctx: OrgsContext) => ctx.loaders.memberCount.load(org.id),
    teams: (org: Organization, _: unknown, ctx: OrgsContext) => ctx.loaders.teams.load(org.id),
    members: (org: Organization, args: { limit: number; offset: number; role?: GqlRole | null; teamId?: string | null }, ctx: OrgsContext) =>
      ctx.services.members.list(ctx.em, user(ctx), org.id, {
        limit: args.limit,
        offset: args.offset,
        ...(args.role ? { role: toRole(args.role) } : {}),
        ...(args.teamId ? { teamId: args.teamId } : {}),
      }),
  },
  Member: {
    user: (m: Membership) => ({ __typename: 'User', id: m.userId }),
    username: async (m: Membership, _: unknown, ctx: OrgsContext) => (await ctx.loaders.user.load(m.userId))?.username ?? '',
    fullName: async (m: Membership, _: unknown, ctx: OrgsContext) => (await ctx.loaders.user.load(m.userId))?.fullName ?? null,
    email: async (m: Membership, _: unknown, ctx: OrgsContext) => (await ctx.loaders.user.load(m.userId))?.email ?? '',
    role: (m: Membership) => fromRole(m.role),
    teamName: (m: Membership, _: unknown, ctx: OrgsContext) => (m.teamId ? ctx.loaders.teamName.load(m.teamId) : null),
  },
  User: {
    // Memberships are private: the user themselves (or a platform admin) sees them.
    organizations: async (ref: { id: string }, _: unknown, ctx: OrgsContext) => {
      if (ctx.auth?.userId !== ref.id && ctx.auth?.role !== 'admin') return [];
      const memberships = await ctx.loaders.membershipsOfUser.load(ref.id);
      // An API key is limited to its organization here too, as in `organizations` (ORG-1);
      // otherwise a key would reveal the creator's other organizations.
      const visible = ctx.auth?.mode === 'api_key' ? memberships.filter((m) => m.organizationId === ctx.auth?.tenantId) : memberships;
      const orgs = await Promise.all(visible.map((m) => ctx.loaders.orgById.load(m.organizationId)));
      // Code-point order, as ORG-1's SQL `order by name, id` sorts under the C collation; a
      // locale-aware compare would list mixed-case names differently from `organizations`.
      const byCodePoint = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
      return orgs.filter((o): o is Organization => o !== null).sort((a, b) => byCodePoint(a.name, b.name) || byCodePoint(a.id, b.id));
    },
  },
};
