/** What knowledge needs from orgs and chat, over tRPC (never inside a transaction). */
import type { TRPCClient } from '@trpc/client';
import { callInternal } from '../../kernel/trpc.ts';
import type { OrgsRouter } from '../orgs/router.ts';
import type { ChatRouter } from '../chat/router.ts';

export class Peers {
  constructor(
    private readonly orgs: TRPCClient<OrgsRouter>,
    private readonly chat: TRPCClient<ChatRouter>,
  ) {}

  /** Ids of the organizations the user belongs to. */
  async organizationsOf(userId: string): Promise<string[]> {
    const rows = await callInternal(this.orgs.membershipsOf.query({ userId }));
    return rows.map((m) => m.organizationId);
  }

  /** Whether the user is a member of the organization (false when it does not exist). */
  async isMember(organizationId: string, userId: string): Promise<boolean> {
    const m = await callInternal(this.orgs.membership.query({ organizationId, userId }));
    return m.exists && m.role !== null;
  }

  /** Whether the conversation exists and is the user's. */
  async ownsConversation(conversationId: string, userId: string): Promise<boolean> {
    return (await callInternal(this.chat.conversationOwned.query({ conversationId, userId }))).owned;
  }
}
