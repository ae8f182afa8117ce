/** Helpers of the Live suites: arranging time in live's database, and LIVE-2 as a user. */
import type { MikroORM } from '@mikro-orm/postgresql';
import { expect } from 'vitest';
import { bearer, type TestStack } from './harness.ts';
import { TIMESTAMP } from './assertions.ts';

/** Runs SQL on live's database (for arranging time and usage, never for asserting behaviour). */
export async function liveSql<T = Record<string, unknown>>(t: TestStack, sql: string, params: unknown[] = []): Promise<T[]> {
  const orm: MikroORM | undefined = t.stack.subgraphs.find((s) => s.name === 'live')?.orm;
  if (!orm) throw new Error('live subgraph is not running');
  return orm.em.fork().getConnection().execute<T[]>(sql, params);
}

/**
 * Moves a session back in time so that its last heartbeat (or its start, before any) was `seconds`
 * ago, now; its start moves back by as much. Counted from now, not from the stored time: the time a
 * loaded machine takes between the last request and this one must not add to the next credit.
 */
export async function backdate(t: TestStack, sessionId: string, seconds: number): Promise<void> {
  const back = `("last_heartbeat_at" - (now() - ?::int * interval '1 second'))`;
  await liveSql(t, `update "live"."sessions" set "started_at" = "started_at" - ${back}, "last_heartbeat_at" = "last_heartbeat_at" - ${back} where "id" = ?`, [seconds, seconds, sessionId]);
}

/** Sets the user's usage of the current UTC month. */
export async function setUsage(t: TestStack, userId: string, used: number, monthStart = currentMonthStart()): Promise<void> {
  await liveSql(t, `insert into "live"."usage" ("user_id", "period_start", "used_seconds") values (?, ?, ?) on conflict ("user_id", "period_start") do update set "used_seconds" = excluded."used_seconds"`, [userId, monthStart, used]);
}

export function currentMonthStart(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** LIVE-2 as the bearer of `token`; returns the session id. */
export async function startSession(t: TestStack, token: string, type: 'voice' | 'avatar' = 'voice'): Promise<string> {
  const res = await t.rest('POST', '/api/live/session/start', { json: { session_type: type }, headers: bearer(token) });
  expect(res.status, res.text).toBe(201);
  return (res.body as { session_id: string }).session_id;
}

export const QUOTA_EXCEEDED = { detail: { error: 'live_quota_exceeded', message: 'Monthly Live session quota exceeded' } };

/** A voice session's REST body once ended (`ended_at` set); the figures of the test in `figures`. */
export function endedVoiceSession(id: string, figures: { billed_seconds: number; remaining_seconds: number; end_reason: string; xp_awarded: number }): Record<string, unknown> {
  return {
    session_id: id,
    session_type: 'voice',
    status: 'ended',
    started_at: expect.stringMatching(TIMESTAMP),
    ended_at: expect.stringMatching(TIMESTAMP),
    duration_seconds: expect.any(Number),
    ...figures,
  };
}
