/**
 * Live quota arithmetic (§4.8), free of I/O: allowances per plan, the UTC calendar month a credit
 * counts in, the credit of one heartbeat, and the `live_session` XP of an ended session (§4.2).
 */

export type LivePlan = 'free' | 'pro';

/** Monthly allowance in seconds per plan. */
export const QUOTA_SECONDS: Readonly<Record<LivePlan, number>> = { free: 1_800, pro: 36_000 };
/** Clients send a heartbeat this often (seconds). */
export const HEARTBEAT_INTERVAL_SECONDS = 20;
/** A session silent for more than this (seconds) has ended at its last heartbeat. */
export const HEARTBEAT_TIMEOUT_SECONDS = 60;
/** One heartbeat credits at most this many seconds. */
export const MAX_CREDIT_SECONDS = 60;
/** QUOTA_LOW is announced when the remaining seconds first reach this or less. */
export const QUOTA_LOW_SECONDS = 120;

/** The plan's allowance; a context without a plan counts as free. */
export function quotaOf(plan: LivePlan | null): number {
  return QUOTA_SECONDS[plan ?? 'free'];
}

/** Start of the UTC calendar month of `at`, and of the next one. */
export function monthOf(at: Date): { start: Date; end: Date } {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  return { start: new Date(Date.UTC(y, m, 1)), end: new Date(Date.UTC(y, m + 1, 1)) };
}

/** Whole seconds from `from` to `to` (never negative). */
export function wholeSeconds(from: Date, to: Date): number {
  return Math.max(0, Math.floor((to.getTime() - from.getTime()) / 1000));
}

/** Whether a session last heard of at `lastHeartbeatAt` has timed out by `now`. */
export function isSilent(lastHeartbeatAt: Date, now: Date): boolean {
  return now.getTime() - lastHeartbeatAt.getTime() > HEARTBEAT_TIMEOUT_SECONDS * 1000;
}

/** The credit of a heartbeat at `now`: `min(floor(now − last), 60)`, capped at what the month has left. */
export function creditOf(lastHeartbeatAt: Date, now: Date, remainingSeconds: number): number {
  return Math.max(0, Math.min(wholeSeconds(lastHeartbeatAt, now), MAX_CREDIT_SECONDS, remainingSeconds));
}

/** §4.2 `live_session`: 2 XP per full minute billed, at most 60. */
export function liveSessionXp(billedSeconds: number): number {
  return Math.min(60, 2 * Math.floor(Math.max(0, billedSeconds) / 60));
}
