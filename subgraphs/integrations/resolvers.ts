/** Thin GraphQL adapter for integrations: parse args, call a service, shape the result. */
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireUser } from '../../kernel/authz.ts';
import type { IntegrationsContext } from './context.ts';
import type { IntegrationTokenMode, Resolvers } from './schema.types.ts';

const mode = (m: IntegrationTokenMode): string => m.toLowerCase();
const user = (ctx: IntegrationsContext) => requireUser(ctx.auth, null);

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    integrations: (_, __, ctx) => ctx.services.skills.list(ctx.em, user(ctx)),
    verifyIntegrationToken: (_, args, ctx) => ctx.services.grants.verify(() => ctx.em, user(ctx), args.input),
    integrationJwks: (_, args, ctx) => ctx.services.keys.jwks(args.tenantId),
    integrationKeyFingerprint: (_, args, ctx) => ctx.services.keys.fingerprint(args.tenantId),
    integrationTokenRevocations: (_, args, ctx) => ctx.services.keys.revocations(ctx.em, args),
  },
  Mutation: {
    grantIntegrationToken: (_, args, ctx) => ctx.services.grants.grant(ctx.em, user(ctx), { ...args.input, mode: mode(args.input.mode) }),
    revokeIntegrationToken: async (_, args, ctx) => {
      const { revocation, alreadyRevoked } = await ctx.services.grants.revoke(ctx.em, user(ctx), args.input);
      return { revoked: true, jti: revocation.jti, tenantId: revocation.tenantId, revokedAt: revocation.revokedAt, alreadyRevoked };
    },
    rotateIntegrationToken: (_, args, ctx) => ctx.services.grants.rotate(ctx.em, user(ctx), { ...args.input, mode: mode(args.input.mode) }),
    startGoogleCalendarOAuth: (_, __, ctx) => ctx.services.skills.start(ctx.em, user(ctx)),
    completeGoogleCalendarOAuth: (_, args, ctx) => ctx.services.skills.complete(ctx.em, args),
  },
  Organization: {
    __resolveReference: (ref) => ({ id: ref.id }),
    integrationKey: async (org, _, ctx) => {
      const fp = await ctx.services.keys.fingerprint(org.id);
      const key = fp && (await ctx.services.tenantKeys.find(org.id));
      return fp && key ? { kid: fp.kid, fingerprint: fp.fingerprint, fingerprintHex: fp.fingerprintHex, jwk: key.jwk } : null;
    },
  },
} satisfies Resolvers;
