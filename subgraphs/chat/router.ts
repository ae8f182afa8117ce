/** Internal tRPC procedures of chat, for other services (knowledge checks conversation ownership). */
import { z } from 'zod';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createRouter, internalProcedure } from '../../kernel/trpc.ts';
import type { ConversationService } from './conversation.service.ts';

export function createChatRouter(orm: MikroORM, conversations: ConversationService) {
  return createRouter({
    /** Whether the conversation exists and belongs to the user (a conversation is visible to its owner only). */
    conversationOwned: internalProcedure
      .input(z.object({ conversationId: z.string(), userId: z.uuid() }))
      .query(async ({ input }) => ({ owned: (await conversations.find(orm.em.fork(), input.userId, input.conversationId)) !== null })),
  });
}

export type ChatRouter = ReturnType<typeof createChatRouter>;
