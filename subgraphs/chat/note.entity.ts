/** Notes (§3.2 CONV-14..17): owned by one user, optionally attached to a conversation. */
import { EntitySchema } from '@mikro-orm/postgresql';

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

export const NoteSchema = new EntitySchema<Note>({
  name: 'Note',
  tableName: 'notes',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    conversationId: { type: 'uuid', nullable: true, fieldName: 'conversation_id' },
    title: { type: 'string' },
    content: { type: 'text' },
    tags: { type: 'json' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    updatedAt: { type: 'Date', fieldName: 'updated_at' },
  },
});
