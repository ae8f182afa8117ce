/**
 * The shapes REST suites assert, declared once (§1.7 error bodies, §1.5 ids and
 * timestamps) so a change to the contract is one edit here, not one per suite.
 */
import { expect } from 'vitest';
import type { RestResponse } from './harness.ts';

/** ISO 8601 UTC with milliseconds, as every `*_at` field is written. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const API_KEY = /^xntr-[A-Za-z0-9_-]{86}$/;
/** An opaque refresh token: 32 random bytes, base64url. */
export const REFRESH = /^[A-Za-z0-9_-]{43}$/;
/** A well-formed id that no row carries. */
export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** `{"detail":{"error":…,"message":…,…extra}}` (§1.7). */
export const coded = (error: string, message: string, extra: Record<string, unknown> = {}) => ({ detail: { error, message, ...extra } });
export const notFoundBody = (resource: string) => coded('not_found', `${resource} not found`);

/** Status and body only, so one `toEqual` checks both and a failure shows both. */
export const wire = (res: { status: number; body: unknown }): { status: number; body: unknown } => ({ status: res.status, body: res.body });

/** The body of a REST response as `T` after checking its status (with the body in the failure). */
export function ok<T>(res: RestResponse, status: number): T {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
  return res.body as T;
}

/** A string property of a JSON body (fails the test when absent). */
export function prop(body: unknown, key: string): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
  if (typeof value !== 'string') throw new Error(`expected a string "${key}" in ${JSON.stringify(body)}`);
  return value;
}

/** The whole UserProfile expected for a freshly registered user, with overrides. */
export function userProfile(u: { email: string; username: string }, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: expect.stringMatching(UUID_V4),
    email: u.email.toLowerCase(),
    username: u.username.toLowerCase(),
    full_name: null,
    timezone: 'UTC',
    preferred_language: 'en',
    avatar_url: null,
    live_nickname: null,
    plan: 'free',
    role: 'user',
    public_profile_enabled: true,
    created_at: expect.stringMatching(TIMESTAMP),
    updated_at: expect.stringMatching(TIMESTAMP),
    ...over,
  };
}
