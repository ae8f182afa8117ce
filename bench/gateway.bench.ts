/**
 * `npm run bench -- gateway`: `{ me { id username } }` with a valid bearer token through the
 * gateway, against the same query sent straight to the identity subgraph with a valid internal
 * context, at the same concurrency in the same run. Identity and the gateway run as separate
 * processes (the distributed topology), each from the project compiled to JavaScript with plain
 * node and NODE_ENV=production, as production runs (bench/compiled.ts); the load generator runs here.
 * Targets (issue 17): gateway throughput ≥ 0.6× direct, added p50 ≤ 1 ms, added p99 ≤ 5 ms.
 * Each round also runs the same load through a bare HTTP proxy in front of identity
 * (bench/bare-proxy.mjs: node:http and undici, nothing else), the floor of any gateway hop on this
 * machine, so the figures show how much of the gap is the extra hop and how much the gateway's work.
 *
 * Then the cross-subgraph query `me → organizations → members → user` (bench/gateway-cross.ts)
 * through the gateway against the same three subgraph calls made directly. Set DATABASE_URL to
 * run the subgraphs on PostgreSQL (the figures that count); unset, each runs embedded PGlite.
 * BENCH_CPU_PROF_DIR=dir writes a V8 CPU profile of each process (gateways, subgraphs) there;
 * BENCH_TRACING=0 skips the tracing section; BENCH_ROUNDS (default 3) sets how many times the
 * `{ me }` throughput comparison alternates a direct run and a run through the gateway;
 * BENCH_PIPELINING=N adds to each round a run through a second gateway that pipelines its identity
 * queries N deep (`SUBGRAPH_IDENTITY_PIPELINING=N`, off by default), against the first.
 *
 * Then tracing (issue 18): the same query through a second gateway process with OpenTelemetry on
 * (every request sampled, OTLP/HTTP protobuf export to a local stand-in collector) against the
 * first, whose tracing is off, and the ratio of the two; and a third with tracing on but no request
 * sampled (the cost of context propagation alone).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { anonymousContext, signContext } from '../kernel/context.ts';
import { freePort, startProcess, stopChild } from '../test/processes.ts';
import { createFreshDatabase } from '../test/fresh-database.ts';
import { benchNode, benchNodeLabel, compileProject, PRODUCTION_ENV } from './compiled.ts';
import { startOtlpSink } from './otlp-sink.ts';
import { closeAgent, CROSS_QUERY, directToSubgraphs, loop, seedOrganizations, throughGateway, type Figures } from './gateway-cross.ts';
import { cpuMeter, perUnit, profilingEnv, type CpuUsed } from './process-cpu.ts';

/** Throughput is measured at this concurrency; latency overhead at one connection (no queueing). */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
/** Rounds of the `{ me }` throughput comparison, each a direct run then a run through the gateway. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const QUERY = JSON.stringify({ query: '{ me { id username } }' });

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

/** Each process's CPU seconds over several measurements, busiest first. */
function sumCpu(measurements: readonly (readonly CpuUsed[])[]): CpuUsed[] {
  const total = new Map<string, number>();
  for (const used of measurements) for (const u of used) total.set(u.name, (total.get(u.name) ?? 0) + u.seconds);
  return [...total].map(([name, seconds]) => ({ name, seconds })).sort((a, b) => b.seconds - a.seconds);
}

