/** Thin GraphQL adapter for knowledge: parse args, call a service, shape the result. */
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireUser } from '../../kernel/authz.ts';
import { AppError, requireFound } from '../../kernel/errors.ts';
import { lower, upper } from '../../kernel/enum-values.ts';
import { isUuid } from '../../kernel/input.ts';
import type { KnowledgeContext } from './context.ts';
import type { DocumentScope } from './document.entity.ts';
import { IngestionIterator, type IngestionEvent } from './ingestion.events.ts';
import type { DocumentScope as GqlScope, Resolvers } from './schema.types.ts';

const fromGql = (s: GqlScope | null | undefined): DocumentScope | undefined => (s == null ? undefined : lower(s));
const toGql = (s: DocumentScope): GqlScope => upper(s);

const user = (ctx: KnowledgeContext) => requireUser(ctx.auth, null);

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    knowledgeDocuments: (_, args, ctx) =>
      ctx.services.documents.list(ctx.em, user(ctx), { ...args, scope: fromGql(args.scope) ?? null }),
    knowledgeDocument: (_, args, ctx) => ctx.loaders.documentById.load(args.id),
    knowledgeSearch: (_, args, ctx) =>
      ctx.services.documents.search(ctx.em, user(ctx), { ...args.input, topK: args.input.topK ?? undefined }, true),
  },
  Mutation: {
    uploadKnowledgeDocument: async (_, args, ctx) => ({
      document: await ctx.services.ingestion.upload(user(ctx), { ...args.input, scope: fromGql(args.input.scope) }, { signal: ctx.signal, idempotencyKey: args.idempotencyKey }),
    }),
    deleteKnowledgeDocument: (_, args, ctx) => ctx.services.documents.delete(ctx.em, user(ctx), args.id),
    ragQuery: (_, args, ctx) =>
      ctx.services.rag.answer(ctx.em, user(ctx), { ...args.input, topK: args.input.topK ?? undefined }),
  },
  Subscription: {
    documentIngestion: {
      subscribe: async (_, args, ctx) => {
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
    __resolveReference: (ref, ctx) => {
      requireUser(ctx.auth, 'rag:read');
      return ctx.loaders.documentById.load(ref.id);
    },
    scope: (d) => toGql(d.scope),
    owner: (d) => ({ __typename: 'User', id: d.ownerId }),
  },
  KnowledgeSearchHit: {
    scope: (h) => toGql(h.scope),
    // The search found this chunk for the caller in this same request, so its document is one they
    // may read; should it be deleted in between, the field is NOT_FOUND.
    document: async (h, _, ctx) => requireFound(await ctx.loaders.documentById.load(h.documentId), 'Document'),
  },
} satisfies Resolvers;
