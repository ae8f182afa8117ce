/** Thin GraphQL adapter for integrations: parse args, call a service, shape the result. */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireUser } from '../../kernel/authz.ts';
import type { IntegrationsContext } from './context.ts';

type GqlMode = 'API' | 'EMBED';
const mode = (m: GqlMode | null | undefined): string | undefined => (m ? m.toLowerCase() : undefined);
const user = (ctx: IntegrationsContext) => requireUser(ctx.auth, null);

interface ListArgs {
  tenantId?: string | null;
  since?: Date | null;
  limit: number;
  offset: number;
}

export const resolvers: GraphQLResolverMap<IntegrationsContext> = {
  DateTime: DateTimeScalar,
  Query: {
    integrations: (_: unknown, __: unknown, ctx: IntegrationsContext) => ctx.services.skills.list(ctx.em, user(ctx)),
    verifyIntegrationToken: (_: unknown, args: { input: { token: string; tenantId: string } }, ctx: IntegrationsContext) =>
      ctx.services.grants.verify(ctx.em, user(ctx), args.input),
    integrationJwks: (_: unknown, args: { tenantId: string }, ctx: IntegrationsContext) => ctx.services.keys.jwks(args.tenantId),
    integrationKeyFingerprint: (_: unknown, args: { tenantId: string }, ctx: IntegrationsContext) => ctx.services.keys.fingerprint(args.tenantId),
    integrationTokenRevocations: (_: unknown, args: ListArgs, ctx: IntegrationsContext) => ctx.services.keys.revocations(ctx.em, args),
  },
  Mutation: {
    grantIntegrationToken: (_: unknown, args: { input: { mode: GqlMode } & Record<string, unknown> }, ctx: IntegrationsContext) =>
      ctx.services.grants.grant(ctx.em, user(ctx), { ...args.input, mode: mode(args.input.mode) }),
    revokeIntegrationToken: async (_: unknown, args: { input: Record<string, unknown> }, ctx: IntegrationsContext) => {
      const { revocation, alreadyRevoked } = await ctx.services.grants.revoke(ctx.em, user(ctx), args.input);
      return { revoked: true, jti: revocation.jti, tenantId: revocation.tenantId, revokedAt: revocation.revokedAt, alreadyRevoked };
    },
    rotateIntegrationToken: (_: unknown, args: { input: { mode: GqlMode } & Record<string, unknown> }, ctx: IntegrationsContext) =>
      ctx.services.grants.rotate(ctx.em, user(ctx), { ...args.input, mode: mode(args.input.mode) }),
    startGoogleCalendarOAuth: (_: unknown, __: unknown, ctx: IntegrationsContext) => ctx.services.skills.start(ctx.em, user(ctx)),
    completeGoogleCalendarOAuth: (_: unknown, args: { state?: string | null; code?: string | null; error?: string | null }, ctx: IntegrationsContext) =>
      ctx.services.skills.complete(ctx.em, args),
  },
  Organization: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    integrationKey: async (org: { id: string }, _: unknown, ctx: IntegrationsContext) => {
      const fp = await ctx.services.keys.fingerprint(org.id);
      const key = fp && (await ctx.services.tenantKeys.find(org.id));
      return fp && key ? { kid: fp.kid, fingerprint: fp.fingerprint, fingerprintHex: fp.fingerprintHex, jwk: key.jwk } : null;
    },
  },
};
