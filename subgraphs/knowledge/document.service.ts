/**
 * Reading the knowledge base (§3.3 KB-1, KB-2, §4.10, §4.12): who sees which documents,
 * listing them and searching them. An API key acts as its creator but sees only its own
 * organization's shared documents.
 */
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '../../kernel/errors.ts';
import { isUuid, parseInput } from '../../kernel/input.ts';
import type { UserContext } from '../../kernel/authz.ts';
import { KnowledgeDocumentSchema, type DocumentScope, type KnowledgeDocument } from './document.entity.ts';
import type { RetrievedChunk, Retriever, Visibility } from './retriever.ts';
import type { Peers } from './peers.ts';

const listInput = z.object({
  limit: z.number().int().min(1).max(100).default(20),
  offset: z.number().int().min(0).default(0),
  scope: z.enum(['user', 'conversation']).nullish(),
  conversationId: z.string().nullish(),
  shared: z.boolean().nullish(),
  mine: z.boolean().nullish(),
});
export type ListInput = z.input<typeof listInput>;

const searchInput = z.object({
  query: z.string().min(1).max(1000),
  topK: z.number().int().min(1).max(50).default(5),
  conversationId: z.string().nullish(),
  includeShared: z.boolean().nullish(),
});
export type SearchInput = z.input<typeof searchInput>;

/** Who reads: the acting user, and for API keys the key's organization. */
export type Principal = Pick<UserContext, 'userId' | 'mode' | 'tenantId'>;

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** Documents the caller owns (any scope) plus shared ones of their organizations (KB-2's set). */
const LISTABLE = `("ready" and ("owner_id" = ? or ("shared" and "organization_id" in (select (jsonb_array_elements_text(?::jsonb))::uuid))))`;

export class DocumentService {
  constructor(
    private readonly peers: Peers,
    private readonly retriever: Retriever,
  ) {}

  /** Organizations whose shared documents the caller sees: an API key's own, else every membership. */
  async organizationsOf(auth: Principal): Promise<string[]> {
    if (auth.mode === 'api_key') return auth.tenantId ? [auth.tenantId] : [];
    return this.peers.organizationsOf(auth.userId);
  }

  /** @throws NOT_FOUND "Conversation not found" unless the conversation is the caller's */
  async checkConversation(auth: UserContext, conversationId: string): Promise<void> {
    if (!isUuid(conversationId) || !(await this.peers.ownsConversation(conversationId, auth.userId))) throw notFound('Conversation');
  }

  /** §4.10's candidate set for `auth`. */
  async visibility(auth: UserContext, opts: { includeShared: boolean; conversationId: string | null }): Promise<Visibility> {
    if (opts.conversationId !== null) await this.checkConversation(auth, opts.conversationId);
    return {
      userId: auth.userId,
      organizationIds: opts.includeShared ? await this.organizationsOf(auth) : [],
      includeShared: opts.includeShared,
      conversationId: opts.conversationId,
    };
  }

  /** KB-1. @throws BAD_USER_INPUT; NOT_FOUND (conversation) */
  async search(em: EntityManager, auth: UserContext, raw: SearchInput, highlight: boolean): Promise<{ query: string; results: RetrievedChunk[] }> {
    const input = parseInput(searchInput, raw);
    const visibility = await this.visibility(auth, { includeShared: input.includeShared ?? true, conversationId: input.conversationId ?? null });
    return { query: input.query, results: await this.retriever.retrieve(em, { query: input.query, topK: input.topK, visibility, highlight }) };
  }

  /** KB-2: newest first, ties by id. @throws BAD_USER_INPUT; NOT_FOUND (conversation) */
  async list(em: EntityManager, auth: UserContext, raw: ListInput): Promise<Page<KnowledgeDocument>> {
    const input = parseInput(listInput, raw, null);
    if (input.conversationId != null) await this.checkConversation(auth, input.conversationId);
    const orgs = input.mine ? [] : await this.organizationsOf(auth);
    const where: string[] = [LISTABLE];
    const params: unknown[] = [auth.userId, JSON.stringify(orgs)];
    const filter = (sql: string, value: unknown) => {
      where.push(sql);
      params.push(value);
    };
    if (input.mine) filter(`"owner_id" = ?`, auth.userId);
    if (input.scope != null) filter(`"scope" = ?`, input.scope satisfies DocumentScope);
    if (input.conversationId != null) filter(`"conversation_id" = ?`, input.conversationId);
    if (input.shared != null) filter(`"shared" = ?`, input.shared);
    const [items, total] = await em
      .createQueryBuilder(KnowledgeDocumentSchema)
      .where(where.join(' and '), params)
      .orderBy({ createdAt: 'desc', id: 'asc' })
      .limit(input.limit)
      .offset(input.offset)
      .getResultAndCount();
    return { items, total, limit: input.limit, offset: input.offset };
  }

  /** Documents among `ids` the caller can see: theirs, or shared with their organization (one statement, for loaders). */
  async findMany(em: EntityManager, auth: UserContext, ids: readonly string[]): Promise<KnowledgeDocument[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const orgs = await this.organizationsOf(auth);
    return em
      .createQueryBuilder(KnowledgeDocumentSchema)
      .where({ id: { $in: valid } })
      .andWhere(LISTABLE, [auth.userId, JSON.stringify(orgs)])
      .getResultList();
  }

  /** Deletes one of the caller's own documents with its chunks. @throws NOT_FOUND */
  async delete(em: EntityManager, auth: UserContext, id: string): Promise<string> {
    const n = isUuid(id) ? await em.nativeDelete(KnowledgeDocumentSchema, { id, ownerId: auth.userId }) : 0;
    if (n === 0) throw notFound('Document');
    return id;
  }
}
