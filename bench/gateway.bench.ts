/**
 * `npm run bench -- gateway`: `{ me { id username } }` with a valid bearer token through the
 * gateway, against the same query sent straight to the identity subgraph with a valid internal
 * context, at the same concurrency in the same run. Identity and the gateway run as separate
 * processes (the distributed topology); the load generator runs here.
 * Targets (issue): gateway throughput ≥ 0.6× direct, added p50 ≤ 2 ms.
 *
 * Then tracing (issue 18): the same query through a second gateway process with OpenTelemetry on
 * (every request sampled, OTLP/HTTP protobuf export to a local stand-in collector) against the
 * first, whose tracing is off, and the ratio of the two; and a third with tracing on but no request
 * sampled (the cost of context propagation alone).
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { anonymousContext, signContext } from '../kernel/context.ts';
import { freePort, startProcess } from '../test/processes.ts';
import { startOtlpSink } from './otlp-sink.ts';

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

/** The mean of each figure over runs (errors summed). */
function meanOf(runs: readonly Figures[]): Figures {
  const mean = (pick: (f: Figures) => number) => runs.reduce((n, f) => n + pick(f), 0) / runs.length;
  return { rps: mean((f) => f.rps), mean: mean((f) => f.mean), p50: mean((f) => f.p50), p99: mean((f) => f.p99), errors: runs.reduce((n, f) => n + f.errors, 0) };
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
  const sink = await startOtlpSink();
  const tracedPort = await freePort();
  const tracedEnv = { ...env, PORT: String(tracedPort), OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'xentree-gateway-bench' };
  const traced = await startProcess(['gateway'], tracedEnv, `http://127.0.0.1:${tracedPort}/api/health`);
  // Tracing on, but no request sampled: what context propagation alone costs.
  const unsampledPort = await freePort();
  const unsampledEnv = { ...tracedEnv, PORT: String(unsampledPort), OTEL_TRACES_SAMPLER: 'always_off' };
  const unsampled = await startProcess(['gateway'], unsampledEnv, `http://127.0.0.1:${unsampledPort}/api/health`);
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

    const tracedUrl = `http://127.0.0.1:${tracedPort}/graphql`;
    console.log(`tracing, ${CONNECTIONS} connections (off: OTEL_* unset; on: every request sampled, OTLP export to a local collector):`);
    await load(tracedUrl, bearerHeaders);
    // Alternated twice, so that a neighbour's load on a shared machine falls on both sides.
    const unsampledUrl = `http://127.0.0.1:${unsampledPort}/graphql`;
    await load(unsampledUrl, bearerHeaders);
    const runs: { off: Figures[]; on: Figures[]; unsampled: Figures[] } = { off: [], on: [], unsampled: [] };
    for (let round = 0; round < 2; round += 1) {
      runs.off.push(await load(gatewayUrl, bearerHeaders));
      runs.on.push(await load(tracedUrl, bearerHeaders));
      runs.unsampled.push(await load(unsampledUrl, bearerHeaders));
    }
    const off = meanOf(runs.off);
    const on = meanOf(runs.on);
    const bare = meanOf(runs.unsampled);
    console.log(row('tracing off', off));
    console.log(row('tracing on', on));
    console.log(row('on, none sampled', bare));
    console.log(`  throughput ratio on/off: ${(on.rps / off.rps).toFixed(2)}; added p50 ${(on.p50 - off.p50).toFixed(2)} ms`);
    console.log(`  throughput ratio on, none sampled/off: ${(bare.rps / off.rps).toFixed(2)} (context propagation alone)`);
    const exported = sink.exports();
    console.log(`  exported: ${exported.requests} OTLP requests, ${(exported.bytes / 1024).toFixed(0)} KiB`);
  } finally {
    await unsampled.stop();
    await traced.stop();
    await sink.close();
    await gateway.stop();
    await identity.stop();
  }
}
