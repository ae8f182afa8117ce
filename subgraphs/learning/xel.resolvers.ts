/** Thin GraphQL adapter for Xentree English: check the caller, call a service, shape the result. */
import { z } from 'zod';
import { requireUser } from '../../kernel/authz.ts';
import { parseInput } from '../../kernel/input.ts';
import { lower, upper } from '../../kernel/enum-values.ts';
import type { Resolvers } from './schema.types.ts';


const submission = z.object({
  answer: z.string().min(1).max(10_000),
  sessionId: z.uuid().nullish(),
  timeSpentSeconds: z.number().int().min(0).max(86_400).nullish(),
});

const transcriptEntry = z.object({ role: z.enum(['user', 'ai']), text: z.string().min(1).max(5000), timestamp: z.date().nullish() });

const evaluation = z.object({
  kind: z.enum(['speaking', 'writing']),
  text: z.string().min(1).max(10_000),
  prompt: z.string().max(2000).nullish(),
  taskId: z.uuid().nullish(),
  sessionId: z.uuid().nullish(),
});

export const xelResolvers = {
  XelModule: {
    status: (m) => upper(m.status),
    skills: (m) => m.skills.map(upper),
    tasks: (m, _, ctx) => ctx.services.modules.tasks(ctx.em, requireUser(ctx.auth, 'xel:read').userId, m.id),
  },
  XelTask: {
    type: (t) => upper(t.type),
    skill: (t) => upper(t.skill),
  },
  Query: {
    xelModules: async (_, args, ctx) => {
      const user = requireUser(ctx.auth, 'xel:read');
      return ctx.services.modules.list(ctx.em, user.userId, args.level ?? null, args.status ? lower(args.status) : null);
    },
    xelXpi: (_, __, ctx) => ctx.services.xpi.xpi(ctx.em, requireUser(ctx.auth, 'xel:read').userId),
    xelXpiHistory: (_, args, ctx) => {
      const user = requireUser(ctx.auth, 'xel:read');
      const { days } = parseInput(z.object({ days: z.number().int().min(1).max(365) }), { days: args.days ?? 30 }, null);
      return ctx.services.xpi.history(ctx.em, user.userId, days);
    },
    xelTranscript: (_, args, ctx) =>
      ctx.services.sessions.entries(ctx.em, requireUser(ctx.auth, 'xel:read').userId, args.sessionId),
    xelDashboard: async (_, __, ctx) => {
      return ctx.services.dashboard.dashboard(ctx.em, requireUser(ctx.auth, 'xel:read').userId);
    },
    xelModule: (_, args, ctx) => ctx.services.modules.find(ctx.em, requireUser(ctx.auth, 'xel:read').userId, args.id),
  },
  Mutation: {
    startXelModule: async (_, args, ctx) => {
      const started = await ctx.services.modules.start(ctx.em, requireUser(ctx.auth, 'xel:write').userId, args.id);
      return { ...started, status: upper(started.status) };
    },
    submitXelTask: (_, args, ctx) => {
      const user = requireUser(ctx.auth, 'xel:write');
      return ctx.services.submissions.submit(ctx.em, user.userId, args.taskId, parseInput(submission, args.input));
    },
    startXelSession: (_, args, ctx) =>
      ctx.services.sessions.start(ctx.em, requireUser(ctx.auth, 'xel:write').userId, args.moduleId ?? null),
    endXelSession: (_, args, ctx) => ctx.services.sessions.end(ctx.em, requireUser(ctx.auth, 'xel:write').userId, args.id),
    addXelTranscriptEntry: (_, args, ctx) => {
      const user = requireUser(ctx.auth, 'xel:write');
      return ctx.services.sessions.addEntry(ctx.em, user.userId, args.sessionId, parseInput(transcriptEntry, args.input));
    },
    evaluateXel: (_, args, ctx) => {
      const user = requireUser(ctx.auth, 'xel:write');
      return ctx.services.evaluations.evaluate(ctx.em, user.userId, parseInput(evaluation, args.input));
    },
    regenerateXelTask: (_, args, ctx) => ctx.services.regenerations.regenerate(ctx.em, requireUser(ctx.auth, 'xel:write').userId, args.taskId),
    completeXelModule: async (_, args, ctx) => {
      const done = await ctx.services.submissions.complete(ctx.em, requireUser(ctx.auth, 'xel:write').userId, args.id);
      return { ...done, status: 'COMPLETED' as const };
    },
  },
} satisfies Resolvers;
