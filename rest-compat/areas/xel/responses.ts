/** The response bodies of Xentree English (§3.6), read from the learning subgraph's XEL types. */
import { r, response } from '../../response.ts';

const LEVELS = ['A1', 'A2', 'B1', 'B2', 'C1', 'C2'];
const STATUSES = ['not_started', 'in_progress', 'completed'];

const summary = {
  id: r.uuid(),
  slug: r.str(),
  title: r.str(),
  description: r.str(),
  cefr_level: r.str({ enum: LEVELS }),
  skills: r.lowerList(),
  order: r.int(),
  task_count: r.int(),
  estimated_minutes: r.int(),
  status: r.lower({ type: 'string', enum: STATUSES }),
  progress: r.num({ minimum: 0, maximum: 1 }),
  passed_task_count: r.int(),
  score: r.value({ type: ['number', 'null'] }),
  started_at: r.dateTimeOrNull(),
  completed_at: r.dateTimeOrNull(),
};

export const XELModuleSummary = response('XELModuleSummary', summary);

const task = {
  id: r.uuid(),
  module_id: r.uuid(),
  order: r.int(),
  type: r.lower({ type: 'string', enum: ['multiple_choice', 'fill_blank', 'short_answer', 'writing', 'speaking'] }),
  skill: r.lower({ type: 'string', enum: ['listening', 'speaking', 'reading', 'writing', 'grammar', 'vocabulary'] }),
  prompt: r.str(),
  options: r.value({ type: ['array', 'null'], items: { type: 'string' } }),
  audio_url: r.strOrNull(),
  variant: r.int(),
  max_score: r.int(),
};

export const XELTask = response('XELTask', task);

export const XELTaskDetail = response('XELTaskDetail', {
  ...task,
  attempts: r.int(),
  best_score: r.value({ type: ['number', 'null'] }),
  passed: r.bool(),
  last_submitted_at: r.dateTimeOrNull(),
});

export const XELModuleDetail = response('XELModuleDetail', { ...summary, tasks: r.list(XELTaskDetail) });

export const XELModuleStartResponse = response('XELModuleStartResponse', {
  module_id: r.uuid(),
  status: r.lower({ type: 'string', enum: ['in_progress', 'completed'] }),
  started_at: r.dateTime(),
  next_task_id: r.uuidOrNull(),
});

export const XELModuleCompleteResponse = response('XELModuleCompleteResponse', {
  module_id: r.uuid(),
  status: r.lower({ type: 'string', const: 'completed' }),
  completed_at: r.dateTime(),
  score: r.num(),
  xp_awarded: r.int(),
  already_completed: r.bool(),
  level: r.int(),
  level_up: r.bool(),
});

export const XELTaskSubmissionResponse = response('XELTaskSubmissionResponse', {
  submission_id: r.uuid(),
  task_id: r.uuid(),
  module_id: r.uuid(),
  score: r.num({ minimum: 0, maximum: 100 }),
  passed: r.bool(),
  correct: r.value({ type: ['boolean', 'null'] }),
  feedback: r.str(),
  xp_awarded: r.int(),
  module_progress: r.num(),
  module_status: r.str(),
  xpi: r.value({ type: ['number', 'null'] }),
  submitted_at: r.dateTime(),
});

const score = () => r.value({ type: ['number', 'null'] });

export const XELSubScores = response('XELSubScores', {
  listening: score(), speaking: score(), reading: score(), writing: score(), grammar: score(), vocabulary: score(),
});

export const XELXPIResponse = response('XELXPIResponse', {
  xpi: score(),
  cefr_band: r.strOrNull({ enum: [...LEVELS, null] }),
  sub_scores: r.one(XELSubScores),
  sample_counts: r.object({ listening: r.int(), speaking: r.int(), reading: r.int(), writing: r.int(), grammar: r.int(), vocabulary: r.int() }),
  updated_at: r.dateTimeOrNull(),
});

export const XELXPIHistoryResponse = response('XELXPIHistoryResponse', {
  days: r.int(),
  items: r.objects({ date: r.str({ format: 'date' }), xpi: r.num(), cefr_band: r.str({ enum: LEVELS }), sub_scores: r.one(XELSubScores) }),
});

export const XELSessionResponse = response('XELSessionResponse', {
  id: r.uuid(),
  module_id: r.uuidOrNull(),
  status: r.str({ enum: ['active', 'ended'] }),
  started_at: r.dateTime(),
  last_activity_at: r.dateTime(),
  ended_at: r.dateTimeOrNull(),
  duration_seconds: r.value({ type: ['integer', 'null'] }),
});

export const XELSessionEndResponse = response('XELSessionEndResponse', {
  id: r.uuid(),
  module_id: r.uuidOrNull(),
  started_at: r.dateTime(),
  ended_at: r.dateTime(),
  duration_seconds: r.int(),
  end_reason: r.str({ enum: ['client', 'timeout', 'replaced'] }),
  xp_awarded: r.int(),
});

export const XELTranscriptEntry = response('XELTranscriptEntry', {
  id: r.uuid(),
  session_id: r.uuid(),
  sequence: r.int(),
  role: r.str({ enum: ['user', 'ai'] }),
  text: r.str(),
  timestamp: r.dateTime(),
  created_at: r.dateTime(),
});

export const XELTranscriptListResponse = response('XELTranscriptListResponse', { session_id: r.uuid(), entries: r.list(XELTranscriptEntry) });

export const XELEvaluationResponse = response('XELEvaluationResponse', {
  evaluation_id: r.uuid(),
  kind: r.str({ enum: ['speaking', 'writing'] }),
  overall_score: r.int({ minimum: 0, maximum: 100 }),
  cefr_band: r.str({ enum: LEVELS }),
  criteria: r.objects({ name: r.str(), score: r.int(), feedback: r.str() }),
  feedback: r.str(),
  suggestions: r.strings(),
  xp_awarded: r.int(),
  created_at: r.dateTime(),
});

export const XELDashboardResponse = response('XELDashboardResponse', {
  xpi: r.one(XELXPIResponse),
  modules_total: r.int(),
  modules_not_started: r.int(),
  modules_in_progress: r.int(),
  modules_completed: r.int(),
  current_module: r.oneOrNull(XELModuleSummary),
  recent_submissions: r.objects({ submission_id: r.uuid(), task_id: r.uuid(), module_id: r.uuid(), score: r.num(), passed: r.bool(), submitted_at: r.dateTime() }),
  recent_evaluations: r.objects({ evaluation_id: r.uuid(), kind: r.str(), overall_score: r.int(), created_at: r.dateTime() }),
  learning_seconds_7d: r.int().from('learningSeconds7d'),
  active_session: r.oneOrNull(XELSessionResponse),
  level: r.int(),
  xp: r.int(),
  current_streak: r.int(),
});
