/** Thin GraphQL adapter for learning: check the caller, call a service, shape the result. */
import { z } from 'zod';
import { parseInput } from '../../kernel/input.ts';
import { DateTimeScalar } from '../../kernel/scalars.ts';
import { requireUser } from '../../kernel/authz.ts';
import { DateScalar } from './date.scalar.ts';
import type { LearningContext } from './context.ts';
import { isDate } from './time.ts';
import { PubSubIterator } from '../../kernel/pubsub.iterator.ts';
import { learningChannel, type LearningEvent } from './events.ts';
import { upper } from '../../kernel/enum-values.ts';
import type { Resolvers } from './schema.types.ts';

const dateArg = z.string().refine(isDate, 'Input should be a valid date, YYYY-MM-DD').nullish();
const rangeArgs = z.object({ startDate: dateArg, endDate: dateArg });

const READ = 'xel:read';

/** `XpSourceBreakdown` from the snake_case source keys. */
function breakdown(b: Record<string, number>) {
  return {
    xelTask: b.xel_task ?? 0,
    xelModule: b.xel_module ?? 0,
    xelEvaluation: b.xel_evaluation ?? 0,
    chatSession: b.chat_session ?? 0,
    xelSession: b.xel_session ?? 0,
    liveSession: b.live_session ?? 0,
    quest: b.quest ?? 0,
  };
}

async function xpProfile(ctx: LearningContext, userId: string) {
  const p = await ctx.services.stats.profile(ctx.em, userId);
  return { ...p, todayXpBreakdown: breakdown(p.todayXpBreakdown) };
}

/** The caller's own id when `id` is the caller (federated `User` fields are private). */
function self(ctx: LearningContext, id: string): string | null {
  const user = requireUser(ctx.auth, READ);
  return user.userId === id ? id : null;
}

export const resolvers = {
  DateTime: DateTimeScalar,
  Date: DateScalar,
  User: {
    __resolveReference: (ref) => ({ id: ref.id }),
    xpProfile: (u, _, ctx) => {
      const id = self(ctx, u.id);
      return id ? xpProfile(ctx, id) : null;
    },
    streak: (u, _, ctx) => {
      const id = self(ctx, u.id);
      return id ? ctx.services.stats.streak(ctx.em, id) : null;
    },
  },
  Subscription: {
    learningEvents: {
      subscribe: async (_, __, ctx) => {
        const it = new PubSubIterator(ctx.pubsub, learningChannel(requireUser(ctx.auth, READ).userId));
        await it.open();
        return it;
      },
      resolve: (e: LearningEvent) => e,
    },
  },
  LearningEvent: {
    type: (e) => upper(e.type),
    user: (e) => ({ id: e.userId }),
    at: (e) => new Date(e.at),
  },
  Query: {
    xpProfile: (_, __, ctx) => xpProfile(ctx, requireUser(ctx.auth, READ).userId),
    publicXpProfile: (_, args, ctx) => ctx.services.stats.publicProfile(ctx.em, args.username),
    streakStatus: (_, __, ctx) => ctx.services.stats.streak(ctx.em, requireUser(ctx.auth, READ).userId),
    weeklyActivity: (_, __, ctx) => ctx.services.stats.weekly(ctx.em, requireUser(ctx.auth, READ).userId),
    learningPulse: (_, __, ctx) => ctx.services.stats.pulse(ctx.em, requireUser(ctx.auth, READ).userId),
    dailyQuests: (_, __, ctx) => ctx.services.stats.quests(ctx.em, requireUser(ctx.auth, READ).userId),
    learningTime: (_, args, ctx) => {
      const user = requireUser(ctx.auth, 'conversations:read');
      const range = parseInput(rangeArgs, args, null);
      return ctx.services.stats.learningTime(ctx.em, user.userId, range.startDate ?? null, range.endDate ?? null);
    },
  },
} satisfies Resolvers;
