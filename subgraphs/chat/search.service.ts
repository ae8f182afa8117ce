/**
 * User-content search (§3.2 CONV-11..13, §4.11) over PostgreSQL full-text search.
 *
 * Matching: every word of the query must be a prefix of some word of the record (`'term':*`
 * lexemes ANDed in a `to_tsquery`). Typos: a query word that is a prefix of no word in the
 * caller's searched content is widened with up to three of the caller's own words that pg_trgm
 * finds similar, so "kubernets" still finds "Kubernetes". Score: 0.5 for an exact prefix match
 * plus half of `ts_rank_cd` normalised to [0, 1), so exact matches outrank corrected ones.
 * Highlights come from `ts_headline` and are cut to 200 characters by `cropHighlight`.
 */
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../../kernel/errors.ts';
import { parseInput } from '../../kernel/input.ts';
import type { UserContext } from '../../kernel/authz.ts';
import { isUuid } from '../../kernel/input.ts';
import { rebuildCollection, SEARCH_COLLECTIONS, type SearchCollection } from './search.indexer.ts';
import { cropHighlight } from './search.snippet.ts';
import { SEARCH_SQL } from './search.sql.ts';
import type { IdentityGateway } from './identity.client.ts';
import type { MessageRole } from './conversation.entity.ts';

/** pg_trgm `similarity` a word of the caller's content needs to stand in for a misspelled term. */
const CORRECTION_SIMILARITY = 0.3;
const MAX_CORRECTIONS = 3;
/** Corrections for one- and two-letter terms would be noise. */
const MIN_CORRECTED_LENGTH = 3;
/** A reindex claim older than this is from a crashed process and no longer blocks. */
const REINDEX_CLAIM_TTL_MS = 15 * 60_000;
const HEADLINE_OPTIONS = 'StartSel=<mark>, StopSel=</mark>, HighlightAll=true';

const searchInput = z.object({
  query: z.string().trim().min(1).max(200),
  types: z.array(z.enum(SEARCH_COLLECTIONS)).optional(),
  limit: z.number().int().min(1).max(100).optional(),
});
const reindexInput = z.object({ collections: z.array(z.enum(SEARCH_COLLECTIONS)).optional(), userId: z.string().nullable().optional() });

export interface ConversationHit { conversationId: string; title: string; highlight: string; score: number; updatedAt: Date }
export interface MessageHit { messageId: string; conversationId: string; conversationTitle: string; role: MessageRole; snippet: string; score: number; createdAt: Date }
export interface NoteHit { noteId: string; conversationId: string | null; title: string; snippet: string; score: number; updatedAt: Date }
export interface SearchResults { query: string; conversations: ConversationHit[]; messages: MessageHit[]; notes: NoteHit[] }
export interface CollectionCount { name: SearchCollection; documentCount: number }
export interface SearchStatus { backend: string; healthy: boolean; collections: CollectionCount[]; lastReindexAt: Date | null; reindexRunning: boolean }
export interface ReindexResult {
  status: 'completed';
  collections: SearchCollection[];
  indexed: Record<SearchCollection, number>;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
}

