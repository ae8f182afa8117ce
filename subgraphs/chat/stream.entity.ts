/**
 * Generations and their events, kept so a client that lost its connection can resume a stream
 * (from any replica) within 60 s of its end without a new generation (CONV-2 streaming).
 */
import { createdAt, entitySchema, uuidId } from '../../kernel/entity-schema.ts';

export type StreamStatus = 'running' | 'done' | 'error';
export type StreamEventType = 'start' | 'chunk' | 'done' | 'error';

export interface ChatStream {
  id: string;
  userId: string;
  conversationId: string | null;
  provider: string;
  model: string;
  status: StreamStatus;
  createdAt: Date;
  finishedAt: Date | null;
  /** While `running`: until when its process holds it (stream.leases.ts); renewed, or the stream ends. */
  leaseUntil: Date | null;
}

export interface ChatStreamEventRow {
  streamId: string;
  seq: number;
  type: StreamEventType;
  data: Record<string, unknown>;
}

export const ChatStreamSchema = entitySchema<ChatStream>('ChatStream', 'streams', {
  ...uuidId(),
  userId: { type: 'uuid', fieldName: 'user_id' },
  conversationId: { type: 'uuid', nullable: true, fieldName: 'conversation_id' },
  provider: { type: 'string' },
  model: { type: 'string' },
  status: { type: 'string' },
  ...createdAt(),
  finishedAt: { type: 'Date', nullable: true, fieldName: 'finished_at' },
  leaseUntil: { type: 'Date', nullable: true, fieldName: 'lease_until' },
});

export const ChatStreamEventSchema = entitySchema<ChatStreamEventRow>('ChatStreamEvent', 'stream_events', {
  streamId: { type: 'uuid', primary: true, fieldName: 'stream_id' },
  seq: { type: 'integer', primary: true },
  type: { type: 'string' },
  data: { type: 'json' },
});
