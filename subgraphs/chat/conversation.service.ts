/**
 * Conversations (§3.2 CONV-3..5, §4.12): listing, creation and deletion, and the ownership
 * check every other chat service relies on. A conversation is visible to its owner only.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../../kernel/errors.ts';
import { isUuid, parseInput } from '../../kernel/input.ts';
import type { UserContext } from '../../kernel/authz.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import { CONVERSATION_DELETED, type ConversationDeletedEvent } from '../../kernel/events.ts';
import { ConversationSchema, MessageSchema, type Conversation } from './conversation.entity.ts';
import { ConversationSessionSchema } from './session.entity.ts';
import { NoteSchema } from './note.entity.ts';
import { isKnownProvider } from '../../kernel/ai/provider-ids.ts';
import { indexConversation, unindexConversation } from './search.indexer.ts';

export const DEFAULT_TITLE = 'New conversation';

/** §1.2 envelope. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const pageInput = z.object({ limit: z.number().int().min(1).max(100), offset: z.number().int().min(0) });
export type PageInput = z.infer<typeof pageInput>;

/**
 * Validates paging arguments (§1.2).
 * @throws BAD_USER_INPUT for a limit outside 1..100 or a negative offset.
 */
export function parsePage(raw: z.input<typeof pageInput>): PageInput {
  return parseInput(pageInput, raw);
}

const createInput = z.object({
  title: z.string().min(1).max(200).optional(),
  provider: z.string().nullable().optional(),
});


export class ConversationService {
  constructor(private readonly pubsub: PubSub) {}

  /** The user's conversation, or null when it does not exist, the id is malformed or another user owns it. */
  async find(em: EntityManager, userId: string, id: string): Promise<Conversation | null> {
    return isUuid(id) ? em.findOne(ConversationSchema, { id, userId }) : null;
  }

  /**
   * The user's conversation (§1.5 step 6).
   * @throws NOT_FOUND "Conversation not found" when absent or not the user's.
   */
  async require(em: EntityManager, userId: string, id: string): Promise<Conversation> {
    const c = await this.find(em, userId, id);
    if (!c) throw notFound('Conversation');
    return c;
  }

  /**
   * CONV-3: the caller's conversations, most recently updated first (ties by id).
   * @throws BAD_USER_INPUT for a limit outside 1..100 or a negative offset.
   */
  async list(em: EntityManager, auth: UserContext, raw: z.input<typeof pageInput>): Promise<Page<Conversation>> {
    return this.page(em, auth.userId, parsePage(raw));
  }

  /** A page of `userId`'s conversations (input already validated). */
  async page(em: EntityManager, userId: string, input: PageInput): Promise<Page<Conversation>> {
    const [items, total] = await em.findAndCount(ConversationSchema, { userId }, { orderBy: { updatedAt: 'desc', id: 'asc' }, limit: input.limit, offset: input.offset });
    return { items, total, ...input };
  }

  /**
   * CONV-4: creates an empty conversation and indexes its title in the same transaction.
   * @throws BAD_USER_INPUT; UNKNOWN_PROVIDER (with `provider`) for a provider id not in the registry.
   */
  async create(em: EntityManager, auth: UserContext, raw: z.input<typeof createInput>): Promise<Conversation> {
    const input = parseInput(createInput, raw);
    const provider = input.provider ?? null;
    if (provider !== null && !isKnownProvider(provider)) throw new AppError('UNKNOWN_PROVIDER', { extras: { provider } });
    return em.transactional(async (tx) => {
      const now = new Date();
      const c = tx.create(ConversationSchema, {
        id: randomUUID(),
        userId: auth.userId,
        title: input.title ?? DEFAULT_TITLE,
        provider,
        messageCount: 0,
        lastMessageAt: null,
        createdAt: now,
        updatedAt: now,
      });
      await tx.flush();
      await indexConversation(tx, c);
      return c;
    });
  }

  /**
   * CONV-5: deletes the conversation with its messages and sessions, detaches its notes and
   * removes all of it from the search index, in one transaction; then announces the deletion so
   * knowledge drops the conversation-scoped documents.
   * @throws NOT_FOUND "Conversation not found"
   */
  async delete(em: EntityManager, auth: UserContext, id: string): Promise<string> {
    if (!isUuid(id)) throw notFound('Conversation');
    await em.transactional(async (tx) => {
      const c = await tx.findOne(ConversationSchema, { id, userId: auth.userId });
      if (!c) throw notFound('Conversation');
      await unindexConversation(tx, id);
      await tx.nativeDelete(ConversationSessionSchema, { conversationId: id });
      await tx.nativeDelete(MessageSchema, { conversationId: id });
      // Detaching is not an edit by the user: the notes keep their updated_at.
      await tx.nativeUpdate(NoteSchema, { conversationId: id }, { conversationId: null });
      await tx.nativeDelete(ConversationSchema, { id });
    });
    const event: ConversationDeletedEvent = { conversationId: id, userId: auth.userId };
    await this.pubsub.publish(CONVERSATION_DELETED, event);
    return id;
  }
}
