import { describe, expect, it } from 'vitest';
import { creditOf, isSilent, liveSessionXp, monthOf, quotaOf } from './quota.ts';

const at = (iso: string) => new Date(iso);

describe('live quota arithmetic', () => {
  it('uses UTC calendar months, whatever the local offset of the instant', () => {
    expect(monthOf(at('2026-01-31T23:59:59.999Z'))).toEqual({ start: at('2026-01-01T00:00:00.000Z'), end: at('2026-02-01T00:00:00.000Z') });
    expect(monthOf(at('2026-02-01T00:00:00.000Z')).start).toEqual(at('2026-02-01T00:00:00.000Z'));
    expect(monthOf(at('2026-12-15T10:00:00.000Z')).end).toEqual(at('2027-01-01T00:00:00.000Z'));
    expect(monthOf(at('2026-03-01T00:30:00.000+01:00')).start).toEqual(at('2026-02-01T00:00:00.000Z'));
  });

  it('credits whole seconds, at most 60 and at most what is left', () => {
    const last = at('2026-05-01T10:00:00.000Z');
    expect(creditOf(last, at('2026-05-01T10:00:20.999Z'), 1800)).toBe(20);
    expect(creditOf(last, at('2026-05-01T10:05:00.000Z'), 1800)).toBe(60);
    expect(creditOf(last, at('2026-05-01T10:00:45.000Z'), 30)).toBe(30);
    expect(creditOf(last, at('2026-05-01T09:59:59.000Z'), 1800)).toBe(0);
    expect(creditOf(last, at('2026-05-01T10:00:30.000Z'), 0)).toBe(0);
  });

  it('times out after more than 60 s of silence', () => {
    const last = at('2026-05-01T10:00:00.000Z');
    expect(isSilent(last, at('2026-05-01T10:01:00.000Z'))).toBe(false);
    expect(isSilent(last, at('2026-05-01T10:01:00.001Z'))).toBe(true);
  });

  it('awards 2 XP per full billed minute, at most 60, and knows the plans', () => {
    expect([0, 59, 60, 119, 120, 1799, 1800, 36_000].map(liveSessionXp)).toEqual([0, 0, 2, 2, 4, 58, 60, 60]);
    expect([quotaOf('free'), quotaOf('pro'), quotaOf(null)]).toEqual([1800, 36_000, 1800]);
  });
});
