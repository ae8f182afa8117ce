/** The pure rules of §4.2–§4.6 and the local-date helpers, table by table. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { boosted, extendStreak, levelOf, levelProgress, pulseLevel, questTitle, reconcile, selectQuests, tokensOf, QUEST_TYPES, type StreakState } from './rules.ts';
import { addDays, daysBetween, isDate, localDate, weekdayIndex } from './time.ts';

describe('levels and tokens (§4.3)', () => {
  it.each([
    [0, 1, 0], [99, 1, 0], [100, 2, 10], [299, 2, 10], [300, 3, 20], [599, 3, 20], [600, 4, 30], [1000, 5, 40], [4500, 10, 90], [4499, 9, 80], [5499, 10, 90], [5500, 11, 100],
  ])('%i XP is level %i with %i tokens', (xp, level, tokens) => {
    expect(levelOf(xp)).toBe(level);
    expect(tokensOf(xp)).toBe(tokens);
  });

  it('progress within a level, to 4 decimal places', () => {
    expect(levelProgress(350)).toEqual({ level: 3, currentLevelXp: 300, nextLevelXp: 600, xpToNextLevel: 250, levelProgress: 0.1667 });
    expect(levelProgress(0)).toEqual({ level: 1, currentLevelXp: 0, nextLevelXp: 100, xpToNextLevel: 100, levelProgress: 0 });
  });
});

describe('boosters (§4.2, §4.6)', () => {
  it.each([
    [15, 2, 'xel_task', 2, 30], [7, 2, 'chat_session', 2, 14], [5, 1.5, 'xel_task', 1.5, 7], [10, 2, 'quest', 1, 10], [10, null, 'xel_task', 1, 10],
  ] as const)('base %i × %s for %s → multiplier %s, %i XP', (base, multiplier, source, m, xp) => {
    expect(boosted(base, multiplier, source)).toEqual({ multiplier: m, xp });
  });
});

const state = (over: Partial<StreakState>): StreakState => ({ currentStreak: 0, longestStreak: 0, freezesAvailable: 0, freezesUsed: 0, lastActivity: null, reconciledThrough: null, ...over });

describe('streaks (§4.4)', () => {
  it('active Mon and Tue, 0 freezes, nothing Wed: on Thu the streak is 0', () => {
    let s = extendStreak(reconcile(state({}), '2026-03-02').state, '2026-03-02');
    s = extendStreak(reconcile(s, '2026-03-03').state, '2026-03-03');
    expect(s).toMatchObject({ currentStreak: 2, longestStreak: 2 });
    expect(reconcile(s, '2026-03-04').state.currentStreak).toBe(2);
    expect(reconcile(s, '2026-03-05')).toEqual({ state: { ...s, currentStreak: 0, reconciledThrough: '2026-03-04' }, covered: [] });
  });

  it('active Mon, 1 freeze, nothing Tue, active Wed: the streak is 2 and Tue is covered', () => {
    const mon = extendStreak(reconcile(state({ freezesAvailable: 1 }), '2026-03-02').state, '2026-03-02');
    const wed = reconcile(mon, '2026-03-04');
    expect(wed.covered).toEqual(['2026-03-03']);
    expect(extendStreak(wed.state, '2026-03-04')).toMatchObject({ currentStreak: 2, freezesAvailable: 0, freezesUsed: 1, lastActivity: '2026-03-04' });
  });

  it.each([
    ['two freezes cover two missed days', 2, '2026-03-05', 3, ['2026-03-03', '2026-03-04'], 0],
    ['one freeze, two missed days: the second breaks it', 1, '2026-03-05', 0, ['2026-03-03'], 0],
    ['nothing missed', 0, '2026-03-03', 3, [], 0],
  ] as const)('%s', (_, freezes, today, streak, covered, left) => {
    const s = state({ currentStreak: 3, longestStreak: 3, freezesAvailable: freezes, lastActivity: '2026-03-02', reconciledThrough: '2026-03-01' });
    const r = reconcile(s, today);
    expect(r.covered).toEqual(covered);
    expect(r.state).toMatchObject({ currentStreak: streak, freezesAvailable: left, freezesUsed: covered.length });
  });

  it('a broken streak uses no freezes, however long ago', () => {
    const r = reconcile(state({ freezesAvailable: 2, lastActivity: '2025-01-01', reconciledThrough: '2025-01-01' }), '2026-03-05');
    expect(r).toEqual({ state: state({ freezesAvailable: 2, lastActivity: '2025-01-01', reconciledThrough: '2026-03-04' }), covered: [] });
  });

  it('every 7th day earns a freeze, at most 2 held; a second award the same day changes nothing', () => {
    expect(extendStreak(state({ currentStreak: 6, lastActivity: '2026-03-06' }), '2026-03-07')).toMatchObject({ currentStreak: 7, freezesAvailable: 1 });
    expect(extendStreak(state({ currentStreak: 13, freezesAvailable: 2, lastActivity: '2026-03-06' }), '2026-03-07')).toMatchObject({ currentStreak: 14, freezesAvailable: 2 });
    const s = state({ currentStreak: 4, lastActivity: '2026-03-07' });
    expect(extendStreak(s, '2026-03-07')).toBe(s);
  });
});

describe('daily quests (§4.5)', () => {
  it('keeps the 3 types with the lowest SHA-256 of "<user>:<date>:<type>"; target by the first byte', () => {
    const user = '6f1c1c57-5d0b-4b6e-9b8e-1f0a2a3b4c5d';
    const date = '2026-05-12';
    const digests = QUEST_TYPES.map((t) => ({ t, h: createHash('sha256').update(`${user}:${date}:${t}`).digest() })).sort((a, b) => a.h.toString('hex').localeCompare(b.h.toString('hex')));
    const quests = selectQuests(user, date);
    expect(quests.map((q) => q.type)).toEqual(digests.slice(0, 3).map((d) => d.t));
    expect(quests.every((q) => q.id === `${date}:${q.type}`)).toBe(true);
    expect(selectQuests(user, '2026-05-13')).not.toEqual(quests);
  });

  it.each([
    ['earn_xp', 30, 'Earn 30 XP'], ['xel_tasks', 1, 'Submit 1 English task'], ['xel_tasks', 3, 'Submit 3 English tasks'], ['study_minutes', 15, 'Study for 15 minutes'],
    ['complete_module', 1, 'Complete an English module'], ['live_minutes', 5, 'Practise 5 minutes in Live'], ['chat_messages', 10, 'Send 10 chat messages'], ['evaluation', 1, 'Run an AI evaluation'],
  ] as const)('%s %i: "%s"', (type, n, title) => {
    expect(questTitle(type, n)).toBe(title);
  });
});

describe('pulse intensity', () => {
  it.each([[0, 0], [1, 1], [19, 1], [20, 2], [49, 2], [50, 3], [99, 3], [100, 4], [5000, 4]])('%i XP → level %i', (xp, level) => {
    expect(pulseLevel(xp)).toBe(level);
  });
});

describe('local dates (§1.11)', () => {
  it.each([
    ['2026-03-08T07:59:59.000Z', 'America/Los_Angeles', '2026-03-07'],
    ['2026-03-08T08:00:00.000Z', 'America/Los_Angeles', '2026-03-08'],
    ['2026-03-09T06:59:59.000Z', 'America/Los_Angeles', '2026-03-08'], // the 23-hour day
    ['2026-03-09T07:00:00.000Z', 'America/Los_Angeles', '2026-03-09'],
    ['2026-04-04T10:59:59.000Z', 'Pacific/Auckland', '2026-04-04'],
    ['2026-04-04T11:00:00.000Z', 'Pacific/Auckland', '2026-04-05'], // the 25-hour day starts (NZDT)
    ['2026-04-05T11:59:59.000Z', 'Pacific/Auckland', '2026-04-05'], // and ends (NZST)
    ['2026-04-05T12:00:00.000Z', 'Pacific/Auckland', '2026-04-06'],
    ['2026-01-01T00:00:00.000Z', 'Not/AZone', '2026-01-01'],
  ])('%s in %s is %s', (at, zone, date) => {
    expect(localDate(new Date(at), zone)).toBe(date);
  });

  it('calendar arithmetic', () => {
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2026-03-01', -365)).toBe('2025-03-01');
    expect(daysBetween('2025-01-01', '2026-01-01')).toBe(365);
    expect(weekdayIndex('2026-03-08')).toBe(0);
    expect([isDate('2026-02-29'), isDate('2028-02-29'), isDate('2026-13-01'), isDate('26-01-01')]).toEqual([false, true, false, false]);
  });
});
