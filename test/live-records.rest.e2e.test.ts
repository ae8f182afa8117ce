/** Xentree Live over REST: nicknames (LIVE-5, also AUTH-5's `live_nickname`) and transcripts (LIVE-6..8, LIVE-7's internal mode). */
import { describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { coded, notFoundBody, TIMESTAMP, UNKNOWN_ID, UUID_V4 } from './assertions.ts';
import { apiKey, createKey, createOrg, person, type Person } from './org-fixtures.ts';
import { startSession } from './live-fixtures.ts';

const t = useTestStack();

const setNickname = (p: Person, nickname: unknown) => t.rest('PUT', '/api/live/nickname', { json: { nickname }, headers: bearer(p.access) });
const turns = (n: number, text = 'hello') => Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'ai' : 'user', text: `${text} ${i}`, timestamp: '2026-05-01T10:00:00+02:00' }));
const transcript = (over: Record<string, unknown> = {}) => ({ session_started_at: '2026-05-01T08:00:00Z', session_ended_at: '2026-05-01T08:05:30.500Z', transcripts: turns(2), ...over });
const save = (headers: Record<string, string>, json: unknown) => t.rest('POST', '/api/live/transcripts', { json, headers });
const INVALID_SERVICE_KEY = coded('invalid_service_key', 'Invalid internal service credentials');

describe('LIVE-5 nickname', () => {
  it('trims, accepts letters and digits of any script, and shows in the profile (AUTH-5) and to GraphQL', async () => {
    const p = await person(t, 'ln');
    const res = await setNickname(p, '  Zoë_Ан-12.x  ');
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { nickname: 'Zoë_Ан-12.x', updated_at: expect.stringMatching(TIMESTAMP) } });
    expect(((await t.rest('GET', '/api/auth/me', { headers: bearer(p.access) })).body as Record<string, unknown>).live_nickname).toBe('Zoë_Ан-12.x');
    const me = await t.gql('{ me { id liveNickname } }', {}, bearer(p.access));
    expect(me.body).toEqual({ data: { me: { id: p.id, liveNickname: 'Zoë_Ан-12.x' } } });
    await setNickname(p, '日本語 ok');
    expect(((await t.rest('GET', '/api/auth/me', { headers: bearer(p.access) })).body as Record<string, unknown>).live_nickname).toBe('日本語 ok');
  });

  it('refuses names outside the rule with 422', async () => {
    const p = await person(t, 'lnb');
    const cases: [unknown, string, Record<string, unknown> | undefined][] = [
      ['  a ', 'string_too_short', { min_length: 2 }],
      ['x'.repeat(33), 'string_too_long', { max_length: 32 }],
      ['bad!name', 'string_pattern_mismatch', { pattern: '^[\\p{L}\\p{N} _.\\-]+$' }],
      [42, 'string_type', undefined],
    ];
    for (const [nickname, type, ctx] of cases) {
      const res = await setNickname(p, nickname);
      expect(res.status).toBe(422);
      const [item] = (res.body as { detail: { type: string; loc: unknown[]; ctx?: unknown }[] }).detail;
      expect({ type: item?.type, loc: item?.loc, ctx: item?.ctx }).toEqual({ type, loc: ['body', 'nickname'], ctx });
    }
    expect(((await t.rest('GET', '/api/auth/me', { headers: bearer(p.access) })).body as Record<string, unknown>).live_nickname).toBeNull();
  });
});

