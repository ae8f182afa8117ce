/** What chat needs from identity, over tRPC (never inside a transaction). */
import type { TRPCClient } from '@trpc/client';
import { callInternal } from '../../kernel/trpc.ts';
import type { IdentityRouter } from '../identity/router.ts';

export class IdentityGateway {
  constructor(private readonly client: TRPCClient<IdentityRouter>) {}

  /** Whether an account with this id exists. */
  async userExists(id: string): Promise<boolean> {
    const [user] = await callInternal(this.client.usersByIds.query({ ids: [id] }));
    return user != null;
  }
}
