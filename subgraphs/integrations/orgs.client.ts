/** What integrations needs from orgs, over tRPC (never inside a transaction). */
import type { TRPCClient } from '@trpc/client';
import { callInternal } from '../../kernel/trpc.ts';
import type { OrgsRouter } from '../orgs/router.ts';

export type OrgRole = 'owner' | 'admin' | 'member';

export class OrgsGateway {
  constructor(private readonly client: TRPCClient<OrgsRouter>) {}

  /** Whether the organization exists and the user's role in it (null when not a member). */
  async membership(organizationId: string, userId: string): Promise<{ exists: boolean; role: OrgRole | null }> {
    return callInternal(this.client.membership.query({ organizationId, userId }));
  }

  async exists(organizationId: string): Promise<boolean> {
    return (await callInternal(this.client.organizationExists.query({ organizationId }))).exists;
  }
}
