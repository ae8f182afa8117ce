/** Xentree Live, LIVE-1..8 (§3.7, §4.8). */
import { v } from '../../validation.ts';
import { defineRoute, type RouteDecl } from '../../route.ts';
import { field, lowerEnum, object } from '../../shape.ts';
import type { SseFrame } from '../../sse.ts';
import * as res from './responses.ts';

const sessionBody = v.object({ session_id: v.uuid() });
const pageQuery = v.object({ limit: v.optional(v.int({ ge: 1, le: 100 }), 20), offset: v.optional(v.int({ ge: 0 }), 0) });
const transcriptParams = v.object({ transcript_id: v.uuid() });

const saveBody = v.object({
  session_started_at: v.datetime(),
  session_ended_at: v.datetime(),
  transcripts: v.list(v.object({ role: v.enumOf(['user', 'ai'] as const), text: v.str({ min: 1, max: 10_000 }), timestamp: v.datetime() }), { min: 1, max: 2_000 }),
  session_id: v.optional(v.nullable(v.uuid())),
});

/**
 * One Live event as an SSE frame: `event` is the type in lowercase (`started`, `credited`,
 * `quota_low`, `quota_exhausted`, `ended`); `data` carries the session and quota in the bodies of
 * LIVE-4 and LIVE-1, and the user.
 */
function liveEventFrame(data: Record<string, unknown>): SseFrame | null {
  const e = object(data.liveEvents);
  if (!e || !object(e.user)) return null;
  const type = lowerEnum(e.type) ?? 'unknown';
  return { event: type, id: `${String(e.at)}/${type}`, data: res.LiveEventData.map(e) };
}

/** The events of `GET /api/live/events`, as `liveEventFrame` writes them. */
const LIVE_EVENTS = {
  name: 'LiveEvents',
  data: Object.fromEntries(['started', 'credited', 'quota_low', 'quota_exhausted', 'ended'].map((event) => [event, res.LiveEventData.use])),
  refs: [res.LiveEventData],
  id: { type: 'string', description: '`<at>/<event>`: the event time and name.' },
  only: true,
} as const;

const LIVE = { tag: 'Xentree Live' } as const;
const sessionInput = ({ body }: { body: { session_id: string } }) => ({ input: { sessionId: body.session_id } });

export const liveRoutes: RouteDecl[] = [
  defineRoute({
    ...LIVE,
    id: 'LIVE-1',
    method: 'GET',
    path: '/api/live/quota',
    summary: 'Live quota for the current UTC month',
    operation: 'LiveQuota',
    variables: () => ({}),
    response: res.LiveQuotaResponse,
    select: (data) => data.liveQuota,
    status: 200,
  }),
  defineRoute({
    ...LIVE,
    id: 'LIVE-2',
    method: 'POST',
    path: '/api/live/session/start',
    summary: 'Start a Live session',
    body: { kind: 'json', spec: v.object({ session_type: v.enumOf(['voice', 'avatar'] as const) }) },
    operation: 'StartLiveSession',
    variables: ({ body }) => ({ input: { sessionType: body.session_type.toUpperCase() } }),
    response: res.LiveSessionResponse,
    select: (data) => data.startLiveSession,
    status: 201,
  }),
  defineRoute({
    ...LIVE,
    id: 'LIVE-3',
    method: 'POST',
    path: '/api/live/session/heartbeat',
    summary: 'Heartbeat: credit the seconds since the last one',
    body: { kind: 'json', spec: sessionBody },
    operation: 'HeartbeatLiveSession',
    variables: sessionInput,
    response: res.LiveSessionHeartbeatResponse,
    select: (data) => data.heartbeatLiveSession,
    status: 200,
    notFound: 'Live session',
  }),
  defineRoute({
    ...LIVE,
    id: 'LIVE-4',
    method: 'POST',
    path: '/api/live/session/end',
    summary: 'End a Live session (idempotent)',
    body: { kind: 'json', spec: sessionBody },
    operation: 'EndLiveSession',
    variables: sessionInput,
    response: res.LiveSessionEndResponse,
    select: (data) => data.endLiveSession,
    status: 200,
    notFound: 'Live session',
  }),
  defineRoute({
    ...LIVE,
    id: 'LIVE-5',
    method: 'PUT',
    path: '/api/live/nickname',
    summary: 'Set the Live nickname',
    body: { kind: 'json', spec: v.object({ nickname: v.str() }) },
    operation: 'SetLiveNickname',
    variables: ({ body }) => ({ input: { nickname: body.nickname } }),
    response: res.LiveNicknameResponse,
    select: (data) => data.setLiveNickname,
    status: 200,
  }),
  defineRoute({
    ...LIVE,
    id: 'LIVE-6',
    method: 'GET',
    path: '/api/live/transcripts',
    summary: 'List Live transcripts, newest session first',
    query: pageQuery,
    operation: 'LiveTranscripts',
    variables: ({ query }) => ({ limit: query.limit, offset: query.offset }),
    response: res.LiveTranscriptListResponse,
    select: (data) => data.liveTranscripts,
    status: 200,
  }),
  defineRoute({
    ...LIVE,
    id: 'LIVE-7',
    method: 'POST',
    path: '/api/live/transcripts',
    summary: 'Save a Live transcript (bearer, or internal service headers)',
    // Bearer or the internal service headers: not what the GraphQL field alone can say.
    auth: 'B+I',
    scope: null,
    body: { kind: 'json', spec: saveBody },
    operation: 'SaveLiveTranscript',
    variables: ({ body }) => ({
      input: {
        sessionStartedAt: body.session_started_at.toISOString(),
        sessionEndedAt: body.session_ended_at.toISOString(),
        transcripts: body.transcripts.map((t) => ({ role: t.role.toUpperCase(), text: t.text, timestamp: t.timestamp.toISOString() })),
        sessionId: body.session_id ?? null,
      },
    }),
    response: res.LiveTranscriptSaveResponse,
    select: (data) => field(data, 'saveLiveTranscript', 'transcript'),
    status: 201,
  }),
  defineRoute({
    ...LIVE,
    id: 'LIVE-8',
    method: 'GET',
    path: '/api/live/transcripts/:transcript_id',
    summary: 'One Live transcript',
    params: transcriptParams,
    operation: 'LiveTranscript',
    variables: ({ params }) => ({ id: params.transcript_id }),
    response: res.LiveTranscriptDetailResponse,
    select: (data) => data.liveTranscript,
    status: 200,
    notFound: 'Transcript',
  }),
  defineRoute({
    ...LIVE,
    // An addition to the contract: the caller's Live events (liveEvents) as Server-Sent Events,
    // with the access of LIVE-1 (bearer, or an API key with live:read).
    id: 'LIVE-E',
    method: 'GET',
    path: '/api/live/events',
    summary: 'Live events as Server-Sent Events (started, credited, quota_low, quota_exhausted, ended)',
    operation: 'LiveEvents',
    variables: () => ({}),
    result: () => null,
    status: 200,
    events: LIVE_EVENTS,
    sse: { when: () => true, operation: 'LiveEvents', variables: () => ({}), frameOf: liveEventFrame, openEnded: true },
  }),
];
