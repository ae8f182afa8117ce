/** Thin GraphQL adapter for chat: parse args, call a service, shape the result. */
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireUser } from '../../kernel/authz.ts';
import { requireFound } from '../../kernel/errors.ts';
import { lower, upper } from '../../kernel/enum-values.ts';
import type { ChatContext } from './context.ts';
import type { SearchCollection } from './search.indexer.ts';
import { parsePage } from './conversation.service.ts';
import type { Resolvers, SearchCollection as GqlCollection } from './schema.types.ts';

const toCollection = (c: GqlCollection): SearchCollection => lower(c);
const fromCollection = (c: SearchCollection): GqlCollection => upper(c);

const user = (ctx: ChatContext) => requireUser(ctx.auth, null);

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    conversations: (_, args, ctx) => ctx.services.conversations.list(ctx.em, user(ctx), args),
    conversation: (_, args, ctx) => ctx.services.conversations.find(ctx.em, user(ctx).userId, args.id),
    conversationSessionStatus: async (_, args, ctx) => {
      const { session } = await ctx.services.sessions.status(ctx.em, user(ctx), args.conversationId);
      return { conversationId: args.conversationId, active: session !== null, session, elapsedSeconds: session?.elapsedSeconds ?? 0 };
    },
    notes: (_, args, ctx) =>
      ctx.services.notes.list(ctx.em, user(ctx), { limit: args.limit, offset: args.offset, ...(args.conversationId != null && { conversationId: args.conversationId }) }),
    note: (_, args, ctx) => ctx.services.notes.find(ctx.em, user(ctx), args.id),
    contentSearch: (_, args, ctx) => {
      const { query, types, limit } = args.input;
      return ctx.services.search.search(ctx.em, user(ctx), { query, ...(types != null && { types: types.map(toCollection) }), ...(limit != null && { limit }) });
    },
    contentSearchStatus: (_, __, ctx) => ctx.services.search.status(ctx.em),
  },
  Mutation: {
    createConversation: async (_, args, ctx) => ({
      // A null title means "not given" (the default title), as in REST.
      conversation: await ctx.services.conversations.create(ctx.em, user(ctx), { ...(args.input.title != null && { title: args.input.title }), provider: args.input.provider ?? null }),
    }),
    deleteConversation: async (_, args, ctx) => ({ id: await ctx.services.conversations.delete(ctx.em, user(ctx), args.id) }),
    startConversationSession: async (_, args, ctx) => {
      const session = await ctx.services.sessions.start(ctx.em, user(ctx), args.conversationId);
      return { session, resumed: session.resumed };
    },
    recordConversationActivity: async (_, args, ctx) => ({
      session: await ctx.services.sessions.activity(ctx.em, user(ctx), args.conversationId),
    }),
    endConversationSession: async (_, args, ctx) => ({
      session: await ctx.services.sessions.end(ctx.em, user(ctx), args.conversationId),
    }),
    createNote: async (_, args, ctx) => {
      const { title, content, conversationId, tags } = args.input;
      // Nulls of optional fields mean "not given" (defaults apply), as in REST.
      const input = { title, ...(content != null && { content }), ...(conversationId != null && { conversationId }), ...(tags != null && { tags }) };
      return { note: await ctx.services.notes.create(ctx.em, user(ctx), input) };
    },
    // Passed as given: an explicit null conversationId detaches, a null title is refused.
    updateNote: async (_, args, ctx) => ({
      note: await ctx.services.notes.update(ctx.em, user(ctx), args.id, args.input),
    }),
    deleteNote: async (_, args, ctx) => ({ id: await ctx.services.notes.delete(ctx.em, user(ctx), args.id) }),
    reindexContentSearch: async (_, args, ctx) => {
      const collections = args.input?.collections;
      const result = await ctx.services.search.reindex(ctx.em, user(ctx), {
        ...(collections ? { collections: collections.map(toCollection) } : {}),
        userId: args.input?.userId ?? null,
      });
      return { ...result, collections: result.collections.map(fromCollection) };
    },
  },
  User: {
    // A user's conversations are private: the caller's own list, else an empty page.
    conversations: (ref, args, ctx) => {
      if (!ctx.auth?.userId || ctx.auth.userId !== ref.id) return { items: [], total: 0, limit: args.limit, offset: args.offset };
      requireUser(ctx.auth, 'conversations:read');
      return ctx.loaders.conversationPage.load({ parentId: ref.id, ...parsePage(args) });
    },
  },
  Conversation: {
    __resolveReference: (ref, ctx) => {
      requireUser(ctx.auth, 'conversations:read');
      return ctx.loaders.conversationById.load(ref.id);
    },
    user: (c) => ({ __typename: 'User', id: c.userId }),
    messages: (c, args, ctx) => ctx.loaders.messagePage.load({ parentId: c.id, ...parsePage(args) }),
  },
  Message: {
    // A message is reached only through its conversation, which the caller may read; should the
    // conversation be deleted in between, the field is NOT_FOUND.
    conversation: async (m, _, ctx) => requireFound(await ctx.loaders.conversationById.load(m.conversationId), 'Conversation'),
    user: (m) => ({ __typename: 'User', id: m.userId }),
    role: (m) => upper(m.role),
  },
  Note: {
    conversation: (n, _, ctx) => (n.conversationId ? ctx.loaders.conversationById.load(n.conversationId) : null),
  },
  ConversationSession: {
    status: (s) => (s.endedAt ? 'ENDED' : 'ACTIVE'),
    endReason: (s) => (s.endReason ? upper(s.endReason) : null),
    elapsedSeconds: (s) => s.elapsedSeconds,
  },
  ConversationSearchHit: {
    conversation: (h, _, ctx) => ctx.loaders.conversationById.load(h.conversationId),
  },
  MessageSearchHit: {
    role: (h) => upper(h.role),
  },
  SearchCollectionStatus: {
    name: (s) => fromCollection(s.name),
  },
} satisfies Resolvers;
