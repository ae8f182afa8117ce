/**
 * Live with two live processes on one real PostgreSQL and Redis (issue 14): each gateway talks to
 * its own live replica. Both sweepers run every 100 ms, yet each silent session is ended, and
 * awarded, exactly once; its ENDED event reaches a subscriber on the other replica; a crowd of
 * fresh sessions is accepted at once (the gateway batches their session checks) while revoked ones
 * are refused; parallel heartbeats through both replicas never credit a second twice. The gateways
 * run from the production build (their minified bundle), as the image runs them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { SERVICES_REDIS_URL, newUser } from './harness.ts';
import { signUp, startTopology, type Topology } from './topology.ts';
import { pollUntil } from './org-fixtures.ts';

let topology: Topology | undefined;
let gatewayA = '';
let gatewayB = '';
let sql: pg.Client;

beforeAll(async () => {
  topology = await startTopology({ name: 'live', subgraphs: ['identity', 'live'], perGateway: 'live', compiledGateways: true, env: { LOG_LEVEL: 'error', LIVE_SWEEP_INTERVAL_MS: '100', RATE_LIMIT_AUTH: '1000/60' } });
  [gatewayA = '', gatewayB = ''] = topology.gateways;
  sql = new pg.Client({ connectionString: topology.databaseUrl });
  await sql.connect();
}, 180_000);

afterAll(async () => {
  await sql?.end();
  await topology?.close();
});

const post = async (gateway: string, path: string, token: string, json: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${gateway}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const start = async (gateway: string, token: string): Promise<string> => {
  const res = await post(gateway, '/api/live/session/start', token, { session_type: 'voice' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return String(res.body.session_id);
};
const backdate = (id: string, seconds: number) =>
  sql.query(`update "live"."sessions" set "started_at" = "started_at" - make_interval(secs => $2), "last_heartbeat_at" = "last_heartbeat_at" - make_interval(secs => $2) where "id" = $1`, [id, seconds]);

describe('live across two processes', () => {
  it('ends each silent session once, whichever sweeper gets there, and the event reaches the other replica', async () => {
    const users = await Promise.all(Array.from({ length: 8 }, (_, i) => signUp(gatewayA, gatewayA, `lsv${i}`)));
    // Every live event published by either process, per user channel.
    const redis = new Redis(SERVICES_REDIS_URL);
    const published: { type: string; session: { id: string } }[] = [];
    redis.on('message', (_channel: string, message: string) => published.push(JSON.parse(message) as { type: string; session: { id: string } }));
    await redis.subscribe(...users.map((u) => `xentree:live.events.${u.id}`));
    // A subscriber on gateway A, whose live replica is not the one that starts the sessions.
    const [first] = users;
    const client = createClient({ url: `${gatewayA.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${first?.token ?? ''}` }, retryAttempts: 0 });
    const seen: { type: string; session: { id: string; endReason: string | null } }[] = [];
    const stop = client.subscribe<{ liveEvents: (typeof seen)[number] }>({ query: 'subscription { liveEvents { type session { id endReason } } }' }, {
      next: (r) => {
        if (r.data) seen.push(r.data.liveEvents);
      },
      error: () => {},
      complete: () => {},
    });
    try {
      // The subscription is open once a probe session's STARTED arrives.
      await pollUntil(
        async () => {
          const probe = await start(gatewayB, first?.token ?? '');
          await new Promise((r) => setTimeout(r, 200));
          await post(gatewayB, '/api/live/session/end', first?.token ?? '', { session_id: probe });
          return seen.length;
        },
        (n) => n > 0,
        20_000,
        0,
      );
      const ids = await Promise.all(users.map((u) => start(gatewayB, u.token)));
      for (const id of ids) await backdate(id, 61);
      const ended = await pollUntil(
        async () => (await sql.query<{ id: string }>(`select "id" from "live"."sessions" where "id" = any($1) and "ended_at" is not null`, [ids])).rows.length,
        (n) => n === ids.length,
        20_000,
      );
      expect(ended).toBe(ids.length);
      // Both sweepers keep running; give a second pass the chance to end anything twice.
      await new Promise((r) => setTimeout(r, 500));
      for (const id of ids) expect(published.filter((e) => e.session.id === id && e.type === 'ENDED')).toHaveLength(1);
      const rows = await sql.query<{ id: string; end_reason: string; same: boolean }>(
        `select "id", "end_reason", "ended_at" = "last_heartbeat_at" as same from "live"."sessions" where "id" = any($1) order by "id"`,
        [ids],
      );
      expect(rows.rows).toEqual([...ids].sort().map((id) => ({ id, end_reason: 'timeout', same: true })));
      const awards = await sql.query<{ id: string }>(`select "id" from "live"."xp_outbox" where "id" = any($1)`, [ids.map((id) => `live_session:${id}`)]);
      expect(awards.rows).toHaveLength(ids.length);
      const mine = ids[0] ?? '';
      await pollUntil(async () => seen.filter((e) => e.session.id === mine).length, (n) => n > 1, 10_000);
      expect(seen.filter((e) => e.session.id === mine)).toEqual([
        { type: 'STARTED', session: { id: mine, endReason: null } },
        { type: 'ENDED', session: { id: mine, endReason: 'TIMEOUT' } },
      ]);
    } finally {
      stop();
      await client.dispose();
      redis.disconnect();
    }
  }, 120_000);

  it('20 users subscribing and starting at once: every socket is accepted, every start answers 201, every subscriber hears its session', async () => {
    // Fresh sessions, first used all at once: the gateway asks identity about all of them in one
    // tRPC batch. Fastify's default limit on a path parameter (100 characters) refused a batch of
    // eight or more as 414, which the gateway met as identity unavailable: sockets closed 4403 and
    // requests answered 503.
    const users = await Promise.all(Array.from({ length: 20 }, (_, i) => signUp(gatewayA, gatewayA, `lcrowd${i}`)));
    const closes: number[] = [];
    const connected = new Set<number>();
    const seen = new Map<string, string[]>();
    const clients = users.map((u, i) =>
      createClient({
        url: `${gatewayA.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${u.token}` },
        retryAttempts: 0,
        lazy: false,
        on: { connected: () => connected.add(i), closed: (e) => closes.push((e as { code: number }).code) },
      }),
    );
    try {
      const stops = clients.map((c) =>
        c.subscribe<{ liveEvents: { type: string; session: { id: string } } }>({ query: 'subscription { liveEvents { type session { id } } }' }, {
          next: (r) => {
            const e = r.data?.liveEvents;
            if (e) seen.set(e.session.id, [...(seen.get(e.session.id) ?? []), e.type]);
          },
          error: () => {},
          complete: () => {},
        }),
      );
      expect(await pollUntil(async () => connected.size + closes.length, (n) => n === users.length, 20_000)).toBe(users.length);
      expect(closes).toEqual([]);
      const started = await Promise.all(users.map((u) => post(gatewayB, '/api/live/session/start', u.token, { session_type: 'voice' })));
      expect(started.map((r) => r.status)).toEqual(Array(users.length).fill(201));
      const ids = started.map((r) => String(r.body.session_id));
      // A subscription may open upstream after its STARTED: heartbeats until each has heard one.
      const heard = await pollUntil(
        async () => {
          const silent = ids.flatMap((id, i) => (seen.has(id) ? [] : [i]));
          await Promise.all(silent.map((i) => post(gatewayB, '/api/live/session/heartbeat', users[i]?.token ?? '', { session_id: ids[i] })));
          return ids.filter((id) => seen.has(id)).length;
        },
        (n) => n === ids.length,
        20_000,
      );
      expect(heard).toBe(ids.length);
      for (const s of stops) s();
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  }, 90_000);

  it('200 fresh sessions at once: every socket and request accepted, revoked sessions refused, an open socket closed at its revocation', async () => {
    // The gateway coalesces the session checks of a crowd into a few calls to identity (more than
    // one call's worth of ids here). One call per session queued until the calls timed out: sockets
    // closed 4403, requests answered 503.
    const owners = await Promise.all(Array.from({ length: 10 }, (_, i) => signUp(gatewayA, gatewayA, `lmany${i}`)));
    const login = async (username: string): Promise<string> => {
      const res = await fetch(`${gatewayB}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, password: newUser().password }).toString(),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { access_token: string }).access_token;
    };
    // Twenty sessions per owner, one owner's logins after another (password checks are slow: a
    // crowd of them would wait on identity longer than the gateway waits for it).
    const loginsOf = async (username: string): Promise<string[]> => {
      const mine: string[] = [];
      for (let i = 0; i < 20; i++) mine.push(await login(username));
      return mine;
    };
    const tokens = (await Promise.all(owners.map((o) => loginsOf(o.username)))).flat();
    // Revoked before its first use on either gateway.
    const revokedFirst = await login(owners[0]?.username ?? '');
    expect((await post(gatewayB, '/api/auth/logout', revokedFirst, {})).status).toBe(200);
    const all = [...tokens, revokedFirst];
    const connected = new Set<number>();
    const closed = new Map<number, number>();
    const clients = all.map((token, i) =>
      createClient({
        url: `${gatewayA.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => {},
        on: { connected: () => connected.add(i), closed: (e) => closed.set(i, (e as { code: number }).code) },
      }),
    );
    try {
      expect(await pollUntil(async () => connected.size + closed.size, (n) => n === all.length, 30_000)).toBe(all.length);
      expect(connected.size).toBe(tokens.length);
      expect([...closed]).toEqual([[tokens.length, 4403]]);
      // The same crowd's first requests on the other gateway, all at once.
      const quota = (gateway: string, token: string) => fetch(`${gateway}/api/live/quota`, { headers: { authorization: `Bearer ${token}` } });
      const answers = await Promise.all(all.map(async (token) => {
        const res = await quota(gatewayB, token);
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      }));
      const m = new Date();
      const month = { period_start: new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth(), 1)).toISOString(), period_end: new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1)).toISOString() };
      const fresh = { status: 200, body: { plan: 'free', ...month, quota_seconds: 1800, used_seconds: 0, remaining_seconds: 1800, active_session_id: null } };
      const revokedBody = { status: 401, body: { detail: { error: 'token_revoked', message: 'Session has been revoked' } } };
      expect(answers).toEqual([...tokens.map(() => fresh), revokedBody]);
      // A revocation on gateway B closes the session's open socket on gateway A, and only that one.
      const victim = 7;
      expect((await post(gatewayB, '/api/auth/logout', tokens[victim] ?? '', {})).status).toBe(200);
      await pollUntil(async () => closed.size, (n) => n === 2, 10_000);
      expect(new Map(closed)).toEqual(new Map([[tokens.length, 4403], [victim, 4403]]));
      const after = await quota(gatewayA, tokens[victim] ?? '');
      expect({ status: after.status, body: await after.json() }).toEqual(revokedBody);
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  }, 180_000);

  it('20 parallel heartbeats through both replicas never credit a second twice', async () => {
    const user = await signUp(gatewayA, gatewayA, 'lpar');
    const id = await start(gatewayA, user.token);
    await backdate(id, 30);
    const from = (await sql.query<{ t: Date }>(`select "last_heartbeat_at" as t from "live"."sessions" where "id" = $1`, [id])).rows[0]?.t.getTime() ?? 0;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 ? gatewayA : gatewayB, '/api/live/session/heartbeat', user.token, { session_id: id })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const row = (await sql.query<{ t: Date; billed: number }>(`select "last_heartbeat_at" as t, "billed_seconds" as billed from "live"."sessions" where "id" = $1`, [id])).rows[0];
    const used = (await sql.query<{ used: number }>(`select "used_seconds" as used from "live"."usage" where "user_id" = $1`, [user.id])).rows[0]?.used;
    expect(used).toBe(row?.billed);
    expect(used).toBeGreaterThanOrEqual(30);
    expect(used).toBeLessThanOrEqual(Math.floor(((row?.t.getTime() ?? 0) - from) / 1000));
  }, 60_000);
});
