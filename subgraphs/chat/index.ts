/** The chat subgraph manifest: conversations, messages, conversation sessions, notes and user-content search. */
import { loadSubgraphSdl } from '../../kernel/policy.ts';
import type { SubgraphManifest } from '../../kernel/server.ts';
import { subgraphClient } from '../../kernel/trpc.ts';
import type { IdentityRouter } from '../identity/router.ts';
import type { KnowledgeRouter } from '../knowledge/router.ts';
import type { LearningRouter } from '../learning/router.ts';
import { LearningOutbox } from './outbox.ts';
import { ChatOutbox } from './migrations/outbox.migration.ts';
import { KnowledgeGateway } from './knowledge.client.ts';
import { ConversationSchema, MessageSchema } from './conversation.entity.ts';
import { ConversationSessionSchema } from './session.entity.ts';
import { NoteSchema } from './note.entity.ts';
import { ChatInitial } from './migrations/initial.migration.ts';
import { ConversationService } from './conversation.service.ts';
import { MessageService } from './message.service.ts';
import { SessionService } from './session.service.ts';
import { NoteService } from './note.service.ts';
import { SearchService } from './search.service.ts';
import { IdentityGateway } from './identity.client.ts';
import { createChatRouter } from './router.ts';
import { createLoaders } from './loaders.ts';
import type { ChatContext, ChatServices } from './context.ts';
import { resolvers } from './resolvers.ts';
import { aiResolvers } from './ai.resolvers.ts';
import { ChatStreamEventSchema, ChatStreamSchema } from './stream.entity.ts';
import { ChatStreams } from './migrations/streams.migration.ts';
import { ChatStreamLeases } from './migrations/stream-leases.migration.ts';
import { ChatStreamEventData } from './migrations/stream-event-data.migration.ts';
import { StreamStore } from './stream.store.ts';
import { ChatIdempotency } from './migrations/idempotency.migration.ts';
import { IdempotencyStore } from '../../kernel/idempotency.ts';
import { GenerationService } from './generation.service.ts';
import { ProviderRegistry } from '../../kernel/ai/registry.ts';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';

/** Merges resolver maps; the root types are merged field by field (ai.resolvers extends them). */
function mergeResolvers<T>(base: GraphQLResolverMap<T>, extra: GraphQLResolverMap<T>): GraphQLResolverMap<T> {
  const out: Record<string, unknown> = { ...base, ...extra };
  for (const root of ['Query', 'Mutation', 'Subscription']) {
    const a = base[root];
    const b = extra[root];
    if (a && b) out[root] = { ...a, ...b };
  }
  return out as GraphQLResolverMap<T>;
}

export type { ChatRouter } from './router.ts';
export type { ChatServices, ChatContext } from './context.ts';

// The generation part of the schema lives in ai.graphql (providers, chat, streamed replies).
export const typeDefs = loadSubgraphSdl(new URL('./schema.graphql', import.meta.url), new URL('./ai.graphql', import.meta.url));

export const chat: SubgraphManifest<ChatContext> = {
  name: 'chat',
  typeDefs,
  resolvers: mergeResolvers(resolvers, aiResolvers),
  entities: [ConversationSchema, MessageSchema, ConversationSessionSchema, NoteSchema, ChatStreamSchema, ChatStreamEventSchema],
  migrations: [
    { name: 'chat-0001-initial', class: ChatInitial },
    { name: 'chat-0002-streams', class: ChatStreams },
    { name: 'chat-0003-idempotency', class: ChatIdempotency },
    { name: 'chat-0004-stream-leases', class: ChatStreamLeases },
    { name: 'chat-0005-learning-outbox', class: ChatOutbox },
    { name: 'chat-0006-stream-event-data', class: ChatStreamEventData },
  ],
  setup({ config, orm, pubsub, logger }) {
    const identity = new IdentityGateway(subgraphClient<IdentityRouter>(config, 'chat', 'identity'));
    const knowledge = new KnowledgeGateway(
      subgraphClient<KnowledgeRouter>(config, 'chat', 'knowledge'),
      logger,
    );
    // Awards owed to learning (session ends, CONV-2 calls): delivered after commit, retried until taken.
    const outbox = new LearningOutbox(
      orm,
      subgraphClient<LearningRouter>(config, 'chat', 'learning'),
      logger,
      1000,
    );
    outbox.start();
    const conversations = new ConversationService(pubsub);
    // Streams this process runs hold a lease; streams of processes that died are ended (stream.store.ts).
    const streams = new StreamStore(orm, pubsub, config.streamLeaseMs, logger);
    streams.start();
    // A claim blocks retries until its call has certainly passed its deadline (the longest a chat call may get).
    const chatDeadlineMs = Math.max(config.subgraphResilience.timeouts.chat ?? config.subgraphTimeoutMs, config.ai.timeoutMs + config.trpcTimeoutMs);
    const idempotency = new IdempotencyStore('chat', chatDeadlineMs + config.subgraphResilience.deadlineMarginMs);
    const services: ChatServices = {
      conversations,
      messages: new MessageService(),
      sessions: new SessionService(conversations, pubsub, config.chatSessionIdleSeconds, outbox),
      notes: new NoteService(conversations),
      search: new SearchService(identity),
      generation: new GenerationService(orm, new ProviderRegistry(config.ai), conversations, new MessageService(), pubsub, logger, knowledge, idempotency, streams, outbox),
    };
    return {
      router: createChatRouter(orm, conversations),
      requestContext(auth, signal) {
        const em = orm.em.fork();
        return { auth, em, services, loaders: createLoaders(em, auth.userId, conversations), pubsub, signal };
      },
      close: async () => {
        await outbox.close();
        await streams.close();
      },
    };
  },
};
