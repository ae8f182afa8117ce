/**
 * KB-3: checks an upload in §1.5's order (visibility and tenancy, then the semantic rules
 * and limits), extracts and chunks its text, then stores the document, its chunks and its words;
 * the document becomes visible only once all of it is written, and a failure leaves nothing.
 * Past the caller's deadline (kernel/deadline.ts) it stops and leaves nothing either; with an
 * Idempotency-Key a retry gets the first document back. Progress goes out on the upload's channel.
 */
import { createHash, randomUUID } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { z } from 'zod';
import { UniqueConstraintViolationException, type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { AppError, ERROR_REGISTRY, MAX_UPLOAD_BYTES, fileTooLarge, notFound } from '../../kernel/errors.ts';
import { isUuid, parseInput } from '../../kernel/input.ts';
import { checkDeadline } from '../../kernel/deadline.ts';
import type { IdempotencyStore, IdempotentCallOptions, RecordResult } from '../../kernel/idempotency.ts';
import type { UserContext } from '../../kernel/authz.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import type { Logger } from '../../kernel/logger.ts';
import { KnowledgeDocumentSchema, type DocumentScope, type KnowledgeDocument } from './document.entity.ts';
import { detectContentType, extractBlocks } from './extract.ts';
import { chunksOf, type Chunk } from './chunker.ts';
import { wordsOf } from './retriever.ts';
import { ingestionChannel, ingestionEvent, type IngestionEvent, type IngestionStage } from './ingestion.events.ts';
import type { Peers } from './peers.ts';
import type { ParserPool } from './parser-pool.ts';
import type { IngestionLeases } from './ingestion.leases.ts';

const uploadInput = z.object({
  file: z.object({
    filename: z.string().min(1).max(255),
    contentType: z.string().max(255).nullish(),
    contentBase64: z.string(),
  }),
  title: z.string().min(1).max(200).nullish(),
  scope: z.enum(['user', 'conversation']).default('user'),
  conversationId: z.string().nullish(),
  shared: z.boolean().nullish(),
  organizationId: z.string().nullish(),
  uploadId: z.uuid().nullish(),
});
export type UploadInput = z.input<typeof uploadInput>;
type ParsedUploadInput = z.output<typeof uploadInput>;

/** What an Idempotency-Key compares: the upload with its defaults filled in (the file by digest). */
function fingerprintOf(input: ParsedUploadInput): Record<string, unknown> {
  return {
    file: {
      filename: input.file.filename,
      contentType: input.file.contentType ?? null,
      sha256: createHash('sha256').update(input.file.contentBase64.replace(/\s+/g, '')).digest('hex'),
    },
    title: input.title ?? null,
    scope: input.scope,
    conversationId: input.conversationId ?? null,
    shared: input.shared ?? false,
    organizationId: input.organizationId ?? null,
    uploadId: input.uploadId ?? null,
  };
}

/** A document recorded as an Idempotency-Key's result, back from its JSON form. */
function reviveDocument(stored: unknown): KnowledgeDocument {
  const doc = stored as KnowledgeDocument & { createdAt: string };
  return { ...doc, createdAt: new Date(doc.createdAt) };
}

/** Where an ingestion stops for its deadline and records its key's result. */
interface Bounds {
  signal?: AbortSignal;
  record?: RecordResult<KnowledgeDocument>;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Chunks written per statement; progress is published after each batch. */
const BATCH = 100;

/** One batch of chunks. Params: document id, title (its vector is computed once per batch), chunks as JSON. */
const CHUNKS_SQL = `insert into "knowledge"."chunks" ("document_id", "chunk_index", "content", "headings", "tsv")
  select ?::uuid, (x->>'i')::int, x->>'c', x->>'h',
    t.title_tsv || setweight(to_tsvector('english', x->>'h'), 'B') || setweight(to_tsvector('english', x->>'c'), 'C')
  from (select setweight(to_tsvector('english', ?::text), 'A') as title_tsv) as t, jsonb_array_elements(?::jsonb) as x`;
const TERMS_SQL = `insert into "knowledge"."document_terms" ("document_id", "term")
  select ?::uuid, t from jsonb_array_elements_text(?::jsonb) as t on conflict do nothing`;
const VOCABULARY_SQL = `insert into "knowledge"."terms" ("term")
  select t from jsonb_array_elements_text(?::jsonb) as t on conflict do nothing`;

type Publish = (stage: IngestionStage, extra?: Partial<IngestionEvent>) => Promise<void>;

const uploadIdUsed = (uploadId: string | null): AppError =>
  new AppError('BAD_USER_INPUT', { fields: [{ type: 'value_error', loc: ['input', 'uploadId'], msg: 'Value error, this upload id was already used', input: uploadId }] });

/** The title's default: the file name without its extension. */
export function defaultTitle(filename: string): string {
  const base = filename.split(/[/\\]/).pop() ?? filename;
  const stem = base.includes('.') && !base.startsWith('.') ? base.slice(0, base.lastIndexOf('.')) : base;
  return (stem.trim() || base.trim() || 'Untitled').slice(0, 200);
}

/**
 * Distinct words of the document (of 3+ chars), for misspelling corrections. Yields to the event
 * loop every few hundred chunks: a document of 5,000,000 characters takes a few hundred ms.
 */
async function termsOf(title: string, chunks: readonly Chunk[]): Promise<string[]> {
  const terms = new Set<string>();
  for (const [i, text] of [title, ...chunks.map((c) => c.content)].entries()) {
    for (const w of wordsOf(text)) if (w.length >= 3) terms.add(w);
    if (i % 500 === 499) await yieldToLoop();
  }
  return [...terms];
}

export class IngestionService {
  constructor(
    private readonly orm: MikroORM,
    private readonly peers: Peers,
    private readonly pubsub: PubSub,
    private readonly logger: Logger,
    private readonly idempotency: IdempotencyStore,
    private readonly leases: IngestionLeases,
    private readonly parser: ParserPool,
  ) {}

  /**
   * Stores a document; it is searchable when this returns.
   * @throws BAD_USER_INPUT; NOT_FOUND (conversation or organization); TENANT_MISMATCH;
   *   CONVERSATION_REQUIRED; INVALID_SHARE_SCOPE; ORGANIZATION_REQUIRED; FILE_TOO_LARGE;
   *   UNSUPPORTED_MEDIA_TYPE; EMPTY_FILE; DOCUMENT_UNREADABLE; DOCUMENT_TOO_LARGE; DEADLINE_EXCEEDED;
   *   IDEMPOTENCY_KEY_REUSED; IDEMPOTENCY_KEY_IN_PROGRESS
   */
  async upload(auth: UserContext, raw: UploadInput, opts: IdempotentCallOptions = {}): Promise<KnowledgeDocument> {
    const input = parseInput(uploadInput, raw);
    const uploadId = input.uploadId ?? null;
    const publish = (stage: IngestionStage, extra: Partial<IngestionEvent> = {}) =>
      uploadId ? this.pubsub.publish(ingestionChannel(auth.userId, uploadId), ingestionEvent(uploadId, stage, extra)) : Promise.resolve();
    const call = this.idempotency.callOf(auth, 'uploadKnowledgeDocument', opts.idempotencyKey, fingerprintOf(input));
    return this.idempotency.run(
      this.orm.em.fork(),
      call,
      async (record) => {
        try {
          return await this.ingest(auth, input, publish, { signal: opts.signal, record });
        } catch (err) {
          const code = err instanceof AppError ? err.code : 'INTERNAL';
          await publish('FAILED', { errorCode: ERROR_REGISTRY[code].rest ?? code.toLowerCase(), message: err instanceof AppError ? err.message : 'Internal server error' });
          throw err;
        }
      },
      reviveDocument,
    );
  }

  private async ingest(auth: UserContext, input: ParsedUploadInput, publish: Publish, bounds: Bounds): Promise<KnowledgeDocument> {
    const scope: DocumentScope = input.scope;
    const shared = input.shared ?? false;
    const conversationId = scope === 'conversation' ? (input.conversationId ?? null) : null;
    // Step 6: the conversation and the organization exist for the caller; the key's tenancy.
    if (conversationId !== null && !(isUuid(conversationId) && (await this.peers.ownsConversation(conversationId, auth.userId)))) throw notFound('Conversation');
    let organizationId: string | null = null;
    if (shared && scope === 'user') {
      if (auth.mode === 'api_key' && input.organizationId != null && input.organizationId !== auth.tenantId) throw new AppError('TENANT_MISMATCH');
      organizationId = input.organizationId ?? (auth.mode === 'api_key' ? auth.tenantId : null);
      if (organizationId !== null && !(isUuid(organizationId) && (await this.peers.isMember(organizationId, auth.userId)))) throw notFound('Organization');
    }
    // Step 8: semantic rules, then the file itself.
    if (scope === 'conversation' && conversationId === null) throw new AppError('CONVERSATION_REQUIRED');
    if (shared && scope === 'conversation') throw new AppError('INVALID_SHARE_SCOPE');
    if (shared && organizationId === null) throw new AppError('ORGANIZATION_REQUIRED');
    const b64 = input.file.contentBase64.replace(/\s+/g, '');
    if (!BASE64.test(b64) || b64.length % 4 === 1) {
      throw new AppError('BAD_USER_INPUT', { fields: [{ type: 'value_error', loc: ['input', 'file', 'contentBase64'], msg: 'Value error, not valid base64', input: null }] });
    }
    // The decoded size, known before decoding (the base64 is valid and whitespace-free here).
    if (Math.floor((b64.length * 3) / 4) - (b64.match(/=+$/)?.[0].length ?? 0) > MAX_UPLOAD_BYTES) throw fileTooLarge();
    const bytes = Buffer.from(b64, 'base64');
    const contentType = detectContentType(input.file.filename, input.file.contentType);
    if (bytes.length === 0) throw new AppError('EMPTY_FILE');
    // An upload id whose ingestion died (its lease lapsed) is free again.
    if (input.uploadId) await this.leases.reclaim(auth.userId, input.uploadId);
    if (input.uploadId && (await this.orm.em.fork().count(KnowledgeDocumentSchema, { ownerId: auth.userId, uploadId: input.uploadId })) > 0) throw uploadIdUsed(input.uploadId);

    const blocks = await extractBlocks(this.parser, bytes, contentType);
    checkDeadline(bounds.signal);
    await publish('PARSED');
    const title = input.title ?? defaultTitle(input.file.filename);
    const chunks: Chunk[] = [];
    for (const chunk of chunksOf(blocks)) {
      // Long documents: let other requests run every few hundred chunks.
      if (chunks.push(chunk) % 500 === 0) await yieldToLoop();
    }
    if (chunks.length === 0) throw new AppError('DOCUMENT_UNREADABLE');
    checkDeadline(bounds.signal);
    const total = chunks.length;
    await publish('CHUNKED', { chunksTotal: total });

    const doc: KnowledgeDocument = {
      id: randomUUID(),
      ownerId: auth.userId,
      title,
      filename: input.file.filename,
      contentType,
      sizeBytes: bytes.length,
      scope,
      conversationId,
      shared,
      organizationId,
      chunkCount: total,
      uploadId: input.uploadId ?? null,
      ready: true,
      createdAt: new Date(),
    };
    await this.store(doc, chunks, publish, bounds).catch((err: unknown) => {
      // Two uploads raced with one upload id: the second stores nothing.
      throw err instanceof UniqueConstraintViolationException ? uploadIdUsed(doc.uploadId) : err;
    });
    await publish('READY', { chunksDone: total, chunksTotal: total, documentId: doc.id });
    this.logger.info({ documentId: doc.id, chunks: total, bytes: bytes.length }, 'knowledge document ingested');
    return doc;
  }

  /**
   * Writes the document invisible (`ready = false`), its chunks in short transactions of
   * `BATCH` (so, on embedded PGlite too, other requests run between them), then its words, and
   * makes it visible in one last transaction (with the Idempotency-Key's result, after a last
   * deadline check). On any failure, or once the deadline passed, the document is deleted with
   * whatever chunks it had. The invisible row holds a lease this process renews meanwhile: if the
   * process dies mid-way, any knowledge process removes the row once the lease lapses.
   */
  private async store(doc: KnowledgeDocument, chunks: readonly Chunk[], publish: Publish, bounds: Bounds): Promise<void> {
    const total = chunks.length;
    const em = this.orm.em.fork();
    await em.insert(KnowledgeDocumentSchema, { ...doc, ready: false, leaseUntil: this.leases.fresh() });
    this.leases.hold(doc.id);
    try {
      for (let i = 0; i < total; i += BATCH) {
        checkDeadline(bounds.signal);
        const batch = chunks.slice(i, i + BATCH).map((c) => ({ i: c.index, c: c.content, h: c.headings }));
        await em.execute(CHUNKS_SQL, [doc.id, doc.title, JSON.stringify(batch)]);
        await publish('INDEXING', { chunksDone: Math.min(i + BATCH, total), chunksTotal: total });
        await yieldToLoop();
      }
      const terms = JSON.stringify(await termsOf(doc.title, chunks));
      await em.execute(TERMS_SQL, [doc.id, terms]);
      // Words stay in the vocabulary after their documents go: a stale word only costs a lookup.
      await em.execute(VOCABULARY_SQL, [terms]);
      await publish('INDEXED', { chunksDone: total, chunksTotal: total });
      await em.transactional(async (tx) => {
        // None when a sweep removed it (this process lost its lease): then the upload failed.
        if ((await tx.nativeUpdate(KnowledgeDocumentSchema, { id: doc.id, ready: false }, { ready: true })) === 0) throw new Error('ingestion lease lost: a sweep removed the document');
        await bounds.record?.(tx, doc);
        checkDeadline(bounds.signal);
      });
    } catch (err) {
      await this.orm.em
        .fork()
        .nativeDelete(KnowledgeDocumentSchema, { id: doc.id })
        .catch((cleanup: unknown) => this.logger.error({ err: cleanup, documentId: doc.id }, 'removing a failed ingestion failed'));
      throw err;
    } finally {
      this.leases.release(doc.id);
    }
  }

  /** The state of an upload for a new subscriber: READY when its document exists, else WAITING. */
  async stateOf(ownerId: string, uploadId: string): Promise<IngestionEvent> {
    const doc = await this.orm.em.fork().findOne(KnowledgeDocumentSchema, { ownerId, uploadId, ready: true });
    return doc
      ? ingestionEvent(uploadId, 'READY', { chunksDone: doc.chunkCount, chunksTotal: doc.chunkCount, documentId: doc.id })
      : ingestionEvent(uploadId, 'WAITING');
  }

  /** Drops the documents of a deleted conversation (chat's event). */
  async deleteConversationDocuments(em: EntityManager, ownerId: string, conversationId: string): Promise<number> {
    return em.nativeDelete(KnowledgeDocumentSchema, { ownerId, conversationId });
  }

  /** Un-shares the documents of a deleted organization; they stay with their owners (§4.13). */
  async unshareOrganization(em: EntityManager, organizationId: string): Promise<number> {
    return em.nativeUpdate(KnowledgeDocumentSchema, { organizationId }, { shared: false, organizationId: null });
  }
}
