/** PubSub channel of new messages in one conversation (other devices see replies appear). */
import type { Message } from './conversation.entity.ts';

/** A new message as published on {@link messageChannel}: the stored message, `createdAt` as ISO text. */
export type PublishedMessage = Omit<Message, 'createdAt'> & { createdAt: string };

export function messageChannel(conversationId: string): string {
  return `chat.messages.${conversationId}`;
}
