/**
 * Messages (§3.2): `appendTurns`, the one way messages are stored, and the stored history
 * a generation sends to its provider (both for the chat generation, CONV-2). CONV-6's pages load
 * through `loaders.ts`.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '../../kernel/errors.ts';
import { parseInput } from '../../kernel/input.ts';
import { ConversationSchema, MessageSchema, type Message } from './conversation.entity.ts';
import { isUuid } from '../../kernel/input.ts';
import { indexMessages } from './search.indexer.ts';

const turnsInput = z
  .array(
    z.object({
      role: z.enum(['user', 'assistant']),
      content: z.string(),
      provider: z.string().max(50).nullable().optional(),
      model: z.string().max(200).nullable().optional(),
      createdAt: z.date().optional(),
    }),
  )
  .min(1);

/** One turn to store; `createdAt` defaults to now. */
export type TurnInput = z.input<typeof turnsInput>[number];

export class MessageService {
  /**
   * The last `limit` messages of the user's conversation, oldest first: the stored history a
   * generation sends to the provider (§3.2: the last 50).
   * @throws NOT_FOUND "Conversation not found"
   */
  async history(em: EntityManager, userId: string, conversationId: string, limit = 50): Promise<Message[]> {
    if (!isUuid(conversationId) || !(await em.count(ConversationSchema, { id: conversationId, userId }))) throw notFound('Conversation');
    const newest = await em.find(MessageSchema, { conversationId }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit });
    return newest.reverse();
  }

  /**
   * Stores `turns` in order in the user's conversation, in one transaction with the conversation's
   * `message_count`, `last_message_at` and `updated_at` and the search index. Timestamps strictly
   * increase (within the call and after the last stored message), so `created_at` order is turn
   * order. Runs inside the caller's transaction when `em` is one. Never call across tRPC.
   * @throws NOT_FOUND "Conversation not found" (absent or another user's); BAD_USER_INPUT for no turns.
   */
  async appendTurns(em: EntityManager, userId: string, conversationId: string, turns: readonly TurnInput[]): Promise<Message[]> {
    const input = parseInput(turnsInput, turns, 'turns');
    if (!isUuid(conversationId)) throw notFound('Conversation');
    return em.transactional(async (tx) => {
      // The row lock orders concurrent appends to one conversation (and their timestamps).
      const conversation = await tx.findOne(ConversationSchema, { id: conversationId, userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!conversation) throw notFound('Conversation');
      let previous = conversation.lastMessageAt?.getTime() ?? Number.NEGATIVE_INFINITY;
      const now = Date.now();
      const messages = input.map((turn) => {
        const at = Math.max(turn.createdAt?.getTime() ?? now, previous + 1);
        previous = at;
        const assistant = turn.role === 'assistant';
        return tx.create(MessageSchema, {
          id: randomUUID(),
          conversationId,
          userId,
          role: turn.role,
          content: turn.content,
          provider: assistant ? (turn.provider ?? null) : null,
          model: assistant ? (turn.model ?? null) : null,
          createdAt: new Date(at),
        });
      });
      const last = new Date(previous);
      conversation.messageCount += messages.length;
      conversation.lastMessageAt = last;
      conversation.updatedAt = last;
      await tx.flush();
      await indexMessages(tx, messages);
      return messages;
    });
  }
}
