/**
 * Retrieval of ranked chunks from the documents a caller can see (§4.10). `Retriever` is the
 * seam for other indexes: a pgvector retriever (where the database has the extension) would
 * implement it and be fused with the lexical one by rank; nothing here requires it.
 *
 * The lexical retriever: PostgreSQL full-text search over chunks weighted title (A) > headings (B)
 * > body (C) with English stemming. Each query word becomes a group `word | corrections…`, where
 * corrections are the visible documents' words closest to a word none of them contain (pg_trgm),
 * so "photosyntesis" finds "photosynthesis". A chunk matches when any group does; its score in
 * (0, 1] is 0.6 × the share of groups it matches + 0.4 × the normalised cover density rank
 * (`ts_rank_cd`). Quoted phrases, `-word` and `or` keep `websearch_to_tsquery`'s meaning as an
 * extra filter.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { MARK_END, MARK_START, RETRIEVAL_SQL } from './retrieval.sql.ts';

/** Whose documents a retrieval may read. */
export interface Visibility {
  userId: string;
  /** Organizations whose shared documents are visible (an API key: only its own). */
  organizationIds: string[];
  includeShared: boolean;
  /** Adds the caller's documents scoped to this conversation (ownership already checked). */
  conversationId: string | null;
}

export interface RetrievalRequest {
  query: string;
  topK: number;
  visibility: Visibility;
  /** Whether to compute `highlight` (KB-1 via GraphQL); retrieval for generation skips it. */
  highlight: boolean;
}

export interface RetrievedChunk {
  documentId: string;
  title: string;
  chunkIndex: number;
  content: string;
  score: number;
  scope: 'user' | 'conversation';
  conversationId: string | null;
  shared: boolean;
  /**
   * The passage around the matches as HTML: text escaped, matched words in `<mark>`…`</mark>`
   * (the whole chunk's text, unescaped, when not asked for).
   */
  highlight: string;
}

export interface Retriever {
  readonly name: string;
  retrieve(em: EntityManager, request: RetrievalRequest): Promise<RetrievedChunk[]>;
}

/** Words as search sees them, in documents and queries alike: runs of letters and digits, lowercased, at most 64 chars. */
export function wordsOf(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length <= 64);
}

/** Query words: at most 32 distinct ones. */
function queryWords(query: string): string[] {
  return [...new Set(wordsOf(query))].slice(0, 32);
}

/** A word as a to_tsquery operand (only letters and digits reach here; quoted all the same). */
const operand = (w: string): string => `'${w.replace(/'/g, "''")}'`;

const HAS_OPERATORS = /"|(^|\s)-\S|\sor\s/i;

/** Minimum pg_trgm similarity for a correction, and corrections per word. */
const MIN_SIMILARITY = 0.35;
const MAX_CORRECTIONS = 3;

interface Row {
  document_id: string;
  title: string;
  chunk_index: number;
  content: string;
  score: number;
  scope: 'user' | 'conversation';
  conversation_id: string | null;
  shared: boolean;
  highlight: string | null;
}

export class LexicalRetriever implements Retriever {
  readonly name = 'lexical';

  async retrieve(em: EntityManager, req: RetrievalRequest): Promise<RetrievedChunk[]> {
    const words = queryWords(req.query);
    if (words.length === 0) return [];
    const conn = em.getConnection();
    const v = req.visibility;
    const visibleArgs = [v.userId, v.includeShared, JSON.stringify(v.organizationIds), v.conversationId, v.userId];

    // Words that stem to nothing (stop words) are not groups.
    const meaningful = (await conn.execute<{ word: string }[]>(RETRIEVAL_SQL.meaningful, [JSON.stringify(words)])).map((r) => r.word);
    if (meaningful.length === 0) return [];
    const fixes = new Map<string, string[]>();
    const rows = await conn.execute<{ word: string; fixes: string[] | string }[]>(RETRIEVAL_SQL.corrections, [
      ...visibleArgs,
      JSON.stringify(meaningful),
      MIN_SIMILARITY,
      MAX_CORRECTIONS,
    ]);
    for (const r of rows) fixes.set(r.word, Array.isArray(r.fixes) ? r.fixes : parsePgArray(r.fixes));
    const groups = meaningful.map((w) => [w, ...(fixes.get(w) ?? [])].map(operand).join(' | '));
    const any = groups.map((g) => `(${g})`).join(' | ');
    const phrase = HAS_OPERATORS.test(req.query) ? req.query : null;

    const found = await conn.execute<Row[]>(RETRIEVAL_SQL.search(req.highlight), [any, JSON.stringify(groups), phrase, ...visibleArgs, req.topK]);
    return found.map((r) => ({
      documentId: r.document_id,
      title: r.title,
      chunkIndex: r.chunk_index,
      content: r.content,
      score: Number(r.score),
      scope: r.scope,
      conversationId: r.conversation_id,
      shared: r.shared,
      highlight: r.highlight === null ? r.content : markup(r.highlight),
    }));
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** ts_headline's output (matches between the private-use delimiters) as safe HTML. */
export function markup(headline: string): string {
  return headline
    .replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
    .replaceAll(MARK_START, '<mark>')
    .replaceAll(MARK_END, '</mark>');
}

/** `{a,b}` → ['a','b'] (drivers differ on whether text[] arrives parsed). */
function parsePgArray(text: string): string[] {
  const inner = text.replace(/^\{|\}$/g, '');
  return inner === '' ? [] : inner.split(',').map((s) => s.replace(/^"|"$/g, ''));
}
