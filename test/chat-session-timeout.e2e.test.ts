/**
 * The conversation-session idle timeout in real time (§4.7) with a short
 * CHAT_SESSION_IDLE_SECONDS: activity keeps a session alive, silence ends it. The default 300 s
 * rules, XP and the timeout's end time are in chat.rest.e2e.test.ts (with timestamps moved back).
 */
import { describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { person } from './org-fixtures.ts';
import { createConversation } from './chat-fixtures.ts';
import { coded, wire } from './assertions.ts';

const t = useTestStack({ env: { CHAT_SESSION_IDLE_SECONDS: '3' } });

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('a 3 s idle timeout', () => {
  it('activity keeps the session alive; three idle seconds end it', async () => {
    const p = await person(t, 'idle');
    const conv = await createConversation(t, p);
    const post = (action: string) => t.rest('POST', `/api/core/conversations/${conv.id}/session/${action}`, { headers: bearer(p.access) });
    const status = () => t.rest('GET', `/api/core/conversations/${conv.id}/session/status`, { headers: bearer(p.access) });
    const first = await post('start');
    expect(first.status).toBe(201);
    const id = (first.body as { session_id: string }).session_id;
    await sleep(1800);
    expect((await post('activity')).status).toBe(200);
    await sleep(1800);
    // 3.6 s after the start, 1.8 s after the activity: still active.
    const alive = await status();
    expect(alive).toMatchObject({ status: 200, body: { active: true, session_id: id } });
    expect((alive.body as { elapsed_seconds: number }).elapsed_seconds).toBeGreaterThanOrEqual(3);
    await sleep(3300);
    expect(wire(await status())).toEqual({
      status: 200,
      body: { conversation_id: conv.id, active: false, session_id: null, started_at: null, last_activity_at: null, elapsed_seconds: 0 },
    });
    expect(wire(await post('end'))).toEqual({ status: 409, body: coded('no_active_session', 'No active session for this conversation') });
    const next = await post('start');
    expect(next.status).toBe(201);
    expect((next.body as { session_id: string }).session_id).not.toBe(id);
  });
});
