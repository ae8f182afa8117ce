/** Thin GraphQL adapter for live: parse args, call a service, shape the result. */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireUser, type UserContext } from '../../kernel/authz.ts';
import { PubSubIterator } from '../../kernel/pubsub.iterator.ts';
import type { LiveContext } from './context.ts';
import type { LiveTranscript } from './live.entity.ts';
import type { LiveSession, LiveSessionType } from './session.store.ts';
import { liveEventsChannel, type LiveEvent, type LiveQuota } from './live.events.ts';
import { HEARTBEAT_INTERVAL_SECONDS, HEARTBEAT_TIMEOUT_SECONDS } from './quota.ts';

const upper = (s: string | null): string | null => (s === null ? null : s.toUpperCase());

/** The acting user: `@access` already admitted the caller (bearer, API key with its scope, or internal). */
function user(ctx: LiveContext): UserContext {
  if (ctx.auth?.mode === 'internal' && ctx.auth.userId) return { ...ctx.auth, userId: ctx.auth.userId };
  return requireUser(ctx.auth, null);
}

type GqlTurn = { role: 'USER' | 'AI'; text: string; timestamp: Date };

export const resolvers: GraphQLResolverMap<LiveContext> = {
  DateTime: DateTimeScalar,
  Query: {
    liveQuota: (_: unknown, __: unknown, ctx: LiveContext) => ctx.services.sessions.quota(ctx.em, user(ctx)),
    liveTranscripts: (_: unknown, args: { limit: number; offset: number }, ctx: LiveContext) => ctx.services.transcripts.list(ctx.em, user(ctx), args.limit, args.offset),
    liveTranscript: (_: unknown, args: { id: string }, ctx: LiveContext) => ctx.services.transcripts.get(ctx.em, user(ctx), args.id),
  },
  Mutation: {
    startLiveSession: (_: unknown, args: { input: { sessionType: 'VOICE' | 'AVATAR' } }, ctx: LiveContext) =>
      ctx.services.sessions.start(ctx.em, user(ctx), args.input.sessionType.toLowerCase() as LiveSessionType),
    heartbeatLiveSession: (_: unknown, args: { input: { sessionId: string } }, ctx: LiveContext) => ctx.services.sessions.heartbeat(ctx.em, user(ctx), args.input.sessionId),
    endLiveSession: (_: unknown, args: { input: { sessionId: string } }, ctx: LiveContext) => ctx.services.sessions.end(ctx.em, user(ctx), args.input.sessionId),
    setLiveNickname: (_: unknown, args: { input: { nickname: string } }, ctx: LiveContext) => ctx.services.nicknames.set(ctx.em, user(ctx), args.input.nickname),
    saveLiveTranscript: async (
      _: unknown,
      args: { input: { sessionStartedAt: Date; sessionEndedAt: Date; transcripts: GqlTurn[]; sessionId?: string | null } },
      ctx: LiveContext,
    ) => ({
      transcript: await ctx.services.transcripts.save(ctx.em, user(ctx), {
        ...args.input,
        transcripts: args.input.transcripts.map((t) => ({ ...t, role: t.role === 'USER' ? 'user' : 'ai' })),
      }),
    }),
  },
  Subscription: {
    liveEvents: {
      subscribe: async (_: unknown, __: unknown, ctx: LiveContext) => {
        const it = new PubSubIterator<LiveEvent>(ctx.pubsub, liveEventsChannel(user(ctx).userId));
        await it.open();
        return it;
      },
      resolve: (e: LiveEvent) => e,
    },
  },
  User: {
    // A nickname is the user's own setting: shown to them (and a platform admin), null to others.
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    liveNickname: (ref: { id: string }, _: unknown, ctx: LiveContext) =>
      ctx.auth?.userId === ref.id || ctx.auth?.role === 'admin' ? ctx.loaders.nickname.load(ref.id) : null,
  },
  LiveQuota: {
    plan: (q: LiveQuota) => upper(q.plan),
  },
  LiveSession: {
    sessionType: (s: LiveSession) => upper(s.sessionType),
    status: (s: LiveSession) => (s.endedAt === null ? 'ACTIVE' : 'ENDED'),
    endReason: (s: LiveSession) => upper(s.endReason),
    heartbeatIntervalSeconds: () => HEARTBEAT_INTERVAL_SECONDS,
    heartbeatTimeoutSeconds: () => HEARTBEAT_TIMEOUT_SECONDS,
    realtimeUrl: (_: LiveSession, __: unknown, ctx: LiveContext) => ctx.realtimeUrl,
  },
  LiveEvent: {
    user: (e: LiveEvent) => ({ __typename: 'User', id: e.userId }),
  },
  SetLiveNicknamePayload: {},
  LiveTranscript: {
    turns: (t: LiveTranscript) => t.turns.map((turn) => ({ ...turn, role: upper(turn.role) })),
  },
};
