/** The response bodies of Profile & Analytics (§3.5), read from the learning subgraph's XP types. */
import { r, response } from '../../response.ts';

const date = (): ReturnType<typeof r.str> => r.str({ format: 'date' });

export const XPBooster = response('XPBooster', {
  multiplier: r.num(),
  source: r.str({ const: 'daily_quests' }),
  started_at: r.dateTime(),
  expires_at: r.dateTime(),
});

export const XPSourceBreakdown = response('XPSourceBreakdown', {
  xel_task: r.int(),
  xel_module: r.int(),
  xel_evaluation: r.int(),
  chat_session: r.int(),
  xel_session: r.int(),
  live_session: r.int(),
  quest: r.int(),
});

export const XPProfileResponse = response('XPProfileResponse', {
  user_id: r.uuid(),
  username: r.str(),
  xp: r.int(),
  level: r.int({ minimum: 1 }),
  current_level_xp: r.int(),
  next_level_xp: r.int(),
  xp_to_next_level: r.int(),
  level_progress: r.num(),
  current_streak: r.int(),
  longest_streak: r.int(),
  active_booster: r.oneOrNull(XPBooster),
  today_xp: r.int(),
  today_xp_breakdown: r.one(XPSourceBreakdown),
  token_balance: r.int(),
});

export const PublicXPProfileResponse = response('PublicXPProfileResponse', {
  username: r.str(),
  display_name: r.str(),
  avatar_url: r.strOrNull(),
  level: r.int(),
  xp: r.int(),
  current_streak: r.int(),
  longest_streak: r.int(),
  cefr_band: r.strOrNull(),
  member_since: date(),
});

export const StreakStatusResponse = response('StreakStatusResponse', {
  current_streak: r.int(),
  longest_streak: r.int(),
  freezes_available: r.int(),
  freezes_used: r.int(),
  last_activity: r.strOrNull({ format: 'date' }),
  streak_at_risk: r.bool(),
});

export const WeeklyActivityResponse = response('WeeklyActivityResponse', {
  week_start: date(),
  week_end: date(),
  timezone: r.str(),
  days: r.objects({ date: date(), weekday: r.str(), xp: r.int() }),
  total_xp: r.int(),
  freeze_covered_dates: r.strings(),
});

export const LearningPulseDayEntry = response('LearningPulseDayEntry', { date: date(), xp: r.int(), minutes: r.int(), level: r.int() });

export const LearningPulseResponse = response('LearningPulseResponse', {
  start_date: date(),
  end_date: date(),
  timezone: r.str(),
  total_xp: r.int(),
  active_days: r.int(),
  days: r.list(LearningPulseDayEntry),
});

export const QuestItem = response('QuestItem', {
  id: r.str(),
  type: r.str(),
  title: r.str(),
  target: r.int(),
  progress: r.int(),
  completed: r.bool(),
  reward_xp: r.int(),
  completed_at: r.dateTimeOrNull(),
});

export const QuestsResponse = response('QuestsResponse', {
  date: date(),
  timezone: r.str(),
  quests: r.list(QuestItem),
  completed_count: r.int(),
  all_completed: r.bool(),
  booster_granted: r.bool(),
});

export const LearningTimeAnalyticsResponse = response('LearningTimeAnalyticsResponse', {
  start_date: date(),
  end_date: date(),
  timezone: r.str(),
  total_seconds: r.int(),
  total_minutes: r.int(),
  session_count: r.int(),
  average_session_seconds: r.int(),
  by_source: r.object({ chat: r.int(), xel: r.int(), live: r.int() }),
  daily: r.objects({ date: date(), seconds: r.int(), session_count: r.int() }),
});
