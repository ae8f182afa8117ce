/** The pure rules of §4.2–§4.6: levels and tokens, streak reconciliation, quest selection, pulse levels. */
import { createHash } from 'node:crypto';
import { addDays } from './time.ts';

/** §4.3: total XP needed to reach level `level` (L1 = 0, L2 = 100, L3 = 300 …). */
export function levelRequirement(level: number): number {
  return 50 * level * (level - 1);
}

/** §4.3: the largest level whose requirement is ≤ `xp` (at least 1). */
export function levelOf(xp: number): number {
  let level = Math.max(1, Math.floor((1 + Math.sqrt(1 + 0.08 * Math.max(0, xp))) / 2));
  while (levelRequirement(level + 1) <= xp) level += 1;
  while (level > 1 && levelRequirement(level) > xp) level -= 1;
  return level;
}

/** §4.3: 10 tokens for each level gained since level 1. */
export function tokensOf(xp: number): number {
  return 10 * (levelOf(xp) - 1);
}

/** The level figures of the XP profile. */
export function levelProgress(xp: number): { level: number; currentLevelXp: number; nextLevelXp: number; xpToNextLevel: number; levelProgress: number } {
  const level = levelOf(xp);
  const currentLevelXp = levelRequirement(level);
  const nextLevelXp = levelRequirement(level + 1);
  return {
    level,
    currentLevelXp,
    nextLevelXp,
    xpToNextLevel: nextLevelXp - xp,
    levelProgress: Math.round(((xp - currentLevelXp) / (nextLevelXp - currentLevelXp)) * 10_000) / 10_000,
  };
}

/** §4.2: an award under an active booster is `floor(base × multiplier)`; quest rewards never are. */
export function boosted(base: number, multiplier: number | null, source: string): { multiplier: number; xp: number } {
  const m = source === 'quest' || multiplier === null ? 1 : multiplier;
  return { multiplier: m, xp: Math.floor(base * m) };
}

/** The streak fields §4.4's reconciliation reads and writes. */
export interface StreakState {
  currentStreak: number;
  longestStreak: number;
  freezesAvailable: number;
  freezesUsed: number;
  /** Last local date with XP > 0. */
  lastActivity: string | null;
  /** Every date up to this one has been reconciled (null: nothing to reconcile yet). */
  reconciledThrough: string | null;
}

export const MAX_FREEZES = 2;

/**
 * §4.4 reconciliation up to `today` (exclusive): each missed day (no XP) consumes a freeze while the
 * streak is alive, or ends it. Returns the new state and the dates freezes covered.
 */
export function reconcile(state: StreakState, today: string): { state: StreakState; covered: string[] } {
  const yesterday = addDays(today, -1);
  const s = { ...state };
  const covered: string[] = [];
  if (s.reconciledThrough === null || s.reconciledThrough >= yesterday) {
    if (s.reconciledThrough === null) s.reconciledThrough = yesterday;
    return { state: s, covered };
  }
  // Days with XP after the reconciled date can only be the last active day (awards reconcile first).
  for (let d = addDays(s.reconciledThrough, 1); d <= yesterday && s.currentStreak > 0; d = addDays(d, 1)) {
    if (d === s.lastActivity) continue;
    if (s.freezesAvailable > 0) {
      s.freezesAvailable -= 1;
      s.freezesUsed += 1;
      covered.push(d);
    } else {
      s.currentStreak = 0;
    }
  }
  s.reconciledThrough = yesterday;
  return { state: s, covered };
}

/** §4.4: the first XP of `today` (after reconciliation) extends the streak and may earn a freeze. */
export function extendStreak(state: StreakState, today: string): StreakState {
  if (state.lastActivity === today) return state;
  const currentStreak = state.currentStreak + 1;
  const earned = currentStreak % 7 === 0 ? 1 : 0;
  return {
    ...state,
    currentStreak,
    longestStreak: Math.max(state.longestStreak, currentStreak),
    freezesAvailable: Math.min(MAX_FREEZES, state.freezesAvailable + earned),
    lastActivity: today,
  };
}

export const QUEST_TYPES = ['earn_xp', 'xel_tasks', 'study_minutes', 'complete_module', 'live_minutes', 'chat_messages', 'evaluation'] as const;
export type QuestType = (typeof QUEST_TYPES)[number];

const TARGETS: Record<QuestType, readonly number[]> = {
  earn_xp: [30, 50, 100],
  xel_tasks: [1, 3, 5],
  study_minutes: [10, 15, 30],
  complete_module: [1],
  live_minutes: [5, 10],
  chat_messages: [5, 10],
  evaluation: [1],
};

export const QUEST_REWARD_XP = 10;

/** §4.5 titles; `(s)` is dropped when n = 1. */
export function questTitle(type: QuestType, n: number): string {
  const s = n === 1 ? '' : 's';
  switch (type) {
    case 'earn_xp': return `Earn ${n} XP`;
    case 'xel_tasks': return `Submit ${n} English task${s}`;
    case 'study_minutes': return `Study for ${n} minutes`;
    case 'complete_module': return 'Complete an English module';
    case 'live_minutes': return `Practise ${n} minutes in Live`;
    case 'chat_messages': return `Send ${n} chat messages`;
    case 'evaluation': return 'Run an AI evaluation';
  }
}

export interface SelectedQuest {
  id: string;
  type: QuestType;
  title: string;
  target: number;
}

/** §4.5: the user's three quests of local date `date`, in selection order. */
export function selectQuests(userId: string, date: string): SelectedQuest[] {
  return QUEST_TYPES.map((type) => ({ type, digest: createHash('sha256').update(`${userId}:${date}:${type}`, 'utf8').digest() }))
    .sort((a, b) => (a.digest.toString('hex') < b.digest.toString('hex') ? -1 : 1))
    .slice(0, 3)
    .map(({ type, digest }) => {
      const targets = TARGETS[type];
      const target = targets[(digest[0] ?? 0) % targets.length] ?? 1;
      return { id: `${date}:${type}`, type, title: questTitle(type, target), target };
    });
}

/** XP-5 intensity: 0 for no XP, then 1–19, 20–49, 50–99, ≥ 100. */
export function pulseLevel(xp: number): number {
  if (xp <= 0) return 0;
  if (xp < 20) return 1;
  if (xp < 50) return 2;
  if (xp < 100) return 3;
  return 4;
}

/** §4.6 booster: 2.0 for 15 minutes from the completion of the third quest. */
export const BOOSTER = { multiplier: 2, source: 'daily_quests', durationMs: 15 * 60_000 } as const;
