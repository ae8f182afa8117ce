/** What learning needs from identity, over tRPC (never inside a transaction): names, time zones, public profiles. */
import type { TRPCClient } from '@trpc/client';
import { callInternal } from '../../kernel/trpc.ts';
import type { IdentityRouter } from '../identity/router.ts';

export interface LearnerSummary {
  id: string;
  username: string;
  fullName: string | null;
  avatarUrl: string | null;
  timezone: string;
  publicProfileEnabled: boolean;
  createdAt: string;
}

export class IdentityGateway {
  constructor(private readonly client: TRPCClient<IdentityRouter>) {}

  /** The user, or null when the account does not exist. */
  async user(id: string): Promise<LearnerSummary | null> {
    const [user] = await callInternal(this.client.usersByIds.query({ ids: [id] }));
    return user ?? null;
  }

  /** The user by username (case-insensitive), or null. */
  async byUsername(username: string): Promise<LearnerSummary | null> {
    return callInternal(this.client.userByUsername.query({ username }));
  }
}