describe('LIVE-6..8 transcripts', () => {
  it('saves, lists newest session first and reads back in stored order; others get 404', async () => {
    const p = await person(t, 'lt');
    const sessionId = await startSession(t, p.access);
    const first = await save(bearer(p.access), transcript({ session_id: sessionId, transcripts: [{ role: 'user', text: 'é'.repeat(130), timestamp: '2026-05-01T08:00:01Z' }, ...turns(2)] }));
    expect({ status: first.status, body: first.body }).toEqual({ status: 201, body: { id: expect.stringMatching(UUID_V4), session_id: sessionId, turn_count: 3, created_at: expect.stringMatching(TIMESTAMP) } });
    const second = await save(bearer(p.access), transcript({ session_started_at: '2026-05-02T08:00:00Z', session_ended_at: '2026-05-02T08:00:00Z' }));
    expect(second.status).toBe(201);
    const [a, b] = [first.body as { id: string; created_at: string }, second.body as { id: string; created_at: string }];
    const list = await t.rest('GET', '/api/live/transcripts?limit=1&offset=1', { headers: bearer(p.access) });
    expect({ status: list.status, body: list.body }).toEqual({
      status: 200,
      body: {
        items: [
          { id: a.id, session_id: sessionId, session_started_at: '2026-05-01T08:00:00.000Z', session_ended_at: '2026-05-01T08:05:30.500Z', duration_seconds: 330, turn_count: 3, preview: 'é'.repeat(120), created_at: a.created_at },
        ],
        total: 2,
        limit: 1,
        offset: 1,
      },
    });
    expect(((await t.rest('GET', '/api/live/transcripts', { headers: bearer(p.access) })).body as { items: { id: string }[] }).items.map((i) => i.id)).toEqual([b.id, a.id]);
    const detail = await t.rest('GET', `/api/live/transcripts/${b.id}`, { headers: bearer(p.access) });
    expect({ status: detail.status, body: detail.body }).toEqual({
      status: 200,
      body: {
        id: b.id,
        session_id: null,
        session_started_at: '2026-05-02T08:00:00.000Z',
        session_ended_at: '2026-05-02T08:00:00.000Z',
        duration_seconds: 0,
        transcripts: [
          { role: 'user', text: 'hello 0', timestamp: '2026-05-01T08:00:00.000Z' },
          { role: 'ai', text: 'hello 1', timestamp: '2026-05-01T08:00:00.000Z' },
        ],
        created_at: b.created_at,
      },
    });
    const q = await person(t, 'lto');
    for (const path of [`/api/live/transcripts/${b.id}`, `/api/live/transcripts/${UNKNOWN_ID}`]) {
      const res = await t.rest('GET', path, { headers: bearer(q.access) });
      expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: notFoundBody('Transcript') });
    }
    expect((await t.rest('GET', '/api/live/transcripts', { headers: bearer(q.access) })).body).toEqual({ items: [], total: 0, limit: 20, offset: 0 });
    const other = await save(bearer(q.access), transcript({ session_id: sessionId }));
    expect({ status: other.status, body: other.body }).toEqual({ status: 404, body: notFoundBody('Live session') });
  });

  it('checks times and sizes: 400 invalid_time_range, 422 for naive times, empty lists and long turns', async () => {
    const p = await person(t, 'ltv');
    const backwards = await save(bearer(p.access), transcript({ session_ended_at: '2026-05-01T07:59:59Z' }));
    expect({ status: backwards.status, body: backwards.body }).toEqual({ status: 400, body: coded('invalid_time_range', 'session_ended_at must not be before session_started_at') });
    const bad = async (json: unknown) => {
      const res = await save(bearer(p.access), json);
      expect(res.status).toBe(422);
      return (res.body as { detail: { type: string; loc: unknown[] }[] }).detail.map((d) => [d.type, d.loc]);
    };
    expect(await bad(transcript({ session_started_at: '2026-05-01T08:00:00' }))).toEqual([['timezone_aware', ['body', 'session_started_at']]]);
    expect(await bad(transcript({ transcripts: [] }))).toEqual([['too_short', ['body', 'transcripts']]]);
    expect(await bad(transcript({ transcripts: [{ role: 'bot', text: 'x'.repeat(10_001), timestamp: '2026-05-01T08:00:00Z' }] }))).toEqual([
      ['enum', ['body', 'transcripts', 0, 'role']],
      ['string_too_long', ['body', 'transcripts', 0, 'text']],
    ]);
  });

  it('LIVE-7 internal mode: the service key and an existing acting user, nothing else', async () => {
    const p = await person(t, 'lti');
    const key = t.config.internalServiceKey;
    const ok = await save({ 'x-internal-service-key': key, 'x-acting-user-id': p.id }, transcript());
    expect(ok.status).toBe(201);
    expect(((await t.rest('GET', '/api/live/transcripts', { headers: bearer(p.access) })).body as { total: number }).total).toBe(1);
    for (const headers of <Record<string, string>[]>[
      { 'x-internal-service-key': `${key}x`, 'x-acting-user-id': p.id },
      { 'x-internal-service-key': '', 'x-acting-user-id': p.id },
      { 'x-internal-service-key': key, 'x-acting-user-id': UNKNOWN_ID },
      { 'x-internal-service-key': key, 'x-acting-user-id': 'not-a-uuid' },
      { 'x-internal-service-key': key },
    ]) {
      const res = await save(headers, transcript());
      expect({ status: res.status, body: res.body, www: res.headers.get('www-authenticate') }).toEqual({ status: 401, body: INVALID_SERVICE_KEY, www: 'Bearer' });
    }
    const none = await save({}, transcript());
    expect({ status: none.status, body: none.body }).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
    const org = await createOrg(t, p);
    const { key: k } = await createKey(t, p, org.id, ['live:write', 'live:read']);
    const withKey = await save(apiKey(k), transcript());
    expect({ status: withKey.status, body: withKey.body }).toEqual({ status: 401, body: coded('bearer_required', 'This endpoint requires a bearer token') });
    // The internal headers are accepted by LIVE-7 only.
    const elsewhere = await t.rest('GET', '/api/live/quota', { headers: { 'x-internal-service-key': key, 'x-acting-user-id': p.id } });
    expect({ status: elsewhere.status, body: elsewhere.body }).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
  });
});