export async function run(): Promise<void> {
  const secret = randomBytes(32).toString('base64url');
  // A fresh database: the signing keys are encrypted with this run's random ENCRYPTION_KEY, so a
  // database left by another run would fail at login.
  const database = process.env.DATABASE_URL ? await createFreshDatabase(process.env.DATABASE_URL, 'xentree_bench') : null;
  const identityPort = await freePort();
  // freePort releases the port it found: two calls can return the same one.
  let orgsPort = await freePort();
  while (orgsPort === identityPort) orgsPort = await freePort();
  const env = {
    ...PRODUCTION_ENV,
    LOG_LEVEL: 'warn',
    XENTREE_PGLITE: 'memory',
    XENTREE_DATA_DIR: `/tmp/xentree-bench-${process.pid}`,
    INTERNAL_SERVICE_KEY: secret,
    ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    SUBGRAPH_IDENTITY_PORT: String(identityPort),
    SUBGRAPH_IDENTITY_URL: `http://127.0.0.1:${identityPort}`,
    SUBGRAPH_ORGS_PORT: String(orgsPort),
    SUBGRAPH_ORGS_URL: `http://127.0.0.1:${orgsPort}`,
    // One user at full speed: the default 300/60 per user would turn the run into 429s.
    RATE_LIMIT_DEFAULT: '1000000000/60',
    ...(database ? { DATABASE_URL: database.url } : {}),
  };
  const subgraphEnv = { ...env, ...profilingEnv() };
  // Everything started, stopped in reverse order even when a later start fails.
  const started: { stop(): Promise<void> }[] = [];
  const track = <T extends { stop(): Promise<void> }>(p: T): T => {
    started.push(p);
    return p;
  };
  try {
    const build = compileProject();
    track({ stop: async () => build.remove() });
    const identity = track(await startProcess(['subgraph', 'identity'], subgraphEnv, `http://127.0.0.1:${identityPort}/healthz`, build));
    const orgs = track(await startProcess(['subgraph', 'orgs'], subgraphEnv, `http://127.0.0.1:${orgsPort}/healthz`, build));
    // A port found free can be taken by an outgoing connection's ephemeral port before the gateway
    // binds it (the subgraphs open many to PostgreSQL): pick it late, and try again on a collision.
    const startGateway = async (extra: Record<string, string>) => {
      for (let attempt = 1; ; attempt += 1) {
        const port = await freePort();
        try {
          return { proc: track(await startProcess(['gateway'], { ...subgraphEnv, ...extra, PORT: String(port) }, `http://127.0.0.1:${port}/api/health`, build)), url: `http://127.0.0.1:${port}` };
        } catch (err) {
          if (attempt >= 3 || !String(err).includes('already in use')) throw err;
        }
      }
    };
    const gateway = await startGateway({});
    const depth = Number(process.env.BENCH_PIPELINING ?? 1);
    const pipelined = depth > 1 ? await startGateway({ SUBGRAPH_IDENTITY_PIPELINING: String(depth) }) : null;
    const proxy = track(await startBareProxy(`http://127.0.0.1:${identityPort}/graphql`));
    const sink = await startOtlpSink();
    track({ stop: () => sink.close() });
    const tracing = process.env.BENCH_TRACING !== '0';
    const tracedEnv = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'xentree-gateway-bench' };
    const traced = tracing ? await startGateway(tracedEnv) : null;
    // Tracing on, but no request sampled: what context propagation alone costs.
    const unsampled = tracing ? await startGateway({ ...tracedEnv, OTEL_TRACES_SAMPLER: 'always_off' }) : null;
    const gw = gateway.url;
    const user = { email: `bench_${Date.now()}@example.com`, username: `bench_${Date.now()}`.slice(0, 30), password: 'benchmark password' };
    await fetch(`${gw}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
    const login = await fetch(`${gw}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user.username, password: user.password }).toString(),
    });
    if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
    const { access_token: token } = (await login.json()) as { access_token: string };
    const me = (await (await fetch(`${gw}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string };
    const sid = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sid: string };

    const gatewayUrl = `${gw}/graphql`;
    const directUrl = `http://127.0.0.1:${identityPort}/graphql`;
    const proxyUrl = `http://127.0.0.1:${proxy.port}/graphql`;
    const bearerHeaders = { authorization: `Bearer ${token}` };
    // The internal context is valid for 60 s: sign a fresh one right before each direct run.
    const contextHeaders = async () => ({
      'x-xentree-context': await signContext({ ...anonymousContext('bench'), mode: 'bearer', userId: me.id, sessionId: sid.sid }, secret),
    });
    const row = (label: string, f: Figures) =>
      `  ${label.padEnd(22)} ${f.rps.toFixed(0).padStart(8)} req/s   mean ${f.mean.toFixed(2).padStart(6)} ms   p50 ${f.p50.toFixed(2).padStart(6)} ms   p99 ${f.p99.toFixed(2).padStart(6)} ms   errors ${f.errors}`;

    console.log(`gateway bench (${benchNodeLabel()}): query { me { id username } }, ${DURATION_S} s per run, identity, orgs and gateway as separate processes (NODE_ENV=production), subgraphs on ${database ? 'PostgreSQL (a fresh database on DATABASE_URL\'s server)' : 'embedded PGlite'}`);
    // Warm both paths (JIT, JWKS and session caches, connection pools).
    await load(directUrl, await contextHeaders());
    await load(proxyUrl, await contextHeaders());
    await load(gatewayUrl, bearerHeaders);
    if (pipelined) await load(`${pipelined.url}/graphql`, bearerHeaders);

    console.log(`throughput, ${CONNECTIONS} connections:`);
    // Where the CPU goes in each run (the processes share this machine's cores).
    const databaseUrl = database?.url ?? null;
    // Alternated over ROUNDS rounds, as the tracing section below is: this machine's speed drifts
    // over minutes, and a drift between one direct run and the gateway's run after it would be
    // read as the gateway's cost. The ratio is of the means; each round's is shown too.
    const measured = async (url: string, headers: () => Promise<Record<string, string>>) => {
      const meter = await cpuMeter(databaseUrl);
      const figures = await load(url, await headers());
      return { figures, cpu: await meter() };
    };
    const rounds: Record<'direct' | 'proxy' | 'through', Awaited<ReturnType<typeof measured>>>[] = [];
    const pipelinedRuns: Awaited<ReturnType<typeof measured>>[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      rounds.push({ direct: await measured(directUrl, contextHeaders), proxy: await measured(proxyUrl, contextHeaders), through: await measured(gatewayUrl, async () => bearerHeaders) });
      if (pipelined) pipelinedRuns.push(await measured(`${pipelined.url}/graphql`, async () => bearerHeaders));
    }
    const direct = meanOf(rounds.map((r) => r.direct.figures));
    const viaProxy = meanOf(rounds.map((r) => r.proxy.figures));
    const through = meanOf(rounds.map((r) => r.through.figures));
    const cpuOf = (side: 'direct' | 'proxy' | 'through') => sumCpu(rounds.map((r) => r[side].cpu));
    console.log(row('direct (identity)', direct));
    console.log(row('a bare HTTP proxy', viaProxy));
    console.log(row('through the gateway', through));
    console.log(`  CPU per request (ms), direct: ${perUnit(cpuOf('direct'), direct.rps * DURATION_S * ROUNDS)}`);
    console.log(`  CPU per request (ms), a bare HTTP proxy: ${perUnit(cpuOf('proxy'), viaProxy.rps * DURATION_S * ROUNDS)}`);
    console.log(`  CPU per request (ms), through the gateway: ${perUnit(cpuOf('through'), through.rps * DURATION_S * ROUNDS)}`);
    const ratio = through.rps / direct.rps;
    const each = rounds.map((r) => (r.through.figures.rps / r.direct.figures.rps).toFixed(2)).join(', ');
    console.log(`  throughput ratio gateway/direct: ${ratio.toFixed(2)} (target >= 0.60) ${ratio >= 0.6 ? 'OK' : 'BELOW TARGET'}; by round ${each}`);
    if (pipelined) {
      const piped = meanOf(pipelinedRuns.map((r) => r.figures));
      console.log(row(`identity pipelined ${depth}`, piped));
      console.log(`  CPU per request (ms), identity pipelined ${depth} deep: ${perUnit(sumCpu(pipelinedRuns.map((r) => r.cpu)), piped.rps * DURATION_S * ROUNDS)}`);
      const byRound = pipelinedRuns.map((r, i) => (r.figures.rps / (rounds[i]?.through.figures.rps ?? Number.NaN)).toFixed(2)).join(', ');
      console.log(`  pipelined/gateway: ${(piped.rps / through.rps).toFixed(2)} (by round ${byRound}); pipelined/direct: ${(piped.rps / direct.rps).toFixed(2)}`);
    }
    console.log(`  throughput ratio bare proxy/direct (the floor of one more hop): ${(viaProxy.rps / direct.rps).toFixed(2)}; gateway/bare proxy: ${(through.rps / viaProxy.rps).toFixed(2)}`);

    console.log('latency, 1 connection (no queueing):');
    const direct1 = await load(directUrl, await contextHeaders(), 1);
    const through1 = await load(gatewayUrl, bearerHeaders, 1);
    console.log(row('direct (identity)', direct1));
    console.log(row('through the gateway', through1));
    const added = through1.p50 - direct1.p50;
    const added99 = through1.p99 - direct1.p99;
    console.log(`  added p50: ${added.toFixed(2)} ms (target <= 1 ms; autocannon reports whole ms) ${added <= 1 ? 'OK' : 'ABOVE TARGET'}`);
    console.log(`  added p99: ${added99.toFixed(2)} ms (target <= 5 ms) ${added99 <= 5 ? 'OK' : 'ABOVE TARGET'}`);
    console.log(`  added mean latency: ${(through1.mean - direct1.mean).toFixed(2)} ms`);
    console.log(`  added p50 at ${CONNECTIONS} connections (includes queueing on this machine's 2 cores): ${(through.p50 - direct.p50).toFixed(2)} ms`);

    try {
      await crossSubgraph(gw, `http://127.0.0.1:${identityPort}/graphql`, `http://127.0.0.1:${orgsPort}/graphql`, [identity.child.pid ?? 0, orgs.child.pid ?? 0], secret, row);
    } catch (err) {
      // What the subgraphs logged says why (LOG_LEVEL=warn logs unexpected resolver errors).
      console.error(`identity:\n${identity.output().slice(-4000)}\norgs:\n${orgs.output().slice(-4000)}`);
      throw err;
    }

    if (!traced || !unsampled) return;
    const tracedUrl = `${traced.url}/graphql`;
    console.log(`tracing, ${CONNECTIONS} connections (off: OTEL_* unset; on: every request sampled, OTLP export to a local collector):`);
    await load(tracedUrl, bearerHeaders);
    // Alternated twice, so that a neighbour's load on a shared machine falls on both sides.
    const unsampledUrl = `${unsampled.url}/graphql`;
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
    for (const p of started.reverse()) await p.stop();
    await closeAgent();
    await database?.drop();
  }
}

/** bench/bare-proxy.mjs in front of `target`, on the benchmark's Node.js, once it listens (on `port`). */
async function startBareProxy(target: string): Promise<{ port: number; stop(): Promise<void> }> {
  const script = fileURLToPath(new URL('./bare-proxy.mjs', import.meta.url));
  const child = spawn(benchNode(), [script], { env: { ...process.env, ...PRODUCTION_ENV, TARGET: target }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare proxy exited with ${code}`)));
    child.stdout?.once('data', (line: Buffer) => {
      const port = /^ready (\d+)/.exec(line.toString())?.[1];
      if (port) resolve(Number(port));
      else reject(new Error(`bare proxy said ${JSON.stringify(line.toString())}, not "ready <port>"`));
    });
  });
  return { port, stop: () => stopChild(child) };
}

/** User plus system CPU time of a process so far, in ms (Linux /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The cross-subgraph query through the gateway against the plan's three subgraph calls made directly. */
async function crossSubgraph(gw: string, identityUrl: string, orgsUrl: string, subgraphPids: number[], secret: string, row: (label: string, f: Figures) => string): Promise<void> {
  const owner = await seedOrganizations(gw, 6);
  const auth = { ...anonymousContext('bench'), mode: 'bearer' as const, userId: owner.id, sessionId: owner.sid };
  // A context lives 60 s: re-sign every 20 s (a real gateway signs one per request).
  let context = await signContext(auth, secret);
  const refresh = setInterval(() => void signContext(auth, secret).then((token) => (context = token)), 20_000);
  try {
    const direct = directToSubgraphs(identityUrl, orgsUrl, () => ({ 'x-xentree-context': context }));
    const through = throughGateway(`${gw}/graphql`, { authorization: `Bearer ${owner.token}` });
    console.log(`cross-subgraph query ${CROSS_QUERY} (2 organizations of 6 members; direct: the plan's 3 subgraph calls in sequence):`);
    await loop(direct, CONNECTIONS, Math.min(DURATION_S, 5));
    await loop(through, CONNECTIONS, Math.min(DURATION_S, 5));
    const cpuBefore = subgraphPids.map(cpuMs);
    const d = await loop(direct, CONNECTIONS, DURATION_S);
    const cpuAfter = subgraphPids.map(cpuMs);
    const t = await loop(through, CONNECTIONS, DURATION_S);
    console.log(`  throughput, ${CONNECTIONS} connections:`);
    console.log(row('direct (3 calls)', d));
    console.log(row('through the gateway', t));
    const ratio = t.rps / d.rps;
    console.log(`  throughput ratio gateway/direct: ${ratio.toFixed(2)} (target >= 0.60) ${ratio >= 0.6 ? 'OK' : 'BELOW TARGET'}`);
    const perRequest = cpuAfter.map((after, i) => (after - (cpuBefore[i] ?? 0)) / (d.rps * DURATION_S));
    const total = perRequest.reduce((n, ms) => n + ms, 0);
    console.log(`  subgraph CPU per request (direct run): ${total.toFixed(2)} ms (identity ${perRequest[0]?.toFixed(2)}, orgs ${perRequest[1]?.toFixed(2)}; target <= 2 ms) ${total <= 2 ? 'OK' : 'ABOVE TARGET'}`);
    const d1 = await loop(direct, 1, DURATION_S);
    const t1 = await loop(through, 1, DURATION_S);
    console.log('  latency, 1 connection:');
    console.log(row('direct (3 calls)', d1));
    console.log(row('through the gateway', t1));
    const p50 = t1.p50 - d1.p50;
    const p99 = t1.p99 - d1.p99;
    console.log(`  added p50: ${p50.toFixed(2)} ms (target <= 1 ms) ${p50 <= 1 ? 'OK' : 'ABOVE TARGET'}; added p99: ${p99.toFixed(2)} ms (target <= 5 ms) ${p99 <= 5 ? 'OK' : 'ABOVE TARGET'}`);
  } finally {
    clearInterval(refresh);
  }
}
