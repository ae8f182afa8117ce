/** Internal tRPC procedures of orgs: membership checks for identity (API keys) and others. */
import { z } from 'zod';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createRouter, internalProcedure } from '../../kernel/trpc.ts';
import { MembershipSchema, OrganizationSchema } from './organization.entity.ts';

export function createOrgsRouter(orm: MikroORM) {
  return createRouter({
    /** Whether the organization exists and the user's role in it (null when not a member). */
    membership: internalProcedure
      .input(z.object({ organizationId: z.uuid(), userId: z.uuid() }))
      .query(async ({ input }) => {
        const em = orm.em.fork();
        const org = await em.findOne(OrganizationSchema, { id: input.organizationId }, { fields: ['id'] });
        if (!org) return { exists: false, role: null };
        const m = await em.findOne(MembershipSchema, { organizationId: input.organizationId, userId: input.userId });
        return { exists: true, role: m?.role ?? null };
      }),
    /** Whether the organization exists (public callers such as a tenant's JWKS). */
    organizationExists: internalProcedure.input(z.object({ organizationId: z.uuid() })).query(async ({ input }) => {
      const org = await orm.em.fork().findOne(OrganizationSchema, { id: input.organizationId }, { fields: ['id'] });
      return { exists: org !== null };
    }),
    /** Every membership of a user: organization id and role. */
    membershipsOf: internalProcedure.input(z.object({ userId: z.uuid() })).query(async ({ input }) => {
      const rows = await orm.em.fork().find(MembershipSchema, { userId: input.userId });
      return rows.map((m) => ({ organizationId: m.organizationId, role: m.role }));
    }),
  });
}

export type OrgsRouter = ReturnType<typeof createOrgsRouter>;
