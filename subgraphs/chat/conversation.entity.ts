/** Conversations and their messages (§3.2), owned by one user each. */
import { createdAt, entitySchema, timestamps, uuidId } from '../../kernel/entity-schema.ts';

export type MessageRole = 'user' | 'assistant';

export interface Conversation {
  id: string;
  userId: string;
  title: string;
  /** The provider id given at creation (see provider.registry.ts), or null. */
  provider: string | null;
  /** Kept in step with the messages by `MessageService.appendTurns`, in the same transaction. */
  messageCount: number;
  lastMessageAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Message {
  id: string;
  conversationId: string;
  userId: string;
  role: MessageRole;
  content: string;
  /** Provider and model of an assistant turn; both null for user turns. */
  provider: string | null;
  model: string | null;
  createdAt: Date;
}

export const ConversationSchema = entitySchema<Conversation>('Conversation', 'conversations', {
  ...uuidId(),
  userId: { type: 'uuid', fieldName: 'user_id' },
  title: { type: 'string' },
  provider: { type: 'string', nullable: true },
  messageCount: { type: 'integer', fieldName: 'message_count' },
  lastMessageAt: { type: 'Date', nullable: true, fieldName: 'last_message_at' },
  ...timestamps(),
});

export const MessageSchema = entitySchema<Message>('Message', 'messages', {
  ...uuidId(),
  conversationId: { type: 'uuid', fieldName: 'conversation_id' },
  userId: { type: 'uuid', fieldName: 'user_id' },
  role: { type: 'string' },
  content: { type: 'text' },
  provider: { type: 'string', nullable: true },
  model: { type: 'string', nullable: true },
  ...createdAt(),
});
