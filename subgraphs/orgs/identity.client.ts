/** What orgs needs from identity, over tRPC (never inside a transaction). */
import type { TRPCClient } from '@trpc/client';
import { callInternal } from '../../kernel/trpc.ts';
import type { IdentityRouter } from '../identity/router.ts';

export interface UserSummary {
  id: string;
  email: string;
  username: string;
  fullName: string | null;
}

export class IdentityGateway {
  constructor(private readonly client: TRPCClient<IdentityRouter>) {}

  /** Users by id in the order asked (null for unknown ids), in one call. */
  async usersByIds(ids: readonly string[]): Promise<(UserSummary | null)[]> {
    if (ids.length === 0) return [];
    return callInternal(this.client.usersByIds.query({ ids: [...ids] }));
  }

  async userByEmail(email: string): Promise<UserSummary | null> {
    return callInternal(this.client.userByEmail.query({ email }));
  }

  /** Deletes the organization's API keys; returns their ids. */
  async deleteApiKeysOfOrganization(organizationId: string): Promise<string[]> {
    return (await callInternal(this.client.deleteApiKeysOf.mutate({ organizationId }))).deleted;
  }

  /** Deletes the keys one member created for the organization; returns their ids. */
  async deleteApiKeysOfMember(organizationId: string, userId: string): Promise<string[]> {
    return (await callInternal(this.client.deleteApiKeysOf.mutate({ organizationId, userId }))).deleted;
  }
}
