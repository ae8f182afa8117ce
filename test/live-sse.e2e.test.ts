/** Live events as Server-Sent Events at GET /api/live/events (with LIVE-1's access), through a session driven to exhaustion. */
import { describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { TIMESTAMP } from './assertions.ts';
import { apiKey, createKey, createOrg, person, scopeMissing } from './org-fixtures.ts';
import { backdate, endedVoiceSession, setUsage, startSession } from './live-fixtures.ts';
import { openSse, type SseReader } from './chat-stream-fixtures.ts';

const t = useTestStack();

describe('GET /api/live/events', () => {
  it('streams started → credited → quota_low → quota_exhausted → ended', async () => {
    const p = await person(t, 'sse');
    const end = (id: string) => t.rest('POST', '/api/live/session/end', { json: { session_id: id }, headers: bearer(p.access) });
    const beat = (id: string) => t.rest('POST', '/api/live/session/heartbeat', { json: { session_id: id }, headers: bearer(p.access) });
    // The stream answers with its first event: probe sessions until it is open.
    const opening = openSse(t.url, 'GET', '/api/live/events', p.access);
    let reader: SseReader | null = null;
    void opening.then((r) => (reader = r));
    while (!reader) {
      const probe = await startSession(t, p.access);
      await new Promise((r) => setTimeout(r, 100));
      await end(probe);
    }
    const sse: SseReader = reader;
    try {
      await setUsage(t, p.id, 1650);
      const id = await startSession(t, p.access);
      await backdate(t, id, 50);
      expect((await beat(id)).status).toBe(200);
      await backdate(t, id, 55);
      expect((await beat(id)).status).toBe(200);
      await backdate(t, id, 50);
      expect((await beat(id)).status).toBe(429);
      await end(id);
      const frames: { event: string; data: Record<string, unknown> }[] = [];
      while (!frames.some((f) => f.event === 'ended')) {
        const e = await sse.next();
        if (!e) throw new Error('stream ended early');
        const data = e.data as Record<string, unknown>;
        if ((data.session as { session_id: string }).session_id === id) frames.push({ event: e.event, data });
      }
      expect(frames.map((f) => [f.event, f.data.credited_seconds, (f.data.quota as { remaining_seconds: number }).remaining_seconds])).toEqual([
        ['started', null, 150],
        ['credited', 50, 100],
        ['quota_low', null, 100],
        ['credited', 55, 45],
        ['credited', 45, 0],
        ['quota_exhausted', null, 0],
        ['credited', 0, 0],
        ['ended', null, 0],
      ]);
      const last = frames.at(-1)?.data;
      expect(last).toEqual({
        type: 'ended',
        at: expect.stringMatching(TIMESTAMP),
        credited_seconds: null,
        session: { ...endedVoiceSession(id, { billed_seconds: 150, remaining_seconds: 0, end_reason: 'client', xp_awarded: 4 }), last_heartbeat_at: expect.stringMatching(TIMESTAMP) },
        quota: { plan: 'free', period_start: expect.stringMatching(TIMESTAMP), period_end: expect.stringMatching(TIMESTAMP), quota_seconds: 1800, used_seconds: 1800, remaining_seconds: 0, active_session_id: null },
        user: { id: p.id, username: p.username, live_nickname: null },
      });
    } finally {
      sse.abort();
    }
  });

  it('has the access of LIVE-1: 401 without credentials, live:read for API keys', async () => {
    const anonymous = await t.rest('GET', '/api/live/events');
    expect({ status: anonymous.status, body: anonymous.body }).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
    const p = await person(t, 'ssek');
    const org = await createOrg(t, p);
    const { key } = await createKey(t, p, org.id, ['live:write']);
    const res = await t.rest('GET', '/api/live/events', { headers: apiKey(key) });
    expect({ status: res.status, body: res.body }).toEqual({ status: 403, body: scopeMissing('live:read', ['live:write']) });
  });
});
