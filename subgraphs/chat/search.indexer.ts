/**
 * Writes to the user-content search index (§4.11). Every function runs on the caller's
 * EntityManager so that, inside `em.transactional`, the index row changes in the same transaction
 * as the record it reflects: a write is searchable, and a deletion gone, when the response is sent.
 *
 * Documents use the `simple` text-search configuration (lowercased words, no stemming, no stop
 * words) because matching is by word prefix: stemming would turn "running" into "run", which the
 * prefix "runn" no longer matches.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Conversation, Message } from './conversation.entity.ts';
import type { Note } from './note.entity.ts';

export const SEARCH_COLLECTIONS = ['conversations', 'messages', 'notes'] as const;
export type SearchCollection = (typeof SEARCH_COLLECTIONS)[number];

/** Titles weigh more than bodies when ranking (`A` over `B`). */
const TITLE_TSV = `setweight(to_tsvector('simple', ?), 'A')`;
const BODY_TSV = `setweight(to_tsvector('simple', ?), 'B')`;
const UPSERT = `on conflict ("collection", "doc_id") do update set "tsv" = excluded."tsv", "user_id" = excluded."user_id"`;

export async function indexConversation(em: EntityManager, c: Pick<Conversation, 'id' | 'userId' | 'title'>): Promise<void> {
  await em.execute(`insert into "chat"."search_index" ("collection", "doc_id", "user_id", "tsv") values ('conversations', ?, ?, ${TITLE_TSV}) ${UPSERT}`, [c.id, c.userId, c.title]);
}

export async function indexMessages(em: EntityManager, messages: readonly Pick<Message, 'id' | 'userId' | 'content'>[]): Promise<void> {
  if (messages.length === 0) return;
  const rows = messages.map(() => `('messages', ?, ?, ${BODY_TSV})`).join(', ');
  await em.execute(`insert into "chat"."search_index" ("collection", "doc_id", "user_id", "tsv") values ${rows} ${UPSERT}`, messages.flatMap((m) => [m.id, m.userId, m.content]));
}

export async function indexNote(em: EntityManager, n: Pick<Note, 'id' | 'userId' | 'title' | 'content'>): Promise<void> {
  await em.execute(
    `insert into "chat"."search_index" ("collection", "doc_id", "user_id", "tsv") values ('notes', ?, ?, ${TITLE_TSV} || ${BODY_TSV}) ${UPSERT}`,
    [n.id, n.userId, n.title, n.content],
  );
}

export async function unindexNote(em: EntityManager, noteId: string): Promise<void> {
  await em.execute(`delete from "chat"."search_index" where "collection" = 'notes' and "doc_id" = ?`, [noteId]);
}

/** Removes a conversation and its messages from the index; call before deleting the messages. */
export async function unindexConversation(em: EntityManager, conversationId: string): Promise<void> {
  await em.execute(
    `delete from "chat"."search_index"
      where ("collection" = 'conversations' and "doc_id" = ?)
         or ("collection" = 'messages' and "doc_id" in (select "id" from "chat"."messages" where "conversation_id" = ?))`,
    [conversationId, conversationId],
  );
}

/** The source of each collection's documents, for a rebuild. */
const SOURCES: Record<SearchCollection, { table: string; tsv: string }> = {
  conversations: { table: 'conversations', tsv: `setweight(to_tsvector('simple', "title"), 'A')` },
  messages: { table: 'messages', tsv: `setweight(to_tsvector('simple', "content"), 'B')` },
  notes: { table: 'notes', tsv: `setweight(to_tsvector('simple', "title"), 'A') || setweight(to_tsvector('simple', "content"), 'B')` },
};

/**
 * Rebuilds one collection from its table (all users, or only `userId`'s records); returns how
 * many documents it now holds for that scope.
 */
export async function rebuildCollection(em: EntityManager, collection: SearchCollection, userId: string | null): Promise<number> {
  const { table, tsv } = SOURCES[collection];
  const byUser = userId === null ? '' : ` and "user_id" = ?`;
  const userParam = userId === null ? [] : [userId];
  await em.execute(`delete from "chat"."search_index" where "collection" = ?${byUser}`, [collection, ...userParam]);
  const rows = await em.execute<{ n: string | number }[]>(
    `with inserted as (
       insert into "chat"."search_index" ("collection", "doc_id", "user_id", "tsv")
       select ?, "id", "user_id", ${tsv} from "chat"."${table}"${userId === null ? '' : ' where "user_id" = ?'}
       returning 1)
     select count(*) as n from inserted`,
    [collection, ...userParam],
  );
  return Number(rows[0]?.n ?? 0);
}
