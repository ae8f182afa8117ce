/**
 * Chat generation (CONV-1, CONV-2 and its streaming extension): resolves the
 * provider, builds the prompt (stored history or the request's), and either answers in one go or
 * runs a resumable stream whose events are stored and published, so any replica can serve or
 * resume them. Replies of stored conversations are saved only when the generation succeeds, and
 * a non-streamed reply only within the caller's deadline (kernel/deadline.ts); with an
 * Idempotency-Key, a retry gets the first reply instead of a second generation.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../../kernel/errors.ts';
import { parseInput } from '../../kernel/input.ts';
import { checkDeadline } from '../../kernel/deadline.ts';
import type { IdempotencyStore, IdempotentCallOptions, RecordResult } from '../../kernel/idempotency.ts';
import type { UserContext } from '../../kernel/authz.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import type { ConversationService } from './conversation.service.ts';
import type { MessageService } from './message.service.ts';
import type { ProviderRegistry, ResolvedProvider } from '../../kernel/ai/registry.ts';
import { usageOf, type ChatTurn, type Usage } from '../../kernel/ai/provider.ts';
import { groundingTurns } from '../../kernel/ai/grounding.ts';
import type { KnowledgeGateway } from './knowledge.client.ts';
import { ChatStreamSchema } from './stream.entity.ts';
import { StreamReader, type StreamEvent, type StreamFailure, type StreamStart } from './stream.reader.ts';
import { StreamEnded, type StreamStore } from './stream.store.ts';
import { messageChannel } from './message.events.ts';
import type { LearningOutbox } from './outbox.ts';

/** A stream stays resumable this long after its `done` or `error`. */
export const RESUME_WINDOW_MS = 60_000;

const chatInput = z.object({
  message: z.string().min(1).max(20_000),
  provider: z.string().min(1).max(50).nullable().optional(),
  conversationHistory: z
    .array(z.object({ role: z.enum(['user', 'assistant', 'system']), content: z.string().min(1).max(20_000) }))
    .max(50)
    .nullable()
    .optional(),
  userLanguage: z.string().min(1).max(35).nullable().optional(),
  conversationId: z.uuid().nullable().optional(),
});
export type ChatInput = z.input<typeof chatInput>;
type ParsedChatInput = z.infer<typeof chatInput>;

/** What an Idempotency-Key compares: the input with its defaults filled in. */
function fingerprintOf(input: ParsedChatInput): Record<string, unknown> {
  return {
    message: input.message,
    provider: input.provider ?? null,
    conversationHistory: input.conversationHistory ?? [],
    userLanguage: input.userLanguage ?? null,
    conversationId: input.conversationId ?? null,
  };
}

/** CONV-2's `ChatResponse` (also the data of a stream's `done` event). */
/** A reply (a type, not an interface, so a stored `done` event's record narrows to it). */
export type ChatResponse = {
  content: string;
  provider: string;
  model: string;
  usage: Usage | null;
  conversationId: string | null;
  messageId: string | null;
};

interface Prepared {
  input: ParsedChatInput;
  resolved: ResolvedProvider;
  turns: ChatTurn[];
}

export class GenerationService {
  constructor(
    private readonly orm: MikroORM,
    readonly registry: ProviderRegistry,
    private readonly conversations: ConversationService,
    private readonly messages: MessageService,
    private readonly pubsub: PubSub,
    private readonly logger: Logger,
    private readonly knowledge: KnowledgeGateway,
    private readonly idempotency: IdempotencyStore,
    private readonly streams: StreamStore,
    private readonly outbox: LearningOutbox,
  ) {}

