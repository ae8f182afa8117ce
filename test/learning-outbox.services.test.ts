/**
 * Awards are never lost and never counted twice (issue 13, item 2), with every part its own
 * process on the real PostgreSQL: learning is killed, a chat session ends (chat keeps the award in
 * its outbox), learning starts again and the award arrives exactly once; a delivery repeated
 * (a crash between sending and marking it sent) is still recorded once.
 */
import { describe, expect, it } from 'vitest';
import { signUp, useTopology } from './topology.ts';
import { pollUntil } from './org-fixtures.ts';

// live serves part of the user profile registration answers with.
const topology = useTopology({ name: 'outbox', subgraphs: ['identity', 'live', 'chat', 'learning'], gateways: 1, env: { LOG_LEVEL: 'error' } });

const rest = async (method: string, path: string, token: string, json?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${topology.gatewayA}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const outboxRow = async (sessionId: string) =>
  (await topology.query<{ attempts: number; delivered: boolean }>(`select "attempts", "delivered_at" is not null as delivered from "chat"."learning_outbox" where "payload"->>'sourceId' = $1`, [sessionId])).rows;
const ledgerRows = async (sessionId: string) =>
  (await topology.query<{ xp: number }>(`select "xp" from "learning"."ledger" where "source" = 'chat_session' and "source_id" = $1`, [sessionId])).rows;

describe('the chat → learning outbox', () => {
  it('keeps the award of a session that ends while learning is down and delivers it once learning is back, exactly once', async () => {
    const user = await signUp(topology.gatewayA, topology.gatewayA, 'outbox');
    const conv = await rest('POST', '/api/core/conversations', user.token, { title: 'Outbox' });
    expect(conv.status, JSON.stringify(conv.body)).toBe(201);
    const start = await rest('POST', `/api/core/conversations/${String(conv.body.id)}/session/start`, user.token);
    expect(start.status).toBe(201);
    const sessionId = String(start.body.session_id);
    await topology.query(`update "chat"."conversation_sessions" set "started_at" = now() - interval '5 minutes 10 seconds' where "id" = $1`, [sessionId]);

    await topology.kill9('learning');
    const end = await rest('POST', `/api/core/conversations/${String(conv.body.id)}/session/end`, user.token);
    expect(end).toMatchObject({ status: 200, body: { session_id: sessionId, xp_awarded: 5 } });
    // The immediate delivery failed: the award waits in chat's outbox.
    const waiting = await pollUntil(() => outboxRow(sessionId), (rows) => (rows[0]?.attempts ?? 0) >= 1, 10_000);
    expect(waiting).toEqual([{ attempts: waiting[0]?.attempts, delivered: false }]);

    await topology.restart('learning');
    const delivered = await pollUntil(() => outboxRow(sessionId), (rows) => rows[0]?.delivered === true, 60_000, 200);
    expect(delivered[0]?.delivered).toBe(true);
    expect(await ledgerRows(sessionId)).toEqual([{ xp: 5 }]);
    const profile = await rest('GET', '/api/xp/profile', user.token);
    expect(profile).toMatchObject({ status: 200, body: { xp: 5, today_xp_breakdown: { chat_session: 5 }, current_streak: 1 } });

    // Sent again, as after a crash between learning's answer and the row being marked: counted once.
    await topology.query(`update "chat"."learning_outbox" set "delivered_at" = null, "next_attempt_at" = now() where "payload"->>'sourceId' = $1`, [sessionId]);
    const again = await pollUntil(() => outboxRow(sessionId), (rows) => rows[0]?.delivered === true, 30_000, 200);
    expect(again[0]?.delivered).toBe(true);
    expect(await ledgerRows(sessionId)).toEqual([{ xp: 5 }]);
    expect((await rest('GET', '/api/xp/profile', user.token)).body).toMatchObject({ xp: 5 });
  }, 120_000);
});
