/** Conversation sessions (§3.2 CONV-7..10, §4.7): at most one active per user and conversation. */
import { entitySchema, uuidId } from '../../kernel/entity-schema.ts';

export type SessionEndReason = 'client' | 'timeout';

export interface ConversationSession {
  id: string;
  userId: string;
  conversationId: string;
  startedAt: Date;
  lastActivityAt: Date;
  /** Null while the session is active. */
  endedAt: Date | null;
  endReason: SessionEndReason | null;
  /** `floor(endedAt − startedAt)` in seconds, once ended. */
  durationSeconds: number | null;
  /** §4.2 `chat_session` base award, once ended. */
  xpAwarded: number | null;
}

export const ConversationSessionSchema = entitySchema<ConversationSession>('ConversationSession', 'conversation_sessions', {
  ...uuidId(),
  userId: { type: 'uuid', fieldName: 'user_id' },
  conversationId: { type: 'uuid', fieldName: 'conversation_id' },
  startedAt: { type: 'Date', fieldName: 'started_at' },
  lastActivityAt: { type: 'Date', fieldName: 'last_activity_at' },
  endedAt: { type: 'Date', nullable: true, fieldName: 'ended_at' },
  endReason: { type: 'string', nullable: true, fieldName: 'end_reason' },
  durationSeconds: { type: 'integer', nullable: true, fieldName: 'duration_seconds' },
  xpAwarded: { type: 'integer', nullable: true, fieldName: 'xp_awarded' },
});
