/** Thin GraphQL adapter for generation: providers, chat, streamed replies, new-message events. */
import { requireUser } from '../../kernel/authz.ts';
import { notFound } from '../../kernel/errors.ts';
import { lower, upper } from '../../kernel/enum-values.ts';
import type { ChatContext } from './context.ts';
import type { ChatInput, ChatResponse } from './generation.service.ts';
import type { StreamEvent, StreamFailure, StreamStart } from './stream.reader.ts';
import { MessageSchema } from './conversation.entity.ts';
import { messageChannel, type PublishedMessage } from './message.events.ts';
import { PubSubIterator } from '../../kernel/pubsub.iterator.ts';
import type { ChatInput as GqlChatInput, Resolvers } from './schema.types.ts';

function toInput(i: GqlChatInput): ChatInput {
  return {
    message: i.message,
    provider: i.provider ?? null,
    conversationHistory: i.conversationHistory?.map((t) => ({ role: lower(t.role), content: t.content })) ?? null,
    userLanguage: i.userLanguage ?? null,
    conversationId: i.conversationId ?? null,
  };
}

const user = (ctx: ChatContext) => requireUser(ctx.auth, null);
/** The data of a `start` or `done` event, as the generation service stores it (stream.reader.ts). */
const startOf = (e: StreamEvent): StreamStart | null => (e.type === 'start' ? (e.data as StreamStart) : null);
const doneOf = (e: StreamEvent): ChatResponse | null => (e.type === 'done' ? (e.data as ChatResponse) : null);

export const aiResolvers = {
  Query: {
    aiProviders: (_, __, ctx) => ctx.services.generation.registry.list(),
  },
  Mutation: {
    chat: (_, args, ctx) =>
      ctx.services.generation.chat(ctx.em, user(ctx), toInput(args.input), { signal: ctx.signal, idempotencyKey: args.idempotencyKey }),
  },
  Subscription: {
    chatStream: {
      subscribe: async (_, args, ctx) => {
        const auth = user(ctx);
        const streamId = await ctx.services.generation.start(ctx.em, auth, toInput(args.input), { idempotencyKey: args.idempotencyKey });
        return ctx.services.generation.events(auth, streamId, -1);
      },
      resolve: (e: StreamEvent) => e,
    },
    chatStreamResume: {
      subscribe: (_, args, ctx) =>
        ctx.services.generation.events(user(ctx), args.streamId, args.afterSeq ?? -1),
      resolve: (e: StreamEvent) => e,
    },
    messageAdded: {
      subscribe: async (_, args, ctx) => {
        const auth = user(ctx);
        if (!(await ctx.services.conversations.find(ctx.em, auth.userId, args.conversationId))) throw notFound('Conversation');
        const it = new PubSubIterator(ctx.pubsub, messageChannel(args.conversationId));
        await it.open();
        return it;
      },
      // The same instant as a Date, which DateTime serialises to the text that was published.
      resolve: (m: PublishedMessage) => ({ ...m, createdAt: new Date(m.createdAt) }),
    },
  },
  ChatStreamEvent: {
    type: (e) => upper(e.type),
    delta: (e) => (e.type === 'chunk' ? String(e.data.delta ?? '') : null),
    conversationId: (e) => startOf(e)?.conversationId ?? doneOf(e)?.conversationId ?? null,
    provider: (e) => startOf(e)?.provider ?? null,
    model: (e) => startOf(e)?.model ?? null,
    response: (e) => doneOf(e),
    error: (e) => {
      if (e.type !== 'error') return null;
      const failure = e.data as Partial<StreamFailure>;
      return { code: failure.code ?? 'internal_error', message: failure.message ?? 'Internal server error' };
    },
    user: (e) => ({ __typename: 'User', id: e.userId }),
  },
  ChatResponse: {
    usage: (r) => r.usage && { promptTokens: r.usage.prompt_tokens, completionTokens: r.usage.completion_tokens, totalTokens: r.usage.total_tokens },
    message: (r, _, ctx) => (r.messageId ? ctx.em.fork().findOne(MessageSchema, { id: r.messageId }) : null),
  },
} satisfies Resolvers;
