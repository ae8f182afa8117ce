/**
 * Local calendar dates (§1.11): every "today" is the user's IANA zone's date at the
 * moment of the event. Dates are `YYYY-MM-DD` strings; arithmetic on them is calendar arithmetic
 * (in UTC), so a 23- or 25-hour day is still one day.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(zone, f);
  }
  return f;
}

/** The local date of `at` in `zone` (an unknown zone falls back to UTC). */
export function localDate(at: Date, zone: string): string {
  let f: Intl.DateTimeFormat;
  try {
    f = formatter(zone);
  } catch {
    f = formatter('UTC');
  }
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

const toUtc = (date: string): number => Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));

/** `date` moved by `days` calendar days. */
export function addDays(date: string, days: number): string {
  return new Date(toUtc(date) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((toUtc(to) - toUtc(from)) / 86_400_000);
}

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** 0 for Sunday … 6 for Saturday. */
export function weekdayIndex(date: string): number {
  return new Date(toUtc(date)).getUTCDay();
}

/** Every date from `start` to `end` inclusive, ascending. */
export function dateRange(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) out.push(d);
  return out;
}

/** Whether `text` is a real `YYYY-MM-DD` calendar date. */
export function isDate(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && new Date(toUtc(text)).toISOString().slice(0, 10) === text;
}
