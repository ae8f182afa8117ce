/** The per-request context of chat's resolvers, apart from the manifest so resolvers need not import index.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuthContext } from '../../kernel/context.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import type { ConversationService } from './conversation.service.ts';
import type { MessageService } from './message.service.ts';
import type { SessionService } from './session.service.ts';
import type { NoteService } from './note.service.ts';
import type { SearchService } from './search.service.ts';
import type { GenerationService } from './generation.service.ts';
import type { ChatLoaders } from './loaders.ts';

/** The services of chat, shared by every request of the process. */
export interface ChatServices {
  conversations: ConversationService;
  messages: MessageService;
  sessions: SessionService;
  notes: NoteService;
  search: SearchService;
  generation: GenerationService;
}

/** Per-request context of chat's resolvers. */
export interface ChatContext {
  auth: AuthContext | null;
  em: EntityManager;
  services: ChatServices;
  loaders: ChatLoaders;
  pubsub: PubSub;
  /** Aborts at the caller's deadline (kernel/deadline.ts). */
  signal: AbortSignal;
}
