/** Thin GraphQL adapter for Xentree English: check the caller, call a service, shape the result. */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { z } from 'zod';
import { requireUser } from '../../kernel/authz.ts';
import { parseInput } from '../../kernel/input.ts';
import type { LearningContext } from './context.ts';
import type { ModuleStatus, XelModuleView, XelTaskView } from './xel/module.service.ts';

const upper = (s: string): string => s.toUpperCase();
const gqlModule = (m: XelModuleView) => ({ ...m, status: upper(m.status), skills: m.skills.map(upper) });
const gqlTask = (t: XelTaskView) => ({ ...t, type: upper(t.type), skill: upper(t.skill) });

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

export const xelResolvers: GraphQLResolverMap<LearningContext> = {
  XelModule: {
    tasks: async (m: { id: string }, _: unknown, ctx: LearningContext) =>
      (await ctx.services.modules.tasks(ctx.em, requireUser(ctx.auth, 'xel:read').userId, m.id)).map(gqlTask),
  },
  Query: {
    xelModules: async (_: unknown, args: { level?: string | null; status?: string | null }, ctx: LearningContext) => {
      const user = requireUser(ctx.auth, 'xel:read');
      const status = args.status ? (args.status.toLowerCase() as ModuleStatus) : null;
      return (await ctx.services.modules.list(ctx.em, user.userId, args.level ?? null, status)).map(gqlModule);
    },
    xelXpi: (_: unknown, __: unknown, ctx: LearningContext) => ctx.services.xpi.xpi(ctx.em, requireUser(ctx.auth, 'xel:read').userId),
    xelXpiHistory: (_: unknown, args: { days?: number | null }, ctx: LearningContext) => {
      const user = requireUser(ctx.auth, 'xel:read');
      const { days } = parseInput(z.object({ days: z.number().int().min(1).max(365) }), { days: args.days ?? 30 }, null);
      return ctx.services.xpi.history(ctx.em, user.userId, days);
    },
    xelTranscript: (_: unknown, args: { sessionId: string }, ctx: LearningContext) =>
      ctx.services.sessions.entries(ctx.em, requireUser(ctx.auth, 'xel:read').userId, args.sessionId),
    xelDashboard: async (_: unknown, __: unknown, ctx: LearningContext) => {
      const d = await ctx.services.dashboard.dashboard(ctx.em, requireUser(ctx.auth, 'xel:read').userId);
      return { ...d, currentModule: d.currentModule && gqlModule(d.currentModule) };
    },
    xelModule: async (_: unknown, args: { id: string }, ctx: LearningContext) => {
      const m = await ctx.services.modules.find(ctx.em, requireUser(ctx.auth, 'xel:read').userId, args.id);
      return m && gqlModule(m);
    },
  },
  Mutation: {
    startXelModule: async (_: unknown, args: { id: string }, ctx: LearningContext) => {
      const started = await ctx.services.modules.start(ctx.em, requireUser(ctx.auth, 'xel:write').userId, args.id);
      return { ...started, status: upper(started.status) };
    },
    submitXelTask: (_: unknown, args: { taskId: string; input: unknown }, ctx: LearningContext) => {
      const user = requireUser(ctx.auth, 'xel:write');
      return ctx.services.submissions.submit(ctx.em, user.userId, args.taskId, parseInput(submission, args.input));
    },
    startXelSession: (_: unknown, args: { moduleId?: string | null }, ctx: LearningContext) =>
      ctx.services.sessions.start(ctx.em, requireUser(ctx.auth, 'xel:write').userId, args.moduleId ?? null),
    endXelSession: (_: unknown, args: { id: string }, ctx: LearningContext) => ctx.services.sessions.end(ctx.em, requireUser(ctx.auth, 'xel:write').userId, args.id),
    addXelTranscriptEntry: (_: unknown, args: { sessionId: string; input: unknown }, ctx: LearningContext) => {
      const user = requireUser(ctx.auth, 'xel:write');
      return ctx.services.sessions.addEntry(ctx.em, user.userId, args.sessionId, parseInput(transcriptEntry, args.input));
    },
    evaluateXel: (_: unknown, args: { input: unknown }, ctx: LearningContext) => {
      const user = requireUser(ctx.auth, 'xel:write');
      return ctx.services.evaluations.evaluate(ctx.em, user.userId, parseInput(evaluation, args.input));
    },
    regenerateXelTask: async (_: unknown, args: { taskId: string }, ctx: LearningContext) =>
      gqlTask(await ctx.services.regenerations.regenerate(ctx.em, requireUser(ctx.auth, 'xel:write').userId, args.taskId)),
    completeXelModule: async (_: unknown, args: { id: string }, ctx: LearningContext) => {
      const done = await ctx.services.submissions.complete(ctx.em, requireUser(ctx.auth, 'xel:write').userId, args.id);
      return { ...done, status: 'COMPLETED' };
    },
  },
};
