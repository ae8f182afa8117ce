/** Notes (§3.2 CONV-14..17): owned by one user, optionally attached to a conversation. */
import { entitySchema, timestamps, uuidId } from '../../kernel/entity-schema.ts';

export interface Note {
  id: string;
  userId: string;
  /** Set to null when the conversation is deleted (the note survives, detached). */
  conversationId: string | null;
  title: string;
  content: string;
  /** Distinct, in the order first given. */
  tags: string[];
  createdAt: Date;
  updatedAt: Date;
}

export const NoteSchema = entitySchema<Note>('Note', 'notes', {
  ...uuidId(),
  userId: { type: 'uuid', fieldName: 'user_id' },
  conversationId: { type: 'uuid', nullable: true, fieldName: 'conversation_id' },
  title: { type: 'string' },
  content: { type: 'text' },
  tags: { type: 'json' },
  ...timestamps(),
});