/** A lexeme as a tsquery operand (quotes and backslashes escaped). */
const operand = (lexeme: string): string => `'${lexeme.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
const prefix = (lexeme: string): string => `${operand(lexeme)}:*`;

export class SearchService {
  constructor(private readonly identity: IdentityGateway) {}

  /**
   * CONV-11: the caller's own conversations, messages and notes matching `query`, best first
   * (score desc, then timestamp desc, then id), at most `limit` per requested group.
   * @throws BAD_USER_INPUT for a blank or > 200-character query, an unknown type, a limit outside 1..100.
   */
  async search(em: EntityManager, auth: UserContext, raw: z.input<typeof searchInput>): Promise<SearchResults> {
    const input = parseInput(searchInput, raw);
    const types = SEARCH_COLLECTIONS.filter((c) => (input.types ?? SEARCH_COLLECTIONS).includes(c));
    const results: SearchResults = { query: input.query, conversations: [], messages: [], notes: [] };
    if (types.length === 0) return results;
    const lexemes = (await em.execute<{ lexeme: string }[]>(SEARCH_SQL.lexemes, [input.query])).map((r) => r.lexeme);
    // A query of punctuation only has no words to match.
    if (lexemes.length === 0) return results;
    const queries = await this.tsqueries(em, auth.userId, types, lexemes);
    const params = (collection: SearchCollection) => [queries.expanded, queries.exact, HEADLINE_OPTIONS, auth.userId, collection, input.limit ?? 20];
    if (types.includes('conversations')) {
      const rows = await em.execute<{ id: string; title: string; updated_ms: number; marked: string; score: number }[]>(SEARCH_SQL.conversations, params('conversations'));
      results.conversations = rows.map((r) => ({ conversationId: r.id, title: r.title, highlight: cropHighlight(r.marked), score: r.score, updatedAt: new Date(r.updated_ms) }));
    }
    if (types.includes('messages')) {
      const rows = await em.execute<{ id: string; conversation_id: string; conversation_title: string; role: MessageRole; created_ms: number; marked: string; score: number }[]>(SEARCH_SQL.messages, params('messages'));
      results.messages = rows.map((r) => ({
        messageId: r.id,
        conversationId: r.conversation_id,
        conversationTitle: r.conversation_title,
        role: r.role,
        snippet: cropHighlight(r.marked),
        score: r.score,
        createdAt: new Date(r.created_ms),
      }));
    }
    if (types.includes('notes')) {
      const rows = await em.execute<{ id: string; conversation_id: string | null; title: string; updated_ms: number; marked: string; marked_title: string; score: number }[]>(SEARCH_SQL.notes, params('notes'));
      results.notes = rows.map((r) => ({
        noteId: r.id,
        conversationId: r.conversation_id,
        title: r.title,
        // The content around its first match; the title when only the title matched.
        snippet: cropHighlight(r.marked.includes('<mark>') ? r.marked : r.marked_title),
        score: r.score,
        updatedAt: new Date(r.updated_ms),
      }));
    }
    return results;
  }

  /** The exact prefix query and the one widened with corrections for terms that match nothing. */
  private async tsqueries(em: EntityManager, userId: string, types: SearchCollection[], lexemes: string[]): Promise<{ exact: string; expanded: string }> {
    const collections = JSON.stringify(types);
    const known = await em.execute<{ ord: string | number; known: boolean }[]>(SEARCH_SQL.known, [userId, collections, JSON.stringify(lexemes.map(prefix))]);
    const unknown = new Set(known.filter((r) => !r.known).map((r) => Number(r.ord) - 1));
    const candidates = lexemes.filter((l, i) => unknown.has(i) && l.length >= MIN_CORRECTED_LENGTH);
    const fixes = new Map<string, string[]>();
    if (candidates.length > 0) {
      const rows = await em.execute<{ lexeme: string; fixes: string[] }[]>(SEARCH_SQL.corrections, [userId, collections, CORRECTION_SIMILARITY, MAX_CORRECTIONS, JSON.stringify(candidates)]);
      for (const r of rows) fixes.set(r.lexeme, r.fixes);
    }
    const widened = (l: string): string => {
      const alternatives = fixes.get(l) ?? [];
      return alternatives.length > 0 ? `(${[prefix(l), ...alternatives.map(operand)].join(' | ')})` : prefix(l);
    };
    return { exact: lexemes.map(prefix).join(' & '), expanded: lexemes.map(widened).join(' & ') };
  }

  /** CONV-12: document counts per collection and the reindex state (admins; checked by the caller). */
  async status(em: EntityManager): Promise<SearchStatus> {
    const counts = await em.execute<{ collection: SearchCollection; n: string | number }[]>(SEARCH_SQL.counts);
    const [state] = await em.execute<{ started_ms: number | null; finished_ms: number | null }[]>(SEARCH_SQL.state);
    const running = state?.started_ms ?? null;
    const finished = state?.finished_ms ?? null;
    return {
      backend: 'postgres',
      healthy: true,
      collections: SEARCH_COLLECTIONS.map((name) => ({ name, documentCount: Number(counts.find((c) => c.collection === name)?.n ?? 0) })),
      lastReindexAt: finished === null ? null : new Date(finished),
      reindexRunning: running !== null && Date.now() - running < REINDEX_CLAIM_TTL_MS,
    };
  }

  /**
   * CONV-13: rebuilds the named collections (default all) from their tables, for every user or
   * only `userId`, synchronously and in one transaction. One reindex at a time across replicas.
   * @throws ADMIN_REQUIRED; BAD_USER_INPUT; NOT_FOUND "User not found"; REINDEX_IN_PROGRESS
   */
  async reindex(em: EntityManager, auth: UserContext, raw: z.input<typeof reindexInput>): Promise<ReindexResult> {
    if (auth.role !== 'admin') throw new AppError('ADMIN_REQUIRED');
    const input = parseInput(reindexInput, raw);
    const collections = SEARCH_COLLECTIONS.filter((c) => (input.collections ?? SEARCH_COLLECTIONS).includes(c));
    const userId = input.userId ?? null;
    // Asked before anything is claimed or opened: no tRPC call inside a transaction.
    if (userId !== null && !(isUuid(userId) && (await this.identity.userExists(userId)))) throw notFound('User');
    const startedAt = new Date();
    const claimed = await em.execute<{ id: number }[]>(SEARCH_SQL.claim, [startedAt, new Date(startedAt.getTime() - REINDEX_CLAIM_TTL_MS)]);
    if (claimed.length === 0) throw new AppError('REINDEX_IN_PROGRESS');
    let finishedAt: Date | null = null;
    try {
      const indexed: Record<SearchCollection, number> = { conversations: 0, messages: 0, notes: 0 };
      await em.transactional(async (tx) => {
        for (const c of collections) indexed[c] = await rebuildCollection(tx, c, userId);
      });
      finishedAt = new Date();
      return { status: 'completed', collections, indexed, startedAt, finishedAt, durationMs: finishedAt.getTime() - startedAt.getTime() };
    } finally {
      await em.execute(SEARCH_SQL.release, [finishedAt]);
    }
  }
}
