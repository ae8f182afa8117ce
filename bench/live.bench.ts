/**
 * `npm run bench -- live`: N users, each with an active Live session heartbeating at a compressed
 * interval through the gateway for a while, each with a `liveEvents` subscriber. Prints heartbeat
 * p50/p99 against `{ __typename }` measured in the same run (target: heartbeat p99 ≤ 3× its p99),
 * CREDITED events delivered per second against heartbeats answered (no event lost), how long the
 * sweepers take to end every session once the clients vanish, and the gateway's RSS.
 * BENCH_LIVE_USERS (default 1000), BENCH_LIVE_SECONDS (60), BENCH_LIVE_INTERVAL_MS (1000).
 */
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { randomBytes } from 'node:crypto';
import { percentile, rssMb, startDistributed } from './distributed.ts';

const USERS = Number(process.env.BENCH_LIVE_USERS ?? 1000);
const SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 60);
const INTERVAL_MS = Number(process.env.BENCH_LIVE_INTERVAL_MS ?? 1000);

const post = async (gateway: string, path: string, token: string, json: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${gateway}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(json) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** Registers and logs in one user with a unique name; returns its access token. */
async function liveUser(gateway: string): Promise<{ token: string }> {
  const tag = `live_${randomBytes(8).toString('hex')}`;
  const u = { email: `${tag}@example.com`, username: tag, password: 'benchmark password' };
  const reg = await fetch(`${gateway}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(u) });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${await reg.text()}`);
  const login = await fetch(`${gateway}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: u.username, password: u.password }).toString(),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  return { token: ((await login.json()) as { access_token: string }).access_token };
}

export async function run(): Promise<void> {
  // learning runs too: each credit and each end is delivered to it (XP, learning time, quests).
  const sys = await startDistributed({ LIVE_SWEEP_INTERVAL_MS: '1000', RATE_LIMIT_DEFAULT: '100000000/60' }, ['learning']);
  const clients: Client[] = [];
  const wsUrl = `${sys.gateway.replace('http', 'ws')}/graphql`;
  let credited = 0;
  let ended = 0;
  try {
    console.log(`live bench: ${USERS} users, heartbeat every ${INTERVAL_MS} ms for ${SECONDS} s; gateway RSS idle ${rssMb(sys.gatewayPid)} MB`);
    // Registration hashes passwords: a few at a time, before anything else runs.
    const users: { token: string; session: string }[] = [];
    for (let i = 0; i < USERS; i += 10) {
      const batch = await Promise.all(Array.from({ length: Math.min(10, USERS - i) }, () => liveUser(sys.gateway)));
      users.push(...batch.map((u) => ({ token: u.token, session: '' })));
    }
    for (const u of users) {
      const c = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${u.token}` }, retryAttempts: 0, lazy: false, onNonLazyError: () => {} });
      clients.push(c);
      c.subscribe<{ liveEvents: { type: string } }>({ query: 'subscription { liveEvents { type } }' }, {
        next: (r) => {
          if (r.data?.liveEvents.type === 'CREDITED') credited += 1;
          if (r.data?.liveEvents.type === 'ENDED') ended += 1;
        },
        // One line per failure (graphql-ws would print the whole close event).
        error: (err: unknown) => console.error('  subscription failed:', err instanceof Error ? err.message : String((err as { code?: number }).code) + ' ' + String((err as { reason?: string }).reason)),
        complete: () => {},
      });
    }
    // Let the subscriptions open upstream before the sessions start.
    await new Promise((r) => setTimeout(r, 2_000));
    for (let i = 0; i < users.length; i += 50) {
      await Promise.all(
        users.slice(i, i + 50).map(async (u) => {
          const res = await post(sys.gateway, '/api/live/session/start', u.token, { session_type: 'voice' });
          if (res.status !== 201) console.log(`  start failed: ${res.status} ${JSON.stringify(res.body)}`);
          u.session = String(res.body.session_id);
        }),
      );
    }
    const beats: number[] = [];
    const typenames: number[] = [];
    let answered = 0;
    let failed = 0;
    const until = performance.now() + SECONDS * 1000;
    const heartbeatLoop = async (u: { token: string; session: string }, offset: number) => {
      await new Promise((r) => setTimeout(r, offset));
      while (performance.now() < until) {
        const t0 = performance.now();
        const res = await post(sys.gateway, '/api/live/session/heartbeat', u.token, { session_id: u.session });
        beats.push(performance.now() - t0);
        if (res.status === 200 || res.status === 429) answered += 1;
        else if (failed++ === 0) console.log(`  first failed heartbeat: ${res.status} ${JSON.stringify(res.body)}`);
        await new Promise((r) => setTimeout(r, Math.max(0, INTERVAL_MS - (performance.now() - t0))));
      }
    };
    const baselineLoop = async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const res = await fetch(`${sys.gateway}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
        await res.text();
        typenames.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const started = performance.now();
    await Promise.all([...users.map((u, i) => heartbeatLoop(u, (i * INTERVAL_MS) / users.length)), baselineLoop()]);
    const elapsed = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1_000));
    const p99Ratio = percentile(beats, 99) / Math.max(0.001, percentile(typenames, 99));
    console.log(
      `  heartbeats ${beats.length} (${(beats.length / elapsed).toFixed(0)}/s, ${failed} failed)  p50 ${percentile(beats, 50).toFixed(1)} ms  p99 ${percentile(beats, 99).toFixed(1)} ms` +
        `  | { __typename } p50 ${percentile(typenames, 50).toFixed(1)} ms  p99 ${percentile(typenames, 99).toFixed(1)} ms  | ratio p99 ${p99Ratio.toFixed(2)} (target <= 3)`,
    );
    console.log(`  CREDITED events delivered ${credited} for ${answered} heartbeats answered (${(credited / elapsed).toFixed(0)}/s)${credited === answered ? '' : `, ${answered - credited} lost`}  gateway RSS ${rssMb(sys.gatewayPid)} MB`);
    // The clients vanish: the sweepers end every session 60 s after its last heartbeat.
    const silentFrom = performance.now();
    while (ended < users.length && performance.now() - silentFrom < 120_000) await new Promise((r) => setTimeout(r, 250));
    console.log(`  sessions ended by the sweepers: ${ended}/${users.length}, the last ${((performance.now() - silentFrom) / 1000 - 60).toFixed(1)} s after the 60 s timeout (sweeper every 1 s)`);
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await sys.stop();
  }
}
