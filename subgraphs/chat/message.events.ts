/** PubSub channel of new messages in one conversation (other devices see replies appear). */
export function messageChannel(conversationId: string): string {
  return `chat.messages.${conversationId}`;
}
