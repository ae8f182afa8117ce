/** Thin GraphQL adapter for orgs: parse args, call a service, shape the result. */
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireBearer, requireUser } from '../../kernel/authz.ts';
import { lower, upper } from '../../kernel/enum-values.ts';
import type { OrgsContext } from './context.ts';
import type { Organization, OrgRole } from './organization.entity.ts';
import type { OrgRole as GqlRole, Resolvers } from './schema.types.ts';

const toRole = (r: GqlRole): OrgRole => lower(r);
function fromRole(r: OrgRole): GqlRole;
function fromRole(r: OrgRole | null): GqlRole | null;
function fromRole(r: OrgRole | null): GqlRole | null {
  return r ? upper(r) : null;
}

const user = (ctx: OrgsContext) => requireUser(ctx.auth, null);

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    organizations: (_, __, ctx) => ctx.services.orgs.list(ctx.em, user(ctx)),
    organization: (_, args, ctx) => ctx.services.orgs.get(ctx.em, user(ctx), args.id),
    tenants: async (_, __, ctx) =>
      (await ctx.services.orgs.tenants(ctx.em, requireBearer(ctx.auth))).map((t) => ({
        id: t.org.id,
        name: t.org.name,
        slug: t.org.slug,
        role: fromRole(t.role),
        canViewAllKeys: t.canViewAllKeys,
      })),
  },
  Mutation: {
    createOrganization: async (_, args, ctx) => ({
      organization: await ctx.services.orgs.create(ctx.em, user(ctx), args.input),
    }),
    updateOrganization: async (_, args, ctx) => ({
      organization: await ctx.services.orgs.update(ctx.em, user(ctx), args.id, args.input),
    }),
    deleteOrganization: async (_, args, ctx) => ({
      id: await ctx.services.orgs.delete(ctx.em, user(ctx), args.id, (ids) => ctx.revokedApiKeys.push(...ids)),
    }),
    addMember: async (_, args, ctx) => {
      const { role, ...rest } = args.input;
      return { member: await ctx.services.members.add(ctx.em, user(ctx), args.organizationId, { ...rest, ...(role ? { role: toRole(role) } : {}) }) };
    },
    updateMemberRole: async (_, args, ctx) => ({
      member: await ctx.services.members.updateRole(ctx.em, user(ctx), args.organizationId, args.userId, toRole(args.input.role)),
    }),
    updateMember: async (_, args, ctx) => {
      const { role, organizationId, ...rest } = args.input;
      const input = { ...rest, ...(role ? { role: toRole(role) } : {}), ...(organizationId ? { organizationId } : {}) };
      return { member: await ctx.services.members.update(ctx.em, user(ctx), args.organizationId, args.userId, input, (ids) => ctx.revokedApiKeys.push(...ids)) };
    },
    removeMember: async (_, args, ctx) => {
      await ctx.services.members.remove(ctx.em, user(ctx), args.organizationId, args.userId, (ids) => ctx.revokedApiKeys.push(...ids));
      return { organizationId: args.organizationId, userId: args.userId };
    },
  },
  Organization: {
    __resolveReference: (ref, ctx) => ctx.loaders.orgById.load(ref.id),
    myRole: async (org, _, ctx) => fromRole(await ctx.loaders.callerRole.load(org.id)),
    memberCount: (org, _, ctx) => ctx.loaders.memberCount.load(org.id),
    teams: (org, _, ctx) => ctx.loaders.teams.load(org.id),
    members: (org, args, ctx) =>
      ctx.services.members.list(
        ctx.em,
        user(ctx),
        org.id,
        {
          limit: args.limit,
          offset: args.offset,
          ...(args.role ? { role: toRole(args.role) } : {}),
          ...(args.teamId ? { teamId: args.teamId } : {}),
        },
        (orgId, input) => ctx.loaders.memberPage.load({ orgId, ...input }),
      ),
  },
  Member: {
    user: (m) => ({ __typename: 'User', id: m.userId }),
    username: async (m, _, ctx) => (await ctx.loaders.user.load(m.userId))?.username ?? '',
    fullName: async (m, _, ctx) => (await ctx.loaders.user.load(m.userId))?.fullName ?? null,
    email: async (m, _, ctx) => (await ctx.loaders.user.load(m.userId))?.email ?? '',
    role: (m) => fromRole(m.role),
    teamName: (m, _, ctx) => (m.teamId ? ctx.loaders.teamName.load(m.teamId) : null),
  },
  User: {
    // Memberships are private: the user themselves (or a platform admin) sees them.
    organizations: async (ref, _, ctx) => {
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
} satisfies Resolvers;
