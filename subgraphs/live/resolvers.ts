/** Thin GraphQL adapter for live: parse args, call a service, shape the result. */
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireUser, type UserContext } from '../../kernel/authz.ts';
import { PubSubIterator } from '../../kernel/pubsub.iterator.ts';
import { lower, upper } from '../../kernel/enum-values.ts';
import type { LiveContext } from './context.ts';
import { liveEventsChannel, type LiveEvent } from './live.events.ts';
import { HEARTBEAT_INTERVAL_SECONDS, HEARTBEAT_TIMEOUT_SECONDS } from './quota.ts';
import type { Resolvers } from './schema.types.ts';

/** The acting user: `@access` already admitted the caller (bearer, API key with its scope, or internal). */
function user(ctx: LiveContext): UserContext {
  if (ctx.auth?.mode === 'internal' && ctx.auth.userId) return { ...ctx.auth, userId: ctx.auth.userId };
  return requireUser(ctx.auth, null);
}

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    liveQuota: (_, __, ctx) => ctx.services.sessions.quota(ctx.em, user(ctx)),
    liveTranscripts: (_, args, ctx) => ctx.services.transcripts.list(ctx.em, user(ctx), args.limit, args.offset),
    liveTranscript: (_, args, ctx) => ctx.services.transcripts.get(ctx.em, user(ctx), args.id),
  },
  Mutation: {
    startLiveSession: (_, args, ctx) => ctx.services.sessions.start(ctx.em, user(ctx), lower(args.input.sessionType)),
    heartbeatLiveSession: (_, args, ctx) => ctx.services.sessions.heartbeat(ctx.em, user(ctx), args.input.sessionId),
    endLiveSession: (_, args, ctx) => ctx.services.sessions.end(ctx.em, user(ctx), args.input.sessionId),
    setLiveNickname: (_, args, ctx) => ctx.services.nicknames.set(ctx.em, user(ctx), args.input.nickname),
    saveLiveTranscript: async (_, args, ctx) => ({
      transcript: await ctx.services.transcripts.save(ctx.em, user(ctx), {
        ...args.input,
        transcripts: args.input.transcripts.map((t) => ({ ...t, role: lower(t.role) })),
      }),
    }),
  },
  Subscription: {
    liveEvents: {
      subscribe: async (_, __, ctx) => {
        const it = new PubSubIterator<LiveEvent>(ctx.pubsub, liveEventsChannel(user(ctx).userId));
        await it.open();
        return it;
      },
      resolve: (e: LiveEvent) => e,
    },
  },
  User: {
    // A nickname is the user's own setting: shown to them (and a platform admin), null to others.
    __resolveReference: (ref) => ({ id: ref.id }),
    liveNickname: (ref, _, ctx) => (ctx.auth?.userId === ref.id || ctx.auth?.role === 'admin' ? ctx.loaders.nickname.load(ref.id) : null),
  },
  LiveQuota: {
    plan: (q) => upper(q.plan),
  },
  LiveSession: {
    sessionType: (s) => upper(s.sessionType),
    status: (s) => (s.endedAt === null ? 'ACTIVE' : 'ENDED'),
    endReason: (s) => (s.endReason === null ? null : upper(s.endReason)),
    heartbeatIntervalSeconds: () => HEARTBEAT_INTERVAL_SECONDS,
    heartbeatTimeoutSeconds: () => HEARTBEAT_TIMEOUT_SECONDS,
    realtimeUrl: (_, __, ctx) => ctx.realtimeUrl,
  },
  LiveEvent: {
    user: (e) => ({ __typename: 'User', id: e.userId }),
  },
  LiveTranscriptTurn: {
    role: (t) => upper(t.role),
  },
} satisfies Resolvers;