  /**
   * Validates, resolves the provider and builds the prompt — everything that can fail before a
   * generation starts. @throws UNKNOWN_PROVIDER, NOT_FOUND (conversation)
   */
  private async prepare(em: EntityManager, auth: UserContext, input: ParsedChatInput): Promise<Prepared> {
    const resolved = this.registry.resolve(input.provider);
    const turns: ChatTurn[] = [];
    if (input.userLanguage && resolved.provider.id !== 'local') turns.push({ role: 'system', content: `Answer in the language "${input.userLanguage}".` });
    // With a stored conversation its last 50 messages are the history; the request's is ignored.
    const history: ChatTurn[] = input.conversationId
      ? (await this.messages.history(em, auth.userId, input.conversationId, 50)).map((m) => ({ role: m.role, content: m.content }))
      : (input.conversationHistory ?? []);
    // Grounding: the caller's best knowledge passages for this message (outside any transaction).
    const passages = await this.knowledge.passages(auth, input.message, input.conversationId ?? null);
    turns.push(...groundingTurns(passages, resolved.provider), ...history, { role: 'user', content: input.message });
    return { input, resolved, turns };
  }

  /**
   * CONV-2 without streaming. Nothing is stored when the provider fails or the deadline passes.
   * @throws BAD_USER_INPUT, UNKNOWN_PROVIDER, NOT_FOUND, PROVIDER_ERROR, DEADLINE_EXCEEDED,
   *   IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_KEY_IN_PROGRESS
   */
  async chat(em: EntityManager, auth: UserContext, raw: ChatInput, opts: IdempotentCallOptions = {}): Promise<ChatResponse> {
    const input = parseInput(chatInput, raw);
    const { signal } = opts;
    const call = this.idempotency.callOf(auth, 'chat', opts.idempotencyKey, fingerprintOf(input));
    return this.idempotency.run(
      em,
      call,
      async (record) => {
        const prepared = await this.prepare(em, auth, input);
        checkDeadline(signal);
        let content = '';
        try {
          for await (const delta of prepared.resolved.provider.generate(prepared.turns, { model: prepared.resolved.model, signal })) content += delta;
        } catch (err) {
          checkDeadline(signal); // aborted by the deadline rather than failed upstream
          throw err;
        }
        return this.complete(em, auth, prepared, content, { signal, record });
      },
      (stored) => stored as ChatResponse,
    );
  }

  /**
   * CONV-2 streaming: checks everything that can fail up front, then runs the generation in the
   * background (it completes, and stores the reply, even if every client leaves).
   * @returns the stream id; read it with `events`.
   */
  async start(em: EntityManager, auth: UserContext, raw: ChatInput, opts: { idempotencyKey?: string | null } = {}): Promise<string> {
    const input = parseInput(chatInput, raw);
    // With a key, a retry gets the first stream's id (its events replay from the start).
    const call = this.idempotency.callOf(auth, 'chatStream', opts.idempotencyKey, fingerprintOf(input));
    return this.idempotency.run(em, call, () => this.begin(em, auth, input), (stored) => String(stored));
  }

  private async begin(em: EntityManager, auth: UserContext, input: ParsedChatInput): Promise<string> {
    const prepared = await this.prepare(em, auth, input);
    const streamId = randomUUID();
    await this.pruneFinished();
    await this.streams.create({
      id: streamId,
      userId: auth.userId,
      conversationId: prepared.input.conversationId ?? null,
      provider: prepared.resolved.requested,
      model: prepared.resolved.model,
      createdAt: new Date(),
    });
    try {
      const start: StreamStart = { streamId, conversationId: prepared.input.conversationId ?? null, provider: prepared.resolved.requested, model: prepared.resolved.model };
      await this.streams.emit(streamId, 0, 'start', start);
    } catch (err) {
      // Never run: its lease lapses and a sweep ends it.
      this.streams.release(streamId);
      throw err;
    }
    void this.run(streamId, auth, prepared);
    return streamId;
  }

  /**
   * The events of a stream after `afterSeq`, then the live remainder; ends after `done`/`error`.
   * @throws NOT_FOUND "Stream not found" (another user's, unknown, or past the resume window)
   */
  async events(auth: UserContext, streamId: string, afterSeq: number): Promise<AsyncIterableIterator<StreamEvent>> {
    const stream = z.uuid().safeParse(streamId).success ? await this.orm.em.fork().findOne(ChatStreamSchema, { id: streamId, userId: auth.userId }) : null;
    if (!stream || (stream.finishedAt && stream.finishedAt.getTime() < Date.now() - RESUME_WINDOW_MS)) throw notFound('Stream');
    // A stream whose process died: ended here (with its `error` event) if no sweep got to it yet.
    await this.streams.endIfLapsed(stream);
    const reader = new StreamReader(this.pubsub, this.orm, stream.id, stream.userId, afterSeq);
    await reader.open();
    return reader;
  }

