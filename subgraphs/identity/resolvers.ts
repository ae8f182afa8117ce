/** Thin GraphQL adapter: parse args, call a service, shape the result. */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireBearer } from '../../kernel/authz.ts';
import type { ApiKey } from './api-key.entity.ts';
import type { IdentityContext } from './context.ts';
import type { User } from './user.entity.ts';
import type { RegisterInput, UpdateMeInput } from './user.service.ts';

interface LoginArgs {
  input: { username: string; password: string; grantType?: string | null };
}

interface CreateApiKeyArgs {
  input: { name: string; organizationId: string; scopes: string[]; allowedIps?: string[] | null; expiresAt?: Date | null };
}

export const resolvers: GraphQLResolverMap<IdentityContext> = {
  DateTime: DateTimeScalar,
  Query: {
    me: (_: unknown, __: unknown, ctx: IdentityContext) => ctx.services.users.me(ctx.em, requireBearer(ctx.auth)),
    apiKeys: (_: unknown, args: { organizationId?: string | null }, ctx: IdentityContext) =>
      ctx.services.apiKeys.list(ctx.em, requireBearer(ctx.auth), args.organizationId),
  },
  Mutation: {
    register: async (_: unknown, args: { input: RegisterInput }, ctx: IdentityContext) => {
      const user = await ctx.services.users.register(ctx.em, args.input);
      // The registrant sees their own email in the response, though the request is anonymous.
      ctx.selfIds.add(user.id);
      return { user };
    },
    login: (_: unknown, args: LoginArgs, ctx: IdentityContext) => ctx.services.sessions.login(ctx.em, args.input),
    refreshToken: (_: unknown, args: { input: { refreshToken: string } }, ctx: IdentityContext) =>
      ctx.services.sessions.refresh(ctx.em, args.input, (ids) => ctx.revokedSessions.push(...ids)),
    logout: async (_: unknown, args: { input?: { refreshToken?: string | null } | null }, ctx: IdentityContext) => {
      const revoked = await ctx.services.sessions.logout(ctx.em, requireBearer(ctx.auth), args.input?.refreshToken);
      ctx.revokedSessions.push(...revoked);
      return { message: 'Logged out' };
    },
    updateMe: async (_: unknown, args: { input: UpdateMeInput }, ctx: IdentityContext) => ({
      user: await ctx.services.users.updateMe(ctx.em, requireBearer(ctx.auth), args.input),
    }),
    createApiKey: (_: unknown, args: CreateApiKeyArgs, ctx: IdentityContext) =>
      ctx.services.apiKeys.create(ctx.em, requireBearer(ctx.auth), args.input),
    deleteApiKey: async (_: unknown, args: { id: string }, ctx: IdentityContext) => {
      const id = await ctx.services.apiKeys.delete(ctx.em, requireBearer(ctx.auth), args.id);
      ctx.revokedApiKeys.push(id);
      return { id };
    },
  },
  ApiKey: {
    expired: (k: ApiKey) => k.expiresAt !== null && k.expiresAt.getTime() <= Date.now(),
  },
  User: {
    __resolveReference: (ref: { id: string }, ctx: IdentityContext) => ctx.loaders.userById.load(ref.id),
    // Email is private: only the account itself (or a platform admin) sees it.
    email: (user: User, _: unknown, ctx: IdentityContext) =>
      ctx.auth?.userId === user.id || ctx.auth?.role === 'admin' || ctx.selfIds.has(user.id) ? user.email : null,
    plan: (user: User) => user.plan.toUpperCase(),
    role: (user: User) => user.role.toUpperCase(),
  },
};
