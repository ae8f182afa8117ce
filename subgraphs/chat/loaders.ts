/**
 * Per-request DataLoaders: one SQL statement per entity type (or per page shape) per request,
 * whatever the number of conversations in the result (no N+1). Only the caller's records load:
 * another user's conversation resolves to null.
 */
import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ConversationSchema, MessageSchema, type Conversation, type Message } from './conversation.entity.ts';
import { isUuid } from '../../kernel/input.ts';
import type { ConversationService, Page, PageInput } from './conversation.service.ts';

/** A page of one parent's children. */
export interface PageKey extends PageInput {
  parentId: string;
}

export interface ChatLoaders {
  conversationById: DataLoader<string, Conversation | null>;
  /** Messages of visible conversations, oldest first. */
  messagePage: DataLoader<PageKey, Page<Message>, string>;
  /** Conversations of a user (the caller), most recently updated first. */
  conversationPage: DataLoader<PageKey, Page<Conversation>, string>;
}

const keyOf = (k: PageKey): string => `${k.parentId}:${k.limit}:${k.offset}`;

/** Groups keys by page shape, so each shape costs one statement whatever the number of parents. */
function byShape(keys: readonly PageKey[]): Map<string, PageKey[]> {
  const groups = new Map<string, PageKey[]>();
  for (const k of keys) {
    const shape = `${k.limit}:${k.offset}`;
    groups.set(shape, [...(groups.get(shape) ?? []), k]);
  }
  return groups;
}

export function createLoaders(em: EntityManager, callerId: string | null, conversations: ConversationService): ChatLoaders {
  return {
    conversationById: new DataLoader(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = callerId && valid.length > 0 ? await em.find(ConversationSchema, { id: { $in: valid }, userId: callerId }) : [];
      const byId = new Map(rows.map((c) => [c.id, c]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    messagePage: new DataLoader(
      async (keys) => {
        const conversationIds = [...new Set(keys.map((k) => k.parentId))];
        const placeholders = conversationIds.map(() => '?').join(',');
        const totals = await em.execute<{ conversation_id: string; n: string | number }[]>(
          `select "conversation_id", count(*) as n from "chat"."messages" where "conversation_id" in (${placeholders}) group by "conversation_id"`,
          conversationIds,
        );
        const totalOf = new Map(totals.map((r) => [r.conversation_id, Number(r.n)]));
        const pages = new Map<string, Message[]>();
        for (const [, group] of byShape(keys)) {
          const first = group[0];
          if (!first) continue;
          const ids = [...new Set(group.map((k) => k.parentId))];
          // Numbered per conversation in page order; one statement for every conversation of this shape.
          const rows = await em.execute<Record<string, unknown>[]>(
            `select m.* from "chat"."messages" m join (
               select "id", row_number() over (partition by "conversation_id" order by "created_at" asc, "id" asc) as rn
                 from "chat"."messages" where "conversation_id" in (${ids.map(() => '?').join(',')})
             ) r on r."id" = m."id"
             where r.rn > ? and r.rn <= ? order by m."conversation_id", r.rn`,
            [...ids, first.offset, first.offset + first.limit],
          );
          for (const row of rows) {
            const message = em.map(MessageSchema, row);
            const key = keyOf({ parentId: message.conversationId, limit: first.limit, offset: first.offset });
            pages.set(key, [...(pages.get(key) ?? []), message]);
          }
        }
        return keys.map((k) => ({ items: pages.get(keyOf(k)) ?? [], total: totalOf.get(k.parentId) ?? 0, limit: k.limit, offset: k.offset }));
      },
      { cacheKeyFn: keyOf },
    ),
    // Only the caller's own list is ever asked for, so one statement per page shape is the floor.
    conversationPage: new DataLoader((keys) => Promise.all(keys.map((k) => conversations.page(em, k.parentId, { limit: k.limit, offset: k.offset }))), { cacheKeyFn: keyOf }),
  };
}
