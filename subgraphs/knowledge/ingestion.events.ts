/**
 * Ingestion progress: events are published per (owner, upload id), so only the uploader can follow
 * an upload. A subscription starts with WAITING (or READY when the document already exists) and
 * ends after READY or FAILED.
 */
import type { PubSub } from '../../kernel/pubsub.ts';
import { PubSubIterator } from '../../kernel/pubsub.iterator.ts';

export type IngestionStage = 'WAITING' | 'PARSED' | 'CHUNKED' | 'INDEXING' | 'INDEXED' | 'READY' | 'FAILED';

export interface IngestionEvent {
  uploadId: string;
  stage: IngestionStage;
  chunksDone: number;
  chunksTotal: number;
  progress: number;
  documentId: string | null;
  message: string | null;
  errorCode: string | null;
}

export const ingestionChannel = (ownerId: string, uploadId: string): string => `knowledge.ingestion.${ownerId}.${uploadId}`;

/** Overall progress for a stage (INDEXING moves from 0.15 to 0.95 with the chunks written). */
export function progressOf(stage: IngestionStage, done = 0, total = 0): number {
  switch (stage) {
    case 'WAITING':
      return 0;
    case 'PARSED':
      return 0.1;
    case 'CHUNKED':
      return 0.15;
    case 'INDEXING':
      return Math.round((0.15 + 0.8 * (total === 0 ? 1 : done / total)) * 1000) / 1000;
    case 'INDEXED':
      return 0.95;
    case 'READY':
      return 1;
    case 'FAILED':
      return 0;
  }
}

export function ingestionEvent(uploadId: string, stage: IngestionStage, extra: Partial<IngestionEvent> = {}): IngestionEvent {
  const chunksDone = extra.chunksDone ?? 0;
  const chunksTotal = extra.chunksTotal ?? 0;
  return {
    uploadId,
    stage,
    chunksDone,
    chunksTotal,
    progress: progressOf(stage, chunksDone, chunksTotal),
    documentId: extra.documentId ?? null,
    message: extra.message ?? null,
    errorCode: extra.errorCode ?? null,
  };
}

const TERMINAL: ReadonlySet<IngestionStage> = new Set(['READY', 'FAILED']);

/** One upload's events: `first`, then the live ones; done after a terminal stage. */
export class IngestionIterator implements AsyncIterableIterator<IngestionEvent> {
  private readonly live: PubSubIterator<IngestionEvent>;
  private pending: IngestionEvent[] = [];
  private finished = false;

  constructor(pubsub: PubSub, ownerId: string, uploadId: string) {
    this.live = new PubSubIterator<IngestionEvent>(pubsub, ingestionChannel(ownerId, uploadId));
  }

  /** Subscribes before the caller looks at the current state, so nothing falls in between. */
  async open(): Promise<void> {
    await this.live.open();
  }

  /** Queues the event describing the state found after `open`. */
  start(first: IngestionEvent): void {
    this.pending.push(first);
  }

  async next(): Promise<IteratorResult<IngestionEvent>> {
    if (this.finished) return { value: undefined, done: true };
    const value = this.pending.shift() ?? (await this.live.next()).value;
    if (value === undefined) return this.return();
    if (TERMINAL.has(value.stage)) {
      this.finished = true;
      await this.live.return();
    }
    return { value, done: false };
  }

  async return(): Promise<IteratorResult<IngestionEvent>> {
    this.finished = true;
    await this.live.return();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<IngestionEvent> {
    return this;
  }
}
