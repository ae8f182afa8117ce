/** AI chat: CONV-1 providers, CONV-2 chat (JSON or SSE stream), CONV-2S stream resume (§3.2). */
import { v } from '../../validation.ts';
import { defineRoute, type RouteDecl } from '../../route.ts';
import type { SseFrame } from '../../sse.ts';
import { object } from '../../shape.ts';
import { ChatResponse, ProvidersResponse } from './ai.responses.ts';

/** One `ChatStreamEvent` → one SSE frame (CONV-2 streaming table). */
export function chatFrame(data: Record<string, unknown>): SseFrame | null {
  const e = object(data.chatStream ?? data.chatStreamResume);
  if (!e) return null;
  const seq = Number(e.seq);
  switch (e.type) {
    case 'START':
      return { event: 'start', id: seq, data: { stream_id: e.streamId, conversation_id: e.conversationId ?? null, provider: e.provider, model: e.model } };
    case 'CHUNK':
      return { event: 'chunk', id: seq, data: { delta: e.delta } };
    case 'DONE':
      return { event: 'done', id: seq, data: ChatResponse.map(e.response) };
    case 'ERROR': {
      const err = object(e.error);
      return { event: 'error', id: seq, data: { detail: { error: err?.code, message: err?.message } } };
    }
    default:
      return null;
  }
}

const chatBody = v.object({
  message: v.str({ min: 1, max: 20_000 }),
  provider: v.optional(v.nullable(v.str({ min: 1, max: 50 }))),
  conversation_history: v.optional(v.list(v.object({ role: v.enumOf(['user', 'assistant', 'system'] as const), content: v.str({ min: 1, max: 20_000 }) }), { max: 50 }), []),
  user_language: v.optional(v.nullable(v.str({ min: 1, max: 35 }))),
  conversation_id: v.optional(v.nullable(v.uuid())),
  stream: v.optional(v.bool(), false),
});

const chatInput = (body: { message: string; provider?: string | null; conversation_history?: { role: string; content: string }[]; user_language?: string | null; conversation_id?: string | null }) => ({
  message: body.message,
  provider: body.provider ?? null,
  conversationHistory: (body.conversation_history ?? []).map((t) => ({ role: t.role.toUpperCase(), content: t.content })),
  userLanguage: body.user_language ?? null,
  conversationId: body.conversation_id ?? null,
});

/** `afterSeq` is a GraphQL Int (32-bit); no stream has an event with a larger id. */
const MAX_SEQ = 2_147_483_647;

/**
 * The resume point of a `Last-Event-ID`: after that event id, from the start when the header is
 * absent or is not an event id, and after the last possible event (nothing to replay) for an id
 * larger than any stream has.
 */
function afterSeqOf(header: string | string[] | undefined): number {
  const last = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
  if (!/^\d+$/.test(last)) return -1;
  return last.length > 10 ? MAX_SEQ : Math.min(Number(last), MAX_SEQ);
}

/** The events of a chat stream (CONV-2 with `stream: true`, CONV-2S), as `chatFrame` writes them. */
const CHAT_EVENTS = {
  name: 'ChatStreamEvents',
  data: {
    start: {
      type: 'object',
      required: ['stream_id', 'conversation_id', 'provider', 'model'],
      properties: { stream_id: { type: 'string', format: 'uuid' }, conversation_id: { type: ['string', 'null'], format: 'uuid' }, provider: { type: 'string' }, model: { type: 'string' } },
    },
    chunk: { type: 'object', required: ['delta'], properties: { delta: { type: 'string' } } },
    done: ChatResponse.use,
    error: { $ref: '#/components/schemas/Error' },
  },
  refs: [ChatResponse],
};

const acceptsEventStream = (headers: Record<string, string | string[] | undefined>): boolean => {
  const accept = headers.accept;
  return (Array.isArray(accept) ? accept.join(',') : (accept ?? '')).includes('text/event-stream');
};

export const chatAiRoutes: RouteDecl[] = [
  defineRoute({
    id: 'CONV-1',
    method: 'GET',
    path: '/api/core/providers',
    summary: 'List available AI providers',
    tag: 'Conversations',
    operation: 'AiProviders',
    variables: () => ({}),
    response: ProvidersResponse,
    select: (data) => data.aiProviders,
    status: 200,
  }),
  defineRoute({
    id: 'CONV-2',
    method: 'POST',
    path: '/api/core/chat',
    summary: 'Generate an AI response',
    tag: 'Conversations',
    body: { kind: 'json', spec: chatBody },
    operation: 'Chat',
    idempotent: true,
    variables: ({ body }) => ({ input: chatInput(body) }),
    response: ChatResponse,
    select: (data) => data.chat,
    status: 200,
    notFound: 'Conversation',
    events: CHAT_EVENTS,
    sse: {
      when: ({ body }, headers) => body.stream === true || acceptsEventStream(headers),
      operation: 'ChatStream',
      variables: ({ body, idempotencyKey }) => ({ input: chatInput(body), idempotencyKey: idempotencyKey ?? null }),
      frameOf: chatFrame,
    },
  }),
  defineRoute({
    id: 'CONV-2S',
    method: 'GET',
    path: '/api/core/chat/streams/:stream_id',
    summary: 'Resume a streamed AI response',
    tag: 'Conversations',
    params: v.object({ stream_id: v.uuid() }),
    operation: 'ChatStreamResume',
    variables: ({ params }) => ({ streamId: params.stream_id, afterSeq: -1 }),
    result: () => null,
    status: 200,
    notFound: 'Stream',
    events: { ...CHAT_EVENTS, only: true },
    sse: {
      when: () => true,
      operation: 'ChatStreamResume',
      variables: ({ params }, headers) => ({ streamId: params.stream_id, afterSeq: afterSeqOf(headers['last-event-id']) }),
      frameOf: chatFrame,
    },
  }),
];
