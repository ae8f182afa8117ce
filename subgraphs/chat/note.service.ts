/**
 * Notes (§3.2 CONV-14..17): the owner's notes, optionally attached to one of the owner's
 * conversations, indexed for search in the same transaction as every write.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '../../kernel/errors.ts';
import { parseInput } from '../../kernel/input.ts';
import type { UserContext } from '../../kernel/authz.ts';
import { NoteSchema, type Note } from './note.entity.ts';
import { isUuid } from '../../kernel/input.ts';
import { pageInput, type ConversationService, type Page } from './conversation.service.ts';
import { indexNote, unindexNote } from './search.indexer.ts';

/** ≤ 20 tags of 1..50 characters; duplicates removed, first occurrence kept. */
const tags = z
  .array(z.string().min(1).max(50))
  .max(20)
  .transform((list) => [...new Set(list)]);

const title = z.string().min(1).max(200);
const content = z.string().max(100_000);
// A malformed conversation id is a conversation the caller cannot see: NOT_FOUND, not 422.
const conversationId = z.string().nullable();

const createInput = z.object({ title, content: content.optional(), conversationId: conversationId.optional(), tags: tags.optional() });
const updateInput = z.object({ title: title.optional(), content: content.optional(), conversationId: conversationId.optional(), tags: tags.optional() });
const listInput = pageInput.extend({ conversationId: z.string().optional() });

/** CONV-16 input as adapters pass it: nulls are refused by validation, except `conversationId` (detach). */
export interface NoteChanges {
  title?: string | null;
  content?: string | null;
  conversationId?: string | null;
  tags?: string[] | null;
}

export class NoteService {
  constructor(private readonly conversations: ConversationService) {}

  /**
   * CONV-14: the caller's notes, most recently updated first (ties by id), optionally only those
   * attached to one of the caller's conversations.
   * @throws BAD_USER_INPUT; NOT_FOUND "Conversation not found" for a filter the caller does not own.
   */
  async list(em: EntityManager, auth: UserContext, raw: z.input<typeof listInput>): Promise<Page<Note>> {
    const input = parseInput(listInput, raw);
    if (input.conversationId !== undefined) await this.conversations.require(em, auth.userId, input.conversationId);
    const where = { userId: auth.userId, ...(input.conversationId !== undefined ? { conversationId: input.conversationId } : {}) };
    const [items, total] = await em.findAndCount(NoteSchema, where, { orderBy: { updatedAt: 'desc', id: 'asc' }, limit: input.limit, offset: input.offset });
    return { items, total, limit: input.limit, offset: input.offset };
  }

  /** The caller's note, or null when absent, malformed or another user's. */
  async find(em: EntityManager, auth: UserContext, id: string): Promise<Note | null> {
    return isUuid(id) ? em.findOne(NoteSchema, { id, userId: auth.userId }) : null;
  }

  /**
   * CONV-15: creates a note.
   * @throws BAD_USER_INPUT; NOT_FOUND "Conversation not found" when `conversationId` is not the caller's.
   */
  async create(em: EntityManager, auth: UserContext, raw: z.input<typeof createInput>): Promise<Note> {
    const input = parseInput(createInput, raw);
    const attachTo = input.conversationId ?? null;
    if (attachTo !== null) await this.conversations.require(em, auth.userId, attachTo);
    return em.transactional(async (tx) => {
      const now = new Date();
      const note = tx.create(NoteSchema, {
        id: randomUUID(),
        userId: auth.userId,
        conversationId: attachTo,
        title: input.title,
        content: input.content ?? '',
        tags: input.tags ?? [],
        createdAt: now,
        updatedAt: now,
      });
      await tx.flush();
      await indexNote(tx, note);
      return note;
    });
  }

  /**
   * CONV-16: a partial update. Absent fields are unchanged; `conversationId: null` detaches; an
   * empty input is a no-op; `updatedAt` moves only when something changes.
   * @throws BAD_USER_INPUT; NOT_FOUND "Note not found", then "Conversation not found".
   */
  async update(em: EntityManager, auth: UserContext, id: string, raw: NoteChanges): Promise<Note> {
    const input = parseInput(updateInput, raw);
    if (!isUuid(id)) throw notFound('Note');
    return em.transactional(async (tx) => {
      const note = await tx.findOne(NoteSchema, { id, userId: auth.userId }, { refresh: true });
      if (!note) throw notFound('Note');
      if (input.conversationId !== undefined && input.conversationId !== null) await this.conversations.require(tx, auth.userId, input.conversationId);
      const next = {
        title: input.title ?? note.title,
        content: input.content ?? note.content,
        conversationId: input.conversationId === undefined ? note.conversationId : input.conversationId,
        tags: input.tags ?? note.tags,
      };
      const changed =
        next.title !== note.title || next.content !== note.content || next.conversationId !== note.conversationId || JSON.stringify(next.tags) !== JSON.stringify(note.tags);
      if (!changed) return note;
      const reindex = next.title !== note.title || next.content !== note.content;
      Object.assign(note, next, { updatedAt: new Date() });
      await tx.flush();
      if (reindex) await indexNote(tx, note);
      return note;
    });
  }

  /**
   * CONV-17: deletes the note and its index entry.
   * @throws NOT_FOUND "Note not found"
   */
  async delete(em: EntityManager, auth: UserContext, id: string): Promise<string> {
    if (!isUuid(id)) throw notFound('Note');
    await em.transactional(async (tx) => {
      const deleted = await tx.nativeDelete(NoteSchema, { id, userId: auth.userId });
      if (deleted === 0) throw notFound('Note');
      await unindexNote(tx, id);
    });
    return id;
  }
}
