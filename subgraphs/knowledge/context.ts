/** The per-request context of knowledge's resolvers, apart from the manifest so resolvers need not import index.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuthContext } from '../../kernel/context.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import type { DocumentService } from './document.service.ts';
import type { IngestionService } from './ingestion.service.ts';
import type { RagService } from './rag.service.ts';
import type { KnowledgeLoaders } from './loaders.ts';

/** The services of knowledge, shared by every request of the process. */
export interface KnowledgeServices {
  documents: DocumentService;
  ingestion: IngestionService;
  rag: RagService;
}

/** Per-request context of knowledge's resolvers. */
export interface KnowledgeContext {
  auth: AuthContext | null;
  em: EntityManager;
  services: KnowledgeServices;
  loaders: KnowledgeLoaders;
  pubsub: PubSub;
  /** Aborts at the caller's deadline (kernel/deadline.ts). */
  signal: AbortSignal;
}
