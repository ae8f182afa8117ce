/** Xentree Live, LIVE-1..8 (§3.7, §4.8). */
import { v } from '../../validation.ts';
import { defineRoute, type RouteDecl } from '../../route.ts';
import { array, field, lowerEnum, object } from '../../shape.ts';

const sessionBody = v.object({ session_id: v.uuid() });
const pageQuery = v.object({ limit: v.optional(v.int({ ge: 1, le: 100 }), 20), offset: v.optional(v.int({ ge: 0 }), 0) });
const transcriptParams = v.object({ transcript_id: v.uuid() });

const saveBody = v.object({
  session_started_at: v.datetime(),
  session_ended_at: v.datetime(),
  transcripts: v.list(v.object({ role: v.enumOf(['user', 'ai'] as const), text: v.str({ min: 1, max: 10_000 }), timestamp: v.datetime() }), { min: 1, max: 2_000 }),
  session_id: v.optional(v.nullable(v.uuid())),
});

/** `LiveQuotaResponse`. */
export function liveQuotaResponse(quota: unknown): unknown {
  const q = object(quota);
  return (
    q && {
      plan: lowerEnum(q.plan),
      period_start: q.periodStart,
      period_end: q.periodEnd,
      quota_seconds: q.quotaSeconds,
      used_seconds: q.usedSeconds,
      remaining_seconds: q.remainingSeconds,
      active_session_id: q.activeSessionId ?? null,
    }
  );
}

/** The session and quota of a `LiveSessionPayload`. */
function payload(data: Record<string, unknown>, root: string): { s: Record<string, unknown>; q: Record<string, unknown> } | null {
  const s = object(field(data, root, 'session'));
  const q = object(field(data, root, 'quota'));
  return s && q ? { s, q } : null;
}

/** `LiveSessionResponse` (LIVE-2). */
function sessionResponse(data: Record<string, unknown>): unknown {
  const p = payload(data, 'startLiveSession');
  return (
    p && {
      session_id: p.s.id,
      session_type: lowerEnum(p.s.sessionType),
      status: lowerEnum(p.s.status),
      started_at: p.s.startedAt,
      last_heartbeat_at: p.s.lastHeartbeatAt,
      used_seconds: p.s.billedSeconds,
      remaining_seconds: p.q.remainingSeconds,
      heartbeat_interval_seconds: p.s.heartbeatIntervalSeconds,
      heartbeat_timeout_seconds: p.s.heartbeatTimeoutSeconds,
      realtime_url: p.s.realtimeUrl,
    }
  );
}

/** `LiveSessionHeartbeatResponse` (LIVE-3). */
function heartbeatResponse(data: Record<string, unknown>): unknown {
  const p = payload(data, 'heartbeatLiveSession');
  return (
    p && {
      session_id: p.s.id,
      status: lowerEnum(p.s.status),
      last_heartbeat_at: p.s.lastHeartbeatAt,
      used_seconds: p.s.billedSeconds,
      remaining_seconds: p.q.remainingSeconds,
    }
  );
}

/** `LiveSessionEndResponse` (LIVE-4). */
function endResponse(data: Record<string, unknown>): unknown {
  const p = payload(data, 'endLiveSession');
  return (
    p && {
      session_id: p.s.id,
      session_type: lowerEnum(p.s.sessionType),
      status: lowerEnum(p.s.status),
      started_at: p.s.startedAt,
      ended_at: p.s.endedAt,
      duration_seconds: p.s.durationSeconds,
      billed_seconds: p.s.billedSeconds,
      remaining_seconds: p.q.remainingSeconds,
      end_reason: lowerEnum(p.s.endReason),
      xp_awarded: p.s.xpAwarded,
    }
  );
}

/** `LiveTranscriptListItem`. */
function transcriptItem(transcript: unknown): unknown {
  const t = object(transcript);
  return (
    t && {
      id: t.id,
      session_id: t.sessionId ?? null,
      session_started_at: t.sessionStartedAt,
      session_ended_at: t.sessionEndedAt,
      duration_seconds: t.durationSeconds,
      turn_count: t.turnCount,
      preview: t.preview,
      created_at: t.createdAt,
    }
  );
}

/** `LiveTranscriptDetailResponse`. */
function transcriptDetail(transcript: unknown): unknown {
  const t = object(transcript);
  if (!t) return null;
  return {
    id: t.id,
    session_id: t.sessionId ?? null,
    session_started_at: t.sessionStartedAt,
    session_ended_at: t.sessionEndedAt,
    duration_seconds: t.durationSeconds,
    transcripts: array(t.turns).map((turn) => {
      const x = object(turn);
      return x && { role: lowerEnum(x.role), text: x.text, timestamp: x.timestamp };
    }),
    created_at: t.createdAt,
  };
}

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
    result: (data) => liveQuotaResponse(data.liveQuota),
    status: 200,
    responseName: 'LiveQuotaResponse',
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
    result: sessionResponse,
    status: 201,
    responseName: 'LiveSessionResponse',
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
    result: heartbeatResponse,
    status: 200,
    notFound: 'Live session',
    responseName: 'LiveSessionHeartbeatResponse',
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
    result: endResponse,
    status: 200,
    notFound: 'Live session',
    responseName: 'LiveSessionEndResponse',
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
    result: (data) => {
      const n = object(data.setLiveNickname);
      return n && { nickname: n.nickname, updated_at: n.updatedAt };
    },
    status: 200,
    responseName: 'LiveNicknameResponse',
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
    result: (data) => {
      const p = object(data.liveTranscripts);
      return p && { items: array(p.items).map(transcriptItem), total: p.total, limit: p.limit, offset: p.offset };
    },
    status: 200,
    responseName: 'LiveTranscriptListResponse',
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
    result: (data) => {
      const t = object(field(data, 'saveLiveTranscript', 'transcript'));
      return t && { id: t.id, session_id: t.sessionId ?? null, turn_count: t.turnCount, created_at: t.createdAt };
    },
    status: 201,
    responseName: 'LiveTranscriptSaveResponse',
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
    result: (data) => transcriptDetail(data.liveTranscript),
    status: 200,
    notFound: 'Transcript',
    responseName: 'LiveTranscriptDetailResponse',
  }),
];
