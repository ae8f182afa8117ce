/** Xentree English, XEL-1..3 (§3.6), which the learning subgraph serves. */
import { v } from '../../validation.ts';
import { defineRoute, type RouteDecl } from '../../route.ts';
import { XELModuleCompleteResponse, XELModuleDetail, XELModuleStartResponse, XELModuleSummary, XELTaskSubmissionResponse, XELXPIHistoryResponse, XELXPIResponse } from './responses.ts';

const XEL = { tag: 'Xentree English' } as const;

const LEVELS = ['A1', 'A2', 'B1', 'B2', 'C1', 'C2'] as const;
const STATUSES = ['not_started', 'in_progress', 'completed'] as const;

const listQuery = v.object({ level: v.optional(v.enumOf(LEVELS)), status: v.optional(v.enumOf(STATUSES)) });
const moduleParams = v.object({ module_id: v.uuid() });
const historyQuery = v.object({ days: v.optional(v.int({ ge: 1, le: 365 }), 30) });
const taskParams = v.object({ task_id: v.uuid() });
const submissionBody = v.object({
  answer: v.str({ min: 1, max: 10_000 }),
  session_id: v.optional(v.nullable(v.uuid())),
  time_spent_seconds: v.optional(v.nullable(v.int({ ge: 0, le: 86_400 }))),
});

export const xelRoutes: RouteDecl[] = [
  defineRoute({
    ...XEL,
    id: 'XEL-1',
    method: 'GET',
    path: '/api/xel/modules',
    summary: 'List modules with progress',
    query: listQuery,
    operation: 'ListXelModules',
    variables: ({ query }) => ({ level: query.level ?? null, status: query.status?.toUpperCase() ?? null }),
    response: XELModuleSummary.list(),
    select: (data) => data.xelModules,
    status: 200,
  }),
  defineRoute({
    ...XEL,
    id: 'XEL-2',
    method: 'GET',
    path: '/api/xel/modules/:module_id',
    summary: 'Module details',
    params: moduleParams,
    operation: 'GetXelModule',
    variables: ({ params }) => ({ id: params.module_id }),
    response: XELModuleDetail,
    select: (data) => data.xelModule,
    status: 200,
    notFound: 'Module',
  }),
  defineRoute({
    ...XEL,
    id: 'XEL-3',
    method: 'POST',
    path: '/api/xel/modules/:module_id/start',
    summary: 'Start a module',
    params: moduleParams,
    operation: 'StartXelModule',
    variables: ({ params }) => ({ id: params.module_id }),
    response: XELModuleStartResponse,
    select: (data) => data.startXelModule,
    status: 200,
    notFound: 'Module',
  }),
  defineRoute({
    ...XEL,
    id: 'XEL-4',
    method: 'POST',
    path: '/api/xel/modules/:module_id/complete',
    summary: 'Complete a module',
    params: moduleParams,
    operation: 'CompleteXelModule',
    variables: ({ params }) => ({ id: params.module_id }),
    response: XELModuleCompleteResponse,
    select: (data) => data.completeXelModule,
    status: 200,
    notFound: 'Module',
  }),
  defineRoute({
    ...XEL,
    id: 'XEL-5',
    method: 'POST',
    path: '/api/xel/tasks/:task_id/submit',
    summary: 'Submit task response',
    params: taskParams,
    body: { kind: 'json', spec: submissionBody },
    operation: 'SubmitXelTask',
    variables: ({ params, body }) => ({
      taskId: params.task_id,
      input: { answer: body.answer, sessionId: body.session_id ?? null, timeSpentSeconds: body.time_spent_seconds ?? null },
    }),
    response: XELTaskSubmissionResponse,
    select: (data) => data.submitXelTask,
    status: 201,
    notFound: 'Task',
  }),
  defineRoute({
    ...XEL,
    id: 'XEL-8',
    method: 'GET',
    path: '/api/xel/xpi',
    summary: 'The proficiency index',
    operation: 'GetXelXpi',
    variables: () => ({}),
    response: XELXPIResponse,
    select: (data) => data.xelXpi,
    status: 200,
  }),
  defineRoute({
    ...XEL,
    id: 'XEL-9',
    method: 'GET',
    path: '/api/xel/xpi/history',
    summary: 'Proficiency index history',
    query: historyQuery,
    operation: 'GetXelXpiHistory',
    variables: ({ query }) => ({ days: query.days }),
    response: XELXPIHistoryResponse,
    select: (data) => data.xelXpiHistory,
    status: 200,
  }),
];
