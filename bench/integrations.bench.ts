/**
 * `npm run bench -- integrations`: INT-2 verify and INT-5 JWKS through the gateway, against
 * `{ __typename }` in the same run, each at 32 connections (BENCH_CONNECTIONS) for 10 s
 * (BENCH_DURATION). Issue target: verify ≥ 0.5× `{ __typename }`. verify is also shown against
 * JWKS, which crosses the same REST → gateway → subgraph path with no work.
 *
 * Two topologies:
 * - DATABASE_URL set (the figures that count): the distributed topology of docker-compose, on
 *   PostgreSQL (a fresh database on that server, bench/distributed.ts) — the gateway, identity, orgs, chat, live and
 *   integrations each in its own process, the load generator here. Each row gives every
 *   process's CPU time per request, so a reader sees where a request's cost goes.
 *   BENCH_CPU_PROF_DIR=dir writes a V8 CPU profile of every process there.
 * - Unset: the whole stack in this process, as `npm start` runs it, on embedded PostgreSQL, with
 *   the load generator on the same thread: every request's whole cost, gateway, subgraph and
 *   load generator together, is paid on one core. Each row gives that process's CPU per request.
 */
import autocannon from 'autocannon';
import { bearer, registerAndLogin, startTestStack } from '../test/harness.ts';
import { benchUser, startDistributed } from './distributed.ts';
import { cpuSnapshot, profilingEnv, type CpuSnapshot } from './process-cpu.ts';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);

interface Figures {
  rps: number;
  /** CPU time per request answered, in ms, by process (user + system). */
  cpuMs: Map<string, number>;
  p50: number;
  p99: number;
  errors: number;
}

/** What a topology offers the measurement: its gateway URL and how to read its processes' CPU. */
interface Topology {
  description: string;
  gateway: string;
  cpu(): CpuSnapshot;
  /** Creates an organization and an API-mode grant on it; the owner's bearer token, the tenant and the grant's token. */
  setUp(): Promise<{ access: string; tenantId: string; token: string }>;
  close(): Promise<void>;
}

async function load(topology: Topology, path: string, opts: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }): Promise<Figures> {
  const before = topology.cpu();
  const result = await autocannon({ url: `${topology.gateway}${path}`, connections: CONNECTIONS, duration: DURATION_S, method: opts.method, headers: opts.headers ?? {}, body: opts.body });
  const after = topology.cpu();
  const requests = Math.max(1, result.requests.total);
  const cpuMs = new Map([...after.seconds].map(([name, s]) => [name, ((s - (before.seconds.get(name) ?? 0)) * 1000) / requests]));
  return { rps: result.requests.average, cpuMs, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

const total = (f: Figures): number => [...f.cpuMs.values()].reduce((a, b) => a + b, 0);
const perProcess = (f: Figures): string =>
  [...f.cpuMs]
    .filter(([, ms]) => ms >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
    .join(', ');
const row = (name: string, f: Figures, base: Figures): string =>
  `${name.padEnd(16)} ${f.rps.toFixed(0).padStart(7)} req/s  ×${(f.rps / base.rps).toFixed(2)} of { __typename }  p50 ${String(f.p50).padStart(4)} ms  p99 ${String(f.p99).padStart(4)} ms  errors ${f.errors}\n` +
  `${''.padEnd(16)} CPU ms/req ${total(f).toFixed(2)} in all: ${perProcess(f)}`;

/** Sets up the tenant and grant through the public REST surface of `gateway`. */
async function setUpThrough(gateway: string, access: string): Promise<{ tenantId: string; token: string }> {
  const json = { 'content-type': 'application/json', ...bearer(access) };
  const org = await fetch(`${gateway}/api/organizations`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'Bench Org' }) });
  if (org.status !== 201) throw new Error(`organization: ${org.status} ${await org.text()}`);
  const { id: tenantId } = (await org.json()) as { id: string };
  const body = { mode: 'api', origin: 'https://partner.example', scopes: ['rag:read'], ttlSeconds: 3600, tenantId };
  const grant = await fetch(`${gateway}/api/integration/grant`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  if (grant.status !== 201) throw new Error(`grant: ${grant.status} ${await grant.text()}`);
  return { tenantId, token: ((await grant.json()) as { token: string }).token };
}

async function distributedOnPostgres(): Promise<Topology> {
  const profiling = profilingEnv();
  // With DATABASE_URL set, every process uses a fresh database on that server (bench/distributed.ts).
  const sys = await startDistributed(profiling, ['integrations']);
  return {
    description: `distributed topology on ${sys.database} (gateway, identity, orgs, chat, live, integrations: one process each; load generator here)`,
    gateway: sys.gateway,
    cpu: cpuSnapshot,
    async setUp() {
      const { token: access } = await benchUser(sys.gateway);
      return { access, ...(await setUpThrough(sys.gateway, access)) };
    },
    close: () => sys.stop(),
  };
}

async function inOneProcess(): Promise<Topology> {
  const t = await startTestStack();
  return {
    description: 'whole stack and load generator in this one process (embedded PostgreSQL)',
    gateway: t.url,
    // Only this process: it is the stack.
    cpu: () => {
      const own = process.cpuUsage();
      return { at: performance.now(), seconds: new Map([['stack + load generator', (own.user + own.system) / 1e6]]) };
    },
    async setUp() {
      const owner = await registerAndLogin(t, 'bench');
      return { access: owner.access, ...(await setUpThrough(t.url, owner.access)) };
    },
    close: () => t.close(),
  };
}

export async function run(): Promise<void> {
  const topology = process.env.DATABASE_URL ? await distributedOnPostgres() : await inOneProcess();
  try {
    const { access, tenantId, token } = await topology.setUp();
    const json = { 'content-type': 'application/json', ...bearer(access) };
    console.log(`integrations bench: ${topology.description}; ${CONNECTIONS} connections, ${DURATION_S} s each`);
    // Warm-up: JIT, the verify caches (membership, signature, revocation), connection pools.
    await load(topology, '/api/integration/verify', { method: 'POST', headers: json, body: JSON.stringify({ token, tenantId }) });

    const typename = await load(topology, '/graphql', { method: 'POST', headers: json, body: JSON.stringify({ query: '{ __typename }' }) });
    const verify = await load(topology, '/api/integration/verify', { method: 'POST', headers: json, body: JSON.stringify({ token, tenantId }) });
    const jwks = await load(topology, `/api/integration/jwks?tenantId=${tenantId}`, { method: 'GET' });
    console.log(row('{ __typename }', typename, typename));
    console.log(row('INT-2 verify', verify, typename));
    console.log(row('INT-5 JWKS', jwks, typename));
    // JWKS crosses the same REST → gateway → subgraph path doing almost nothing: the floor for verify.
    console.log(`INT-2 verify ×${(verify.rps / jwks.rps).toFixed(2)} of INT-5 JWKS (the same path with no membership, signature or revocation work)`);
    console.log(`CPU per request in all: verify ×${(total(verify) / total(typename)).toFixed(2)}, JWKS ×${(total(jwks) / total(typename)).toFixed(2)} of { __typename }'s`);
    console.log(`target verify ≥ 0.5× { __typename }: ${verify.rps >= 0.5 * typename.rps ? 'met' : 'NOT met'}`);
  } finally {
    await topology.close();
  }
}
