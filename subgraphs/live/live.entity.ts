/** Nicknames and transcripts (LIVE-5..8). Sessions, usage and the XP outbox are written in SQL (session.sql.ts). */
import { createdAt, entitySchema, uuidId } from '../../kernel/entity-schema.ts';

export interface LiveNickname {
  userId: string;
  nickname: string;
  updatedAt: Date;
}

/** One turn of a transcript, as stored (in order). */
export interface TranscriptTurn {
  role: 'user' | 'ai';
  text: string;
  /** ISO-8601 UTC. */
  timestamp: string;
}

export interface LiveTranscript {
  id: string;
  userId: string;
  sessionId: string | null;
  sessionStartedAt: Date;
  sessionEndedAt: Date;
  durationSeconds: number;
  turnCount: number;
  preview: string;
  turns: TranscriptTurn[];
  createdAt: Date;
}

export const LiveNicknameSchema = entitySchema<LiveNickname>('LiveNickname', 'nicknames', {
  userId: { type: 'uuid', primary: true, fieldName: 'user_id' },
  nickname: { type: 'string' },
  updatedAt: { type: 'Date', fieldName: 'updated_at' },
});

export const LiveTranscriptSchema = entitySchema<LiveTranscript>('LiveTranscript', 'transcripts', {
  ...uuidId(),
  userId: { type: 'uuid', fieldName: 'user_id' },
  sessionId: { type: 'uuid', nullable: true, fieldName: 'session_id' },
  sessionStartedAt: { type: 'Date', fieldName: 'session_started_at' },
  sessionEndedAt: { type: 'Date', fieldName: 'session_ended_at' },
  durationSeconds: { type: 'integer', fieldName: 'duration_seconds' },
  turnCount: { type: 'integer', fieldName: 'turn_count' },
  preview: { type: 'string' },
  turns: { type: 'json' },
  ...createdAt(),
});
