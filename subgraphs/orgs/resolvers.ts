/** Thin GraphQL adapter for orgs: parse args, call a service, shape the result. */
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireBearer, requireUser } from '../../kernel/authz.ts';
import { lower, upper } from '../../kernel/enum-values.ts';
import type { OrgsContext } from './context.ts';
import type { OrgRole } from './organization.entity.ts';
import { forgetAll } from './loaders.ts';
import type { OrgRole as GqlRole, Resolvers } from './schema.types.ts';

const toRole = (r: GqlRole): OrgRole => lower(r);
function fromRole(r: OrgRole): GqlRole;
function fromRole(r: OrgRole | null): GqlRole | null;
function fromRole(r: OrgRole | null): GqlRole | null {
  return r ? upper(r) : null;
}

const user = (ctx: OrgsContext) => requireUser(ctx.auth, null);

/**
 * A mutation's result, once the loaders have forgotten what they read: they cache rows for the
 * whole request, and what the mutation changed must be read again by its payload and by the
 * mutations after it.
 */
function written<T>(ctx: OrgsContext, result: T): T {
  forgetAll(ctx.loaders);
  return result;
}

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    organizations: (_, __, ctx) => ctx.services.orgs.list(user(ctx), ctx.reads),
    organization: (_, args, ctx) => ctx.services.orgs.get(ctx.em, user(ctx), args.id, ctx.reads),
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
      organization: written(ctx, await ctx.services.orgs.create(ctx.em, user(ctx), args.input)),
    }),
    updateOrganization: async (_, args, ctx) => ({
      organization: written(ctx, await ctx.services.orgs.update(ctx.em, user(ctx), args.id, args.input)),
    }),
    deleteOrganization: async (_, args, ctx) => ({
      id: written(ctx, await ctx.services.orgs.delete(ctx.em, user(ctx), args.id, (ids) => ctx.revokedApiKeys.push(...ids))),
    }),
    addMember: async (_, args, ctx) => {
      const { role, ...rest } = args.input;
      return { member: written(ctx, await ctx.services.members.add(ctx.em, user(ctx), args.organizationId, { ...rest, ...(role ? { role: toRole(role) } : {}) })) };
    },
    updateMemberRole: async (_, args, ctx) => ({
      member: written(ctx, await ctx.services.members.updateRole(ctx.em, user(ctx), args.organizationId, args.userId, toRole(args.input.role))),
    }),
    updateMember: async (_, args, ctx) => {
      const { role, organizationId, ...rest } = args.input;
      const input = { ...rest, ...(role ? { role: toRole(role) } : {}), ...(organizationId ? { organizationId } : {}) };
      return { member: written(ctx, await ctx.services.members.update(ctx.em, user(ctx), args.organizationId, args.userId, input, (ids) => ctx.revokedApiKeys.push(...ids))) };
    },
    removeMember: async (_, args, ctx) => {
      await ctx.services.members.remove(ctx.em, user(ctx), args.organizationId, args.userId, (ids) => ctx.revokedApiKeys.push(...ids));
      return written(ctx, { organizationId: args.organizationId, userId: args.userId });
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
        ctx.reads,
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
      // As `organizations` (ORG-1) lists them, an API key limited to its organization here too.
      return ctx.services.orgs.list(user(ctx), ctx.reads, ref.id);
    },
  },
} satisfies Resolvers;
