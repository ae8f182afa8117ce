/** Internal tRPC procedures of integrations: whether a tenant has a signing key (for other services' checks and tests). */
import { z } from 'zod';
import { createRouter, internalProcedure } from '../../kernel/trpc.ts';
import type { TenantKeys } from './tenant-keys.ts';

export function createIntegrationsRouter(keys: TenantKeys) {
  return createRouter({
    /** The tenant's key id, or null when it has none. */
    tenantKeyId: internalProcedure.input(z.object({ tenantId: z.uuid() })).query(async ({ input }) => ({ kid: (await keys.find(input.tenantId))?.kid ?? null })),
  });
}

export type IntegrationsRouter = ReturnType<typeof createIntegrationsRouter>;
