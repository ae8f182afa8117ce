/** The knowledge subgraph manifest: documents, ingestion, search and RAG. */
import { loadSubgraphSdl } from '../../kernel/policy.ts';
import type { SubgraphManifest } from '../../kernel/server.ts';
import { subgraphClient } from '../../kernel/trpc.ts';
import { ProviderRegistry } from '../../kernel/ai/registry.ts';
import { CONVERSATION_DELETED, ORGANIZATION_DELETED, type ConversationDeletedEvent, type OrganizationDeletedEvent } from '../../kernel/events.ts';
import type { OrgsRouter } from '../orgs/router.ts';
import type { ChatRouter } from '../chat/router.ts';
import { KnowledgeDocumentSchema } from './document.entity.ts';
import { KnowledgeInitial } from './migrations/initial.migration.ts';
import { KnowledgeIdempotency } from './migrations/idempotency.migration.ts';
import { KnowledgeIngestionLeases } from './migrations/ingestion-leases.migration.ts';
import { IngestionLeases } from './ingestion.leases.ts';
import { IdempotencyStore } from '../../kernel/idempotency.ts';
import { DocumentService } from './document.service.ts';
import { IngestionService } from './ingestion.service.ts';
import { RagService } from './rag.service.ts';
import { LexicalRetriever } from './retriever.ts';
import { Peers } from './peers.ts';
import { ParserPool } from './parser-pool.ts';
import { createKnowledgeRouter } from './router.ts';
import { createLoaders } from './loaders.ts';
import type { KnowledgeContext, KnowledgeServices } from './context.ts';
import { resolvers } from './resolvers.ts';

export type { KnowledgeRouter } from './router.ts';
export type { KnowledgeServices, KnowledgeContext } from './context.ts';

export const typeDefs = loadSubgraphSdl(new URL('./schema.graphql', import.meta.url));

export const knowledge: SubgraphManifest<KnowledgeContext> = {
  name: 'knowledge',
  typeDefs,
  resolvers,
  entities: [KnowledgeDocumentSchema],
  migrations: [
    { name: 'knowledge-0001-initial', class: KnowledgeInitial },
    { name: 'knowledge-0002-idempotency', class: KnowledgeIdempotency },
    { name: 'knowledge-0003-ingestion-leases', class: KnowledgeIngestionLeases },
  ],
  setup({ config, orm, pubsub, logger }) {
    const peers = new Peers(subgraphClient<OrgsRouter>(config, 'knowledge', 'orgs'), subgraphClient<ChatRouter>(config, 'knowledge', 'chat'));
    const retriever = new LexicalRetriever();
    const documents = new DocumentService(peers, retriever);
    // A claim blocks retries until its upload has certainly passed its deadline (the longest an upload may get).
    const uploadDeadlineMs = Math.max(config.subgraphResilience.timeouts.knowledge ?? config.subgraphTimeoutMs, config.subgraphResilience.ingestionTimeoutMs);
    // Documents this process ingests hold a lease; those of processes that died are removed (ingestion.leases.ts).
    const leases = new IngestionLeases(orm, pubsub, config.ingestionLeaseMs, logger);
    leases.start();
    // Uploads are parsed in worker threads with a time and memory budget (parser-pool.ts).
    const parser = new ParserPool({ ...config.knowledgeParser, logger });
    const ingestion = new IngestionService(orm, peers, pubsub, logger, new IdempotencyStore('knowledge', uploadDeadlineMs + config.subgraphResilience.deadlineMarginMs), leases, parser);
    const services: KnowledgeServices = { documents, ingestion, rag: new RagService(documents, retriever, new ProviderRegistry(config.ai)) };

    // Other subgraphs' deletions: conversation-scoped documents go with their conversation (CONV-5);
    // an organization's shared documents go back to private (§4.13). Both are idempotent, so every
    // replica may apply them.
    const unsubscribers = Promise.all([
      pubsub.subscribe(CONVERSATION_DELETED, (payload) => {
        const e = payload as ConversationDeletedEvent;
        ingestion
          .deleteConversationDocuments(orm.em.fork(), e.userId, e.conversationId)
          .catch((err: unknown) => logger.error({ err, conversationId: e.conversationId }, 'deleting conversation documents failed'));
      }),
      pubsub.subscribe(ORGANIZATION_DELETED, (payload) => {
        const e = payload as OrganizationDeletedEvent;
        ingestion
          .unshareOrganization(orm.em.fork(), e.organizationId)
          .catch((err: unknown) => logger.error({ err, organizationId: e.organizationId }, 'un-sharing organization documents failed'));
      }),
    ]);

    return {
      router: createKnowledgeRouter(orm, documents, retriever),
      requestContext(auth, signal) {
        const em = orm.em.fork();
        return { auth, em, services, loaders: createLoaders(em, auth, documents), pubsub, signal };
      },
      async close() {
        for (const unsubscribe of await unsubscribers) unsubscribe();
        await leases.close();
        await parser.close();
      },
    };
  },
};