  private async run(streamId: string, auth: UserContext, prepared: Prepared): Promise<void> {
    let seq = 0;
    let content = '';
    try {
      for await (const delta of prepared.resolved.provider.generate(prepared.turns, { model: prepared.resolved.model })) {
        seq += 1;
        content += delta;
        await this.streams.emit(streamId, seq, 'chunk', { delta });
      }
      const response = await this.complete(this.orm.em.fork(), auth, prepared, content);
      await this.streams.emit(streamId, seq + 1, 'done', response);
      await this.streams.finish(streamId, 'done');
    } catch (err) {
      if (err instanceof StreamEnded) {
        // This process lost its lease (the database was out of its reach for a whole lease) and
        // another ended the stream with an `error` event: nothing more is written.
        this.streams.release(streamId);
        this.logger.warn({ streamId }, 'stream ended by a sweep while generating');
        return;
      }
      const app = err instanceof AppError ? err : new AppError('PROVIDER_ERROR', { cause: err });
      if (!(err instanceof AppError)) this.logger.error({ err, streamId }, 'generation failed');
      const failure: StreamFailure = { code: app.code === 'PROVIDER_ERROR' ? 'provider_error' : app.code.toLowerCase(), message: app.message };
      await this.streams.emit(streamId, seq + 1, 'error', failure).catch(() => {});
      await this.streams.finish(streamId, 'error').catch(() => {});
    }
  }

  /**
   * Stores both turns of a stored conversation (after success only) and shapes the response. The
   * turns, and the Idempotency-Key's result, commit in one transaction that the deadline is
   * checked in last.
   */
  private async complete(
    em: EntityManager,
    auth: UserContext,
    prepared: Prepared,
    content: string,
    opts: { signal?: AbortSignal; record?: RecordResult<ChatResponse> } = {},
  ): Promise<ChatResponse> {
    const { input, resolved, turns } = prepared;
    const response = (messageId: string | null): ChatResponse => ({
      content,
      provider: resolved.requested,
      model: resolved.model,
      usage: usageOf(turns, content),
      conversationId: input.conversationId ?? null,
      messageId,
    });
    const conversationId = input.conversationId;
    // Every CONV-2 call counts for the chat-messages quest (§4.5), owed to learning through the outbox.
    const message = (sourceId: string) => ({ source: 'chat_message' as const, sourceId, userId: auth.userId, baseXp: 0, amount: 1 });
    if (!conversationId) {
      await this.outbox.record(message(randomUUID()));
      return response(null);
    }
    let owed = '';
    const { stored, result } = await em.transactional(async (tx) => {
      checkDeadline(opts.signal);
      const stored = await this.messages.appendTurns(tx, auth.userId, conversationId, [
        { role: 'user', content: input.message },
        { role: 'assistant', content, provider: resolved.provider.id, model: resolved.model },
      ]);
      const result = response(stored[1]?.id ?? null);
      owed = await this.outbox.enqueue(tx, message(stored[0]?.id ?? randomUUID()));
      await opts.record?.(tx, result);
      checkDeadline(opts.signal);
      return { stored, result };
    });
    void this.outbox.send([owed]);
    for (const m of stored) await this.pubsub.publish(messageChannel(conversationId), { ...m, createdAt: m.createdAt.toISOString() });
    return result;
  }

  /** Drops streams that can no longer be resumed. */
  private async pruneFinished(): Promise<void> {
    await this.orm.em.fork().nativeDelete(ChatStreamSchema, { finishedAt: { $lt: new Date(Date.now() - RESUME_WINDOW_MS * 5) } });
  }
}
