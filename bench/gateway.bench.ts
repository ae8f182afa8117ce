/**
 * `npm run bench -- gateway`: `{ me { id username } }` with a valid bearer token through the
 * gateway, against the same query sent straight to the identity subgraph with a valid internal
 * context, at the same concurrency in the same run. Identity and the gateway run as separate
 * processes (the distributed topology); the load generator runs here.
 * Targets (issue): gateway throughput ≥ 0.6× direct, added p50 ≤ 2 ms.
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { anonymousContext, signContext } from '../kernel/context.ts';
import { freePort, startProcess } from '../test/processes.ts';

/** Throughput is measured at this concurrency; latency overhead at one connection (no queueing). */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const QUERY = JSON.stringify({ query: '{ me { id username } }' });

interface Figures {
  rps: number;
  mean: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, headers: Record<string, string>, connections = CONNECTIONS): Promise<Figures> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: DURATION_S,
    headers: { 'content-type': 'application/json', ...headers },
    body: QUERY,
  });
  return { rps: result.requests.average, mean: result.latency.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

export async function run(): Promise<void> {
  const secret = randomBytes(32).toString('base64url');
  const identityPort = await freePort();
  const gatewayPort = await freePort();
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    XENTREE_PGLITE: 'memory',
    XENTREE_DATA_DIR: `/tmp/xentree-bench-${process.pid}`,
    INTERNAL_SERVICE_KEY: secret,
    ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    SUBGRAPH_IDENTITY_PORT: String(identityPort),
    SUBGRAPH_IDENTITY_URL: `http://127.0.0.1:${identityPort}`,
    // One user at full speed: the default 300/60 per user would turn the run into 429s.
    RATE_LIMIT_DEFAULT: '1000000000/60',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  };
  const identity = await startProcess(['subgraph', 'identity'], env, `http://127.0.0.1:${identityPort}/healthz`);
  const gateway = await startProcess(['gateway'], { ...env, PORT: String(gatewayPort) }, `http://127.0.0.1:${gatewayPort}/api/health`);
  try {
    const gw = `http://127.0.0.1:${gatewayPort}`;
    const user = { email: `bench_${Date.now()}@example.com`, username: `bench_${Date.now()}`.slice(0, 30), password: 'benchmark password' };
    await fetch(`${gw}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
    const login = await fetch(`${gw}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user.username, password: user.password }).toString(),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const me = (await (await fetch(`${gw}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string };
    const sid = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sid: string };

    const gatewayUrl = `${gw}/graphql`;
    const directUrl = `http://127.0.0.1:${identityPort}/graphql`;
    const bearerHeaders = { authorization: `Bearer ${token}` };
    // The internal context is valid for 60 s: sign a fresh one right before each direct run.
    const contextHeaders = async () => ({
      'x-xentree-context': await signContext({ ...anonymousContext('bench'), mode: 'bearer', userId: me.id, sessionId: sid.sid }, secret),
    });
    const row = (label: string, f: Figures) =>
      `  ${label.padEnd(22)} ${f.rps.toFixed(0).padStart(8)} req/s   mean ${f.mean.toFixed(2).padStart(6)} ms   p50 ${f.p50.toFixed(2).padStart(6)} ms   p99 ${f.p99.toFixed(2).padStart(6)} ms   errors ${f.errors}`;

    console.log(`gateway bench: query { me { id username } }, ${DURATION_S} s per run, identity and gateway as separate processes`);
    // Warm both paths (JIT, JWKS and session caches, connection pools).
    await load(directUrl, await contextHeaders());
    await load(gatewayUrl, bearerHeaders);

    console.log(`throughput, ${CONNECTIONS} connections:`);
    const direct = await load(directUrl, await contextHeaders());
    const through = await load(gatewayUrl, bearerHeaders);
    console.log(row('direct (identity)', direct));
    console.log(row('through the gateway', through));
    const ratio = through.rps / direct.rps;
    console.log(`  throughput ratio gateway/direct: ${ratio.toFixed(2)} (target >= 0.60) ${ratio >= 0.6 ? 'OK' : 'BELOW TARGET'}`);

    console.log('latency, 1 connection (no queueing):');
    const direct1 = await load(directUrl, await contextHeaders(), 1);
    const through1 = await load(gatewayUrl, bearerHeaders, 1);
    console.log(row('direct (identity)', direct1));
    console.log(row('through the gateway', through1));
    const added = through1.p50 - direct1.p50;
    console.log(`  added p50: ${added.toFixed(2)} ms (target <= 2 ms; autocannon reports whole ms) ${added <= 2 ? 'OK' : 'ABOVE TARGET'}`);
    console.log(`  added mean latency: ${(through1.mean - direct1.mean).toFixed(2)} ms`);
    console.log(`  added p50 at ${CONNECTIONS} connections (includes queueing on this machine's 2 cores): ${(through.p50 - direct.p50).toFixed(2)} ms`);
  } finally {
    await gateway.stop();
    await identity.stop();
  }
}
