/** Thin GraphQL adapter for generation: providers, chat, streamed replies, new-message events. */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { requireUser } from '../../kernel/authz.ts';
import { notFound } from '../../kernel/errors.ts';
import type { ChatContext } from './context.ts';
import type { ChatInput, ChatResponse } from './generation.service.ts';
import type { StreamEvent, StreamFailure } from './stream.reader.ts';
import { MessageSchema } from './conversation.entity.ts';
import { messageChannel } from './message.events.ts';
import { PubSubIterator } from '../../kernel/pubsub.iterator.ts';

interface GqlChatInput {
  message: string;
  provider?: string | null;
  conversationHistory?: { role: 'USER' | 'ASSISTANT' | 'SYSTEM'; content: string }[] | null;
  userLanguage?: string | null;
  conversationId?: string | null;
}

function toInput(i: GqlChatInput): ChatInput {
  return {
    message: i.message,
    provider: i.provider ?? null,
    conversationHistory: i.conversationHistory?.map((t) => ({ role: t.role === 'USER' ? 'user' : t.role === 'ASSISTANT' ? 'assistant' : 'system', content: t.content })) ?? null,
    userLanguage: i.userLanguage ?? null,
    conversationId: i.conversationId ?? null,
  };
}

const user = (ctx: ChatContext) => requireUser(ctx.auth, null);

export const aiResolvers: GraphQLResolverMap<ChatContext> = {
  Query: {
    aiProviders: (_: unknown, __: unknown, ctx: ChatContext) => ctx.services.generation.registry.list(),
  },
  Mutation: {
    chat: (_: unknown, args: { input: GqlChatInput; idempotencyKey?: string | null }, ctx: ChatContext) =>
      ctx.services.generation.chat(ctx.em, user(ctx), toInput(args.input), { signal: ctx.signal, idempotencyKey: args.idempotencyKey }),
  },
  Subscription: {
    chatStream: {
      subscribe: async (_: unknown, args: { input: GqlChatInput; idempotencyKey?: string | null }, ctx: ChatContext) => {
        const auth = user(ctx);
        const streamId = await ctx.services.generation.start(ctx.em, auth, toInput(args.input), { idempotencyKey: args.idempotencyKey });
        return ctx.services.generation.events(auth, streamId, -1);
      },
      resolve: (e: StreamEvent) => e,
    },
    chatStreamResume: {
      subscribe: (_: unknown, args: { streamId: string; afterSeq?: number | null }, ctx: ChatContext) =>
        ctx.services.generation.events(user(ctx), args.streamId, args.afterSeq ?? -1),
      resolve: (e: StreamEvent) => e,
    },
    messageAdded: {
      subscribe: async (_: unknown, args: { conversationId: string }, ctx: ChatContext) => {
        const auth = user(ctx);
        if (!(await ctx.services.conversations.find(ctx.em, auth.userId, args.conversationId))) throw notFound('Conversation');
        const it = new PubSubIterator(ctx.pubsub, messageChannel(args.conversationId));
        await it.open();
        return it;
      },
      resolve: (m: Record<string, unknown>) => m,
    },
  },
  ChatStreamEvent: {
    type: (e: StreamEvent) => e.type.toUpperCase(),
    delta: (e: StreamEvent) => (e.type === 'chunk' ? String(e.data.delta ?? '') : null),
    conversationId: (e: StreamEvent) => (e.type === 'start' || e.type === 'done' ? e.data.conversationId : null) ?? null,
    provider: (e: StreamEvent) => (e.type === 'start' ? e.data.provider : null),
    model: (e: StreamEvent) => (e.type === 'start' ? e.data.model : null),
    response: (e: StreamEvent) => (e.type === 'done' ? e.data : null),
    error: (e: StreamEvent) => {
      if (e.type !== 'error') return null;
      const failure = e.data as Partial<StreamFailure>;
      return { code: failure.code ?? 'internal_error', message: failure.message ?? 'Internal server error' };
    },
    user: (e: StreamEvent) => ({ __typename: 'User', id: e.userId }),
  },
  ChatResponse: {
    usage: (r: ChatResponse) => r.usage && { promptTokens: r.usage.prompt_tokens, completionTokens: r.usage.completion_tokens, totalTokens: r.usage.total_tokens },
    message: (r: ChatResponse, _: unknown, ctx: ChatContext) => (r.messageId ? ctx.em.fork().findOne(MessageSchema, { id: r.messageId }) : null),
  },
};
