/** Thin GraphQL adapter for knowledge: parse args, call a service, shape the result. */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireUser } from '../../kernel/authz.ts';
import { AppError } from '../../kernel/errors.ts';
import { isUuid } from '../../kernel/input.ts';
import type { KnowledgeContext } from './context.ts';
import type { DocumentScope, KnowledgeDocument } from './document.entity.ts';
import type { RetrievedChunk } from './retriever.ts';
import { IngestionIterator, type IngestionEvent } from './ingestion.events.ts';
import type { UploadInput } from './ingestion.service.ts';

type GqlScope = 'USER' | 'CONVERSATION';
const fromGql = (s: GqlScope | null | undefined): DocumentScope | undefined => (s == null ? undefined : s === 'USER' ? 'user' : 'conversation');
const toGql = (s: DocumentScope): GqlScope => (s === 'user' ? 'USER' : 'CONVERSATION');

const user = (ctx: KnowledgeContext) => requireUser(ctx.auth, null);

interface ListArgs {
  limit: number;
  offset: number;
  scope?: GqlScope | null;
  conversationId?: string | null;
  shared?: boolean | null;
  mine?: boolean | null;
}

type GqlUpload = Omit<UploadInput, 'scope'> & { scope?: GqlScope | null };

export const resolvers: GraphQLResolverMap<KnowledgeContext> = {
  DateTime: DateTimeScalar,
  Query: {
    knowledgeDocuments: (_: unknown, args: ListArgs, ctx: KnowledgeContext) =>
      ctx.services.documents.list(ctx.em, user(ctx), { ...args, scope: fromGql(args.scope) ?? null }),
    knowledgeDocument: (_: unknown, args: { id: string }, ctx: KnowledgeContext) => ctx.loaders.documentById.load(args.id),
    knowledgeSearch: (_: unknown, args: { input: { query: string; topK?: number | null; conversationId?: string | null; includeShared?: boolean | null } }, ctx: KnowledgeContext) =>
      ctx.services.documents.search(ctx.em, user(ctx), { ...args.input, topK: args.input.topK ?? undefined }, true),
  },
  Mutation: {
    uploadKnowledgeDocument: async (_: unknown, args: { input: GqlUpload; idempotencyKey?: string | null }, ctx: KnowledgeContext) => ({
      document: await ctx.services.ingestion.upload(user(ctx), { ...args.input, scope: fromGql(args.input.scope) }, { signal: ctx.signal, idempotencyKey: args.idempotencyKey }),
    }),
    deleteKnowledgeDocument: (_: unknown, args: { id: string }, ctx: KnowledgeContext) => ctx.services.documents.delete(ctx.em, user(ctx), args.id),
    ragQuery: (_: unknown, args: { input: { query: string; topK?: number | null; conversationId?: string | null; provider?: string | null } }, ctx: KnowledgeContext) =>
      ctx.services.rag.answer(ctx.em, user(ctx), { ...args.input, topK: args.input.topK ?? undefined }),
  },
  Subscription: {
    documentIngestion: {
      subscribe: async (_: unknown, args: { uploadId: string }, ctx: KnowledgeContext) => {
        const auth = user(ctx);
        if (!isUuid(args.uploadId)) {
          throw new AppError('BAD_USER_INPUT', { fields: [{ type: 'uuid_parsing', loc: ['uploadId'], msg: 'Input should be a valid UUID', input: args.uploadId }] });
        }
        const it = new IngestionIterator(ctx.pubsub, auth.userId, args.uploadId);
        await it.open();
        it.start(await ctx.services.ingestion.stateOf(auth.userId, args.uploadId));
        return it;
      },
      resolve: (e: IngestionEvent) => e,
    },
  },
  KnowledgeDocument: {
    __resolveReference: (ref: { id: string }, ctx: KnowledgeContext) => {
      requireUser(ctx.auth, 'rag:read');
      return ctx.loaders.documentById.load(ref.id);
    },
    scope: (d: KnowledgeDocument) => toGql(d.scope),
    owner: (d: KnowledgeDocument) => ({ __typename: 'User', id: d.ownerId }),
  },
  KnowledgeSearchHit: {
    scope: (h: RetrievedChunk) => toGql(h.scope),
    document: (h: RetrievedChunk, _: unknown, ctx: KnowledgeContext) => ctx.loaders.documentById.load(h.documentId),
  },
};
