/** Thin GraphQL adapter: parse args, call a service, shape the result. */
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireBearer } from '../../kernel/authz.ts';
import type { Plan, PlatformRole, Resolvers } from './schema.types.ts';

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    me: (_, __, ctx) => ctx.services.users.view(ctx.rows, requireBearer(ctx.auth)),
    apiKeys: (_, args, ctx) =>
      ctx.services.apiKeys.list(ctx.em, requireBearer(ctx.auth), args.organizationId),
  },
  Mutation: {
    register: async (_, args, ctx) => {
      const user = await ctx.services.users.register(ctx.em, args.input);
      // The registrant sees their own email in the response, though the request is anonymous.
      ctx.selfIds.add(user.id);
      return { user };
    },
    login: (_, args, ctx) => ctx.services.sessions.login(ctx.em, args.input),
    refreshToken: (_, args, ctx) =>
      ctx.services.sessions.refresh(ctx.em, args.input, (ids) => ctx.revokedSessions.push(...ids)),
    logout: async (_, args, ctx) => {
      const revoked = await ctx.services.sessions.logout(ctx.em, requireBearer(ctx.auth), args.input?.refreshToken);
      ctx.revokedSessions.push(...revoked);
      return { message: 'Logged out' };
    },
    updateMe: async (_, args, ctx) => ({
      user: await ctx.services.users.updateMe(ctx.em, requireBearer(ctx.auth), args.input),
    }),
    createApiKey: (_, args, ctx) =>
      ctx.services.apiKeys.create(ctx.em, requireBearer(ctx.auth), args.input),
    deleteApiKey: async (_, args, ctx) => {
      const id = await ctx.services.apiKeys.delete(ctx.em, requireBearer(ctx.auth), args.id);
      ctx.revokedApiKeys.push(id);
      return { id };
    },
  },
  ApiKey: {
    expired: (k) => k.expiresAt !== null && k.expiresAt.getTime() <= Date.now(),
  },
  User: {
    __resolveReference: (ref, ctx) => ctx.loaders.userById.load(ref.id),
    // Email is private: only the account itself (or a platform admin) sees it.
    email: (user, _, ctx) =>
      ctx.auth?.userId === user.id || ctx.auth?.role === 'admin' || ctx.selfIds.has(user.id) ? user.email : null,
    plan: (user) => user.plan.toUpperCase() as Plan,
    role: (user) => user.role.toUpperCase() as PlatformRole,
  },
} satisfies Resolvers;
