/**
 * Reads one generation stream: stored events after a sequence number, then live ones from
 * PubSub, in order and without duplicates, ending after `done` or `error`. Written by hand (not an
 * async generator) so `return()` releases the PubSub subscription at once (an `async function*` cannot be closed while it awaits the next upstream event).
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { PubSub } from '../../kernel/pubsub.ts';
import { ChatStreamEventSchema, type StreamEventType } from './stream.entity.ts';

export interface StreamEvent {
  streamId: string;
  userId: string;
  seq: number;
  type: StreamEventType;
  /** `start`: a {@link StreamStart}; `chunk`: `{ delta }`; `done`: the ChatResponse; `error`: a {@link StreamFailure}. */
  data: Record<string, unknown>;
}

/** The data of a stream's `start` event (a type, not an interface, so a stored record narrows to it). */
export type StreamStart = {
  streamId: string;
  conversationId: string | null;
  provider: string;
  model: string;
};

/** The data of a stream's `error` event: the error code (as REST spells it) and its message. */
export interface StreamFailure {
  code: string;
  message: string;
}

export function streamChannel(streamId: string): string {
  return `chat.stream.${streamId}`;
}

export class StreamReader implements AsyncIterableIterator<StreamEvent> {
  private readonly pending = new Map<number, StreamEvent>();
  private nextSeq: number;
  private finished = false;
  private unsubscribe: (() => void) | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly pubsub: PubSub,
    private readonly orm: MikroORM,
    private readonly streamId: string,
    private readonly userId: string,
    afterSeq: number,
  ) {
    this.nextSeq = afterSeq + 1;
  }

  /** Subscribes first, then loads what is stored, so nothing published in between is missed. */
  async open(): Promise<void> {
    this.unsubscribe = await this.pubsub.subscribe(streamChannel(this.streamId), (payload) => {
      const e = payload as { seq: number; type: StreamEventType; data: Record<string, unknown> };
      this.add(e.seq, e.type, e.data);
    });
    // The terminal event too, even before `nextSeq`: then nothing follows and the reader ends.
    const rows = await this.orm.em
      .fork()
      .find(ChatStreamEventSchema, { streamId: this.streamId, $or: [{ seq: { $gte: this.nextSeq } }, { type: { $in: ['done', 'error'] } }] }, { orderBy: { seq: 'asc' } });
    for (const r of rows) this.add(r.seq, r.type, r.data);
  }

  private add(seq: number, type: StreamEventType, data: Record<string, unknown>): void {
    if (seq < this.nextSeq && (type === 'done' || type === 'error')) {
      // The stream ended at or before the point the reader starts from: nothing more will come.
      this.close();
      this.wake?.();
      return;
    }
    if (seq < this.nextSeq || this.pending.has(seq)) return;
    this.pending.set(seq, { streamId: this.streamId, userId: this.userId, seq, type, data });
    this.wake?.();
  }

  async next(): Promise<IteratorResult<StreamEvent>> {
    for (;;) {
      if (this.finished) return { value: undefined, done: true };
      const event = this.pending.get(this.nextSeq);
      if (event) {
        this.pending.delete(this.nextSeq);
        this.nextSeq += 1;
        // The terminal event is delivered; the following call reports done.
        if (event.type === 'done' || event.type === 'error') this.close();
        return { value: event, done: false };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }

  async return(): Promise<IteratorResult<StreamEvent>> {
    this.close();
    this.finished = true;
    this.wake?.();
    return { value: undefined, done: true };
  }

  private close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.pending.clear();
    this.finished = true;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StreamEvent> {
    return this;
  }
}
