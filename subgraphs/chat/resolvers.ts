/** Thin GraphQL adapter for chat: parse args, call a service, shape the result. */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireUser } from '../../kernel/authz.ts';
import type { ChatContext } from './context.ts';
import type { Conversation, Message } from './conversation.entity.ts';
import type { ConversationSession } from './session.entity.ts';
import type { Note } from './note.entity.ts';
import type { SessionView } from './session.service.ts';
import type { NoteChanges } from './note.service.ts';
import type { SearchCollection } from './search.indexer.ts';
import { parsePage } from './conversation.service.ts';

type GqlCollection = 'CONVERSATIONS' | 'MESSAGES' | 'NOTES';
const toCollection = (c: GqlCollection): SearchCollection => c.toLowerCase() as SearchCollection;
const fromCollection = (c: SearchCollection): GqlCollection => c.toUpperCase() as GqlCollection;
const upper = (s: string | null): string | null => (s === null ? null : s.toUpperCase());

interface PageArgs {
  limit: number;
  offset: number;
}

const user = (ctx: ChatContext) => requireUser(ctx.auth, null);

export const resolvers: GraphQLResolverMap<ChatContext> = {
  DateTime: DateTimeScalar,
  Query: {
    conversations: (_: unknown, args: PageArgs, ctx: ChatContext) => ctx.services.conversations.list(ctx.em, user(ctx), args),
    conversation: (_: unknown, args: { id: string }, ctx: ChatContext) => ctx.services.conversations.find(ctx.em, user(ctx).userId, args.id),
    conversationSessionStatus: async (_: unknown, args: { conversationId: string }, ctx: ChatContext) => {
      const { session } = await ctx.services.sessions.status(ctx.em, user(ctx), args.conversationId);
      return { conversationId: args.conversationId, active: session !== null, session, elapsedSeconds: session?.elapsedSeconds ?? 0 };
    },
    notes: (_: unknown, args: PageArgs & { conversationId?: string | null }, ctx: ChatContext) =>
      ctx.services.notes.list(ctx.em, user(ctx), { limit: args.limit, offset: args.offset, ...(args.conversationId != null && { conversationId: args.conversationId }) }),
    note: (_: unknown, args: { id: string }, ctx: ChatContext) => ctx.services.notes.find(ctx.em, user(ctx), args.id),
    contentSearch: (_: unknown, args: { input: { query: string; types?: GqlCollection[] | null; limit?: number | null } }, ctx: ChatContext) => {
      const { query, types, limit } = args.input;
      return ctx.services.search.search(ctx.em, user(ctx), { query, ...(types != null && { types: types.map(toCollection) }), ...(limit != null && { limit }) });
    },
    contentSearchStatus: (_: unknown, __: unknown, ctx: ChatContext) => ctx.services.search.status(ctx.em),
  },
  Mutation: {
    createConversation: async (_: unknown, args: { input: { title?: string | null; provider?: string | null } }, ctx: ChatContext) => ({
      // A null title means "not given" (the default title), as in REST.
      conversation: await ctx.services.conversations.create(ctx.em, user(ctx), { ...(args.input.title != null && { title: args.input.title }), provider: args.input.provider ?? null }),
    }),
    deleteConversation: async (_: unknown, args: { id: string }, ctx: ChatContext) => ({ id: await ctx.services.conversations.delete(ctx.em, user(ctx), args.id) }),
    startConversationSession: async (_: unknown, args: { conversationId: string }, ctx: ChatContext) => {
      const session = await ctx.services.sessions.start(ctx.em, user(ctx), args.conversationId);
      return { session, resumed: session.resumed };
    },
    recordConversationActivity: async (_: unknown, args: { conversationId: string }, ctx: ChatContext) => ({
      session: await ctx.services.sessions.activity(ctx.em, user(ctx), args.conversationId),
    }),
    endConversationSession: async (_: unknown, args: { conversationId: string }, ctx: ChatContext) => ({
      session: await ctx.services.sessions.end(ctx.em, user(ctx), args.conversationId),
    }),
    createNote: async (_: unknown, args: { input: NoteChanges & { title: string } }, ctx: ChatContext) => {
      const { title, content, conversationId, tags } = args.input;
      // Nulls of optional fields mean "not given" (defaults apply), as in REST.
      const input = { title, ...(content != null && { content }), ...(conversationId != null && { conversationId }), ...(tags != null && { tags }) };
      return { note: await ctx.services.notes.create(ctx.em, user(ctx), input) };
    },
    // Passed as given: an explicit null conversationId detaches, a null title is refused.
    updateNote: async (_: unknown, args: { id: string; input: NoteChanges }, ctx: ChatContext) => ({
      note: await ctx.services.notes.update(ctx.em, user(ctx), args.id, args.input),
    }),
    deleteNote: async (_: unknown, args: { id: string }, ctx: ChatContext) => ({ id: await ctx.services.notes.delete(ctx.em, user(ctx), args.id) }),
    reindexContentSearch: async (_: unknown, args: { input?: { collections?: GqlCollection[] | null; userId?: string | null } | null }, ctx: ChatContext) => {
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
    conversations: (ref: { id: string }, args: PageArgs, ctx: ChatContext) => {
      if (!ctx.auth?.userId || ctx.auth.userId !== ref.id) return { items: [], total: 0, limit: args.limit, offset: args.offset };
      requireUser(ctx.auth, 'conversations:read');
      return ctx.loaders.conversationPage.load({ parentId: ref.id, ...parsePage(args) });
    },
  },
  Conversation: {
    __resolveReference: (ref: { id: string }, ctx: ChatContext) => {
      requireUser(ctx.auth, 'conversations:read');
      return ctx.loaders.conversationById.load(ref.id);
    },
    user: (c: Conversation) => ({ __typename: 'User', id: c.userId }),
    messages: (c: Conversation, args: PageArgs, ctx: ChatContext) => ctx.loaders.messagePage.load({ parentId: c.id, ...parsePage(args) }),
  },
  Message: {
    conversation: (m: Message, _: unknown, ctx: ChatContext) => ctx.loaders.conversationById.load(m.conversationId),
    user: (m: Message) => ({ __typename: 'User', id: m.userId }),
    role: (m: Message) => upper(m.role),
  },
  Note: {
    conversation: (n: Note, _: unknown, ctx: ChatContext) => (n.conversationId ? ctx.loaders.conversationById.load(n.conversationId) : null),
  },
  ConversationSession: {
    status: (s: ConversationSession) => (s.endedAt ? 'ENDED' : 'ACTIVE'),
    endReason: (s: ConversationSession) => upper(s.endReason),
    elapsedSeconds: (s: SessionView) => s.elapsedSeconds,
  },
  ConversationSearchHit: {
    conversation: (h: { conversationId: string }, _: unknown, ctx: ChatContext) => ctx.loaders.conversationById.load(h.conversationId),
  },
  MessageSearchHit: {
    role: (h: { role: string }) => upper(h.role),
  },
  SearchCollectionStatus: {
    name: (s: { name: SearchCollection }) => fromCollection(s.name),
  },
};
