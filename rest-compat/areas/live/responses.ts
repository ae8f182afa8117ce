/** The response bodies of the Xentree Live area (§3.7), read from the live operations' results. */
import { page, r, response } from '../../response.ts';

const lower = (values: string[], extra: Record<string, unknown> = {}) => r.lower({ type: 'string', enum: values, ...extra });

/** The month's quota (`LiveQuota`). */
export const LiveQuotaResponse = response('LiveQuotaResponse', {
  plan: lower(['free', 'pro']),
  period_start: r.dateTime({ description: 'Start of the current UTC calendar month.' }),
  period_end: r.dateTime({ description: 'Start of the next month.' }),
  quota_seconds: r.int({ description: 'free 1800, pro 36000.' }),
  used_seconds: r.int(),
  remaining_seconds: r.int({ description: 'max(0, quota − used).' }),
  active_session_id: r.uuidOrNull(),
});

/** A started session (a `LiveSessionPayload`). */
export const LiveSessionResponse = response('LiveSessionResponse', {
  session_id: r.uuid().from('id').within('session'),
  session_type: lower(['voice', 'avatar']).from('sessionType').within('session'),
  status: lower(['active']).from('status').within('session'),
  started_at: r.dateTime().from('startedAt').within('session'),
  last_heartbeat_at: r.dateTime().from('lastHeartbeatAt').within('session'),
  used_seconds: r.int({ description: 'Seconds billed in this session (0).' }).from('billedSeconds').within('session'),
  remaining_seconds: r.int({ description: 'Seconds left this month.' }).from('remainingSeconds').within('quota'),
  heartbeat_interval_seconds: r.int({ const: 20 }).from('heartbeatIntervalSeconds').within('session'),
  heartbeat_timeout_seconds: r.int({ const: 60 }).from('heartbeatTimeoutSeconds').within('session'),
  realtime_url: r.str().from('realtimeUrl').within('session'),
});

/** A credited heartbeat (a `LiveSessionPayload`). */
export const LiveSessionHeartbeatResponse = response('LiveSessionHeartbeatResponse', {
  session_id: r.uuid().from('id').within('session'),
  status: lower(['active']).from('status').within('session'),
  last_heartbeat_at: r.dateTime().from('lastHeartbeatAt').within('session'),
  used_seconds: r.int({ description: 'Seconds billed in this session.' }).from('billedSeconds').within('session'),
  remaining_seconds: r.int({ description: 'Seconds left this month.' }).from('remainingSeconds').within('quota'),
});

/** An ended session (a `LiveSessionPayload`). */
export const LiveSessionEndResponse = response('LiveSessionEndResponse', {
  session_id: r.uuid().from('id').within('session'),
  session_type: lower(['voice', 'avatar']).from('sessionType').within('session'),
  status: lower(['ended']).from('status').within('session'),
  started_at: r.dateTime().from('startedAt').within('session'),
  ended_at: r.dateTime().from('endedAt').within('session'),
  duration_seconds: r.int().from('durationSeconds').within('session'),
  billed_seconds: r.int().from('billedSeconds').within('session'),
  remaining_seconds: r.int().from('remainingSeconds').within('quota'),
  end_reason: lower(['client', 'timeout']).from('endReason').within('session'),
  xp_awarded: r.int().from('xpAwarded').within('session'),
});

/** The stored nickname. */
export const LiveNicknameResponse = response('LiveNicknameResponse', { nickname: r.str(), updated_at: r.dateTime() });

/** One transcript in a list. */
export const LiveTranscriptListItem = response('LiveTranscriptListItem', {
  id: r.uuid(),
  session_id: r.uuidOrNull(),
  session_started_at: r.dateTime(),
  session_ended_at: r.dateTime(),
  duration_seconds: r.int(),
  turn_count: r.int(),
  preview: r.str({ description: 'The first 120 characters of the first turn.' }),
  created_at: r.dateTime(),
});

export const LiveTranscriptListResponse = page('LiveTranscriptListResponse', LiveTranscriptListItem);

/** A saved transcript. */
export const LiveTranscriptSaveResponse = response('LiveTranscriptSaveResponse', { id: r.uuid(), session_id: r.uuidOrNull(), turn_count: r.int(), created_at: r.dateTime() });

/** A transcript with its turns, in stored order. */
export const LiveTranscriptDetailResponse = response('LiveTranscriptDetailResponse', {
  id: r.uuid(),
  session_id: r.uuidOrNull(),
  session_started_at: r.dateTime(),
  session_ended_at: r.dateTime(),
  duration_seconds: r.int(),
  transcripts: r.objects({ role: lower(['user', 'ai']), text: r.str(), timestamp: r.dateTime() }).from('turns'),
  created_at: r.dateTime(),
});

/** The session a Live event carries: active (null end fields) until its `ended` event. */
export const LiveEventSession = response('LiveEventSession', {
  session_id: r.uuid().from('id').within('session'),
  session_type: lower(['voice', 'avatar']).from('sessionType').within('session'),
  status: lower(['active', 'ended']).from('status').within('session'),
  started_at: r.dateTime().from('startedAt').within('session'),
  ended_at: r.dateTimeOrNull().from('endedAt').within('session'),
  duration_seconds: r.value({ type: ['integer', 'null'] }).from('durationSeconds').within('session'),
  billed_seconds: r.int().from('billedSeconds').within('session'),
  remaining_seconds: r.int().from('remainingSeconds').within('quota'),
  end_reason: lower(['client', 'timeout'], { type: ['string', 'null'], enum: ['client', 'timeout', null] }).from('endReason').within('session'),
  xp_awarded: r.value({ type: ['integer', 'null'] }).from('xpAwarded').within('session'),
  last_heartbeat_at: r.dateTime().from('lastHeartbeatAt').within('session'),
});

/** One Live event (`LIVE-E`): the `data` of each frame, whatever its `event` name. */
export const LiveEventData = response('LiveEventData', {
  type: lower(['started', 'credited', 'quota_low', 'quota_exhausted', 'ended']),
  at: r.dateTime(),
  credited_seconds: r.value({ type: ['integer', 'null'], description: 'Seconds credited by a `credited` event, else null.' }),
  session: r.one(LiveEventSession).from(),
  quota: r.one(LiveQuotaResponse),
  user: r.object({ id: r.uuid(), username: r.str(), live_nickname: r.strOrNull() }),
});
