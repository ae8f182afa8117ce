/** Internal tRPC procedures of identity (never exposed through the gateway). */
import { z } from 'zod';
import { createRouter, internalProcedure } from '../../kernel/trpc.ts';
import type { MikroORM } from '@mikro-orm/postgresql';
import { toSummary, type UserService } from './user.service.ts';
import type { SessionService } from './session.service.ts';
import type { SigningKeyService } from './signing-key.service.ts';
import type { ApiKeyService } from './api-key.service.ts';

export function createIdentityRouter(orm: MikroORM, users: UserService, sessions: SessionService, keys: SigningKeyService, apiKeys: ApiKeyService) {
  return createRouter({
    /** The JWK Set that verifies access tokens. */
    jwks: internalProcedure.query(() => keys.jwks()),
    /** Revocation status of session families (batched by the gateway's cache). */
    sessionStatus: internalProcedure
      .input(z.object({ sessionIds: z.array(z.string()).min(1).max(500) }))
      .query(({ input }) => sessions.status(orm.em.fork(), input.sessionIds)),
    /** Users by id, in the order asked; null for unknown ids. */
    usersByIds: internalProcedure
      .input(z.object({ ids: z.array(z.string()).max(1000) }))
      .query(async ({ input }) => (await users.byIds(orm.em, input.ids)).map((u) => (u ? toSummary(u) : null))),
    userByUsername: internalProcedure
      .input(z.object({ username: z.string().min(1).max(100) }))
      .query(async ({ input }) => {
        const u = await users.byUsername(orm.em.fork(), input.username);
        return u ? toSummary(u) : null;
      }),
    userByEmail: internalProcedure
      .input(z.object({ email: z.string().min(1).max(254) }))
      .query(async ({ input }) => {
        const u = await users.byEmail(orm.em.fork(), input.email);
        return u ? toSummary(u) : null;
      }),
    /** `SELECT 1` against the database, for the gateway's detailed health check. */
    databasePing: internalProcedure.query(async () => {
      await orm.em.fork().getConnection().execute('select 1');
      return { ok: true };
    }),
    /** An API key by the SHA-256 of its text (the gateway checks expiry and IP per request). */
    resolveApiKey: internalProcedure
      .input(z.object({ keyHash: z.string().regex(/^[0-9a-f]{64}$/) }))
      .query(({ input }) => apiKeys.resolve(orm.em.fork(), input.keyHash)),
    /** Batched `last_used_at` updates from gateways. */
    touchApiKeys: internalProcedure
      .input(z.object({ uses: z.array(z.object({ id: z.uuid(), at: z.iso.datetime() })).max(1000) }))
      .mutation(async ({ input }) => {
        await apiKeys.touch(orm.em.fork(), input.uses);
        return { ok: true };
      }),
    /** Deletes the API keys of an organization, or of one member of it. */
    deleteApiKeysOf: internalProcedure
      .input(z.object({ organizationId: z.uuid(), userId: z.uuid().optional() }))
      .mutation(async ({ input }) => ({ deleted: await apiKeys.deleteOf(orm.em.fork(), input.organizationId, input.userId) })),
    /** Rotates the access-token signing key; the retired key stays published for 17 minutes. */
    rotateSigningKey: internalProcedure.mutation(() => keys.rotate()),
  });
}

export type IdentityRouter = ReturnType<typeof createIdentityRouter>;
