/**
 * Starts identity, orgs, chat, live (and any `also` subgraphs) and one gateway as separate
 * processes (each subgraph with its own embedded PostgreSQL unless DATABASE_URL is set: then all
 * share a fresh database created on that server for the run and dropped at stop, as the gateway
 * bench does; a database left by an earlier run holds signing keys encrypted with another run's
 * random ENCRYPTION_KEY), for benchmarks that must measure the gateway process alone. Every
 * process runs the project compiled to JavaScript with plain node and NODE_ENV=production, as
 * production does (bench/compiled.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { freePort, startProcess, type Proc } from '../test/processes.ts';
import { createFreshDatabase } from '../test/fresh-database.ts';
import { compileProject, PRODUCTION_ENV } from './compiled.ts';

export interface Distributed {
  gateway: string;
  chat: string;
  gatewayPid: number;
  secret: string;
  /** Where the subgraphs keep their data, for the figures' header. */
  database: string;
  /** The fresh PostgreSQL database's URL (null on embedded PGlite). */
  databaseUrl: string | null;
  stop(): Promise<void>;
}

export async function startDistributed(extraEnv: Record<string, string> = {}, also: ('learning' | 'integrations')[] = []): Promise<Distributed> {
  const secret = randomBytes(32).toString('base64url');
  const fresh = process.env.DATABASE_URL ? await createFreshDatabase(process.env.DATABASE_URL, 'xentree_bench') : null;
  const database = fresh ? `PostgreSQL (a fresh database on ${new URL(fresh.url).host})` : 'embedded PGlite (one per subgraph process)';
  const names = ['identity', 'orgs', 'chat', 'live', ...also] as const;
  const ports: Record<(typeof names)[number] | 'gateway', number> = { identity: 0, orgs: 0, chat: 0, live: 0, learning: 0, integrations: 0, gateway: await freePort() };
  for (const name of names) ports[name] = await freePort();
  const subgraphEnv = Object.fromEntries(
    names.flatMap((name) => [
      [`SUBGRAPH_${name.toUpperCase()}_PORT`, String(ports[name])],
      [`SUBGRAPH_${name.toUpperCase()}_URL`, `http://127.0.0.1:${ports[name]}`],
    ]),
  );
  const env: Record<string, string> = {
    ...PRODUCTION_ENV,
    LOG_LEVEL: 'warn',
    XENTREE_PGLITE: 'memory',
    XENTREE_DATA_DIR: `/tmp/xentree-bench-${process.pid}`,
    INTERNAL_SERVICE_KEY: secret,
    ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    RATE_LIMIT_DEFAULT: '10000000/60',
    RATE_LIMIT_AUTH: '10000000/60',
    RATE_LIMIT_AI: '10000000/60',
    RATE_LIMIT_PUBLIC: '10000000/60',
    WS_MAX_CONNECTIONS_PER_PRINCIPAL: '100000',
    ...subgraphEnv,
    ...(fresh ? { DATABASE_URL: fresh.url } : {}),
    ...extraEnv,
  };
  const procs: Proc[] = [];
  let build: ReturnType<typeof compileProject> | null = null;
  const stop = async () => {
    for (const p of procs.reverse()) await p.stop();
    build?.remove();
    await fresh?.drop();
  };
  try {
    build = compileProject();
    // live serves the profile's live_nickname, which registration answers with.
    for (const name of names) {
      procs.push(await startProcess(['subgraph', name], env, `http://127.0.0.1:${ports[name]}/healthz`, build));
    }
    const gw = await startProcess(['gateway'], { ...env, PORT: String(ports.gateway) }, `http://127.0.0.1:${ports.gateway}/api/health`, build);
    procs.push(gw);
    return { gateway: `http://127.0.0.1:${ports.gateway}`, chat: `http://127.0.0.1:${ports.chat}`, gatewayPid: gw.child.pid ?? 0, secret, database, databaseUrl: fresh?.url ?? null, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Resident memory of a process, in MB (Linux /proc). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Registers and logs in a user; returns the user id and access token. */
export async function benchUser(gateway: string): Promise<{ id: string; token: string; sid: string }> {
  const u = { email: `bench_${Date.now()}@example.com`, username: `bench_${Date.now()}`.slice(0, 30), password: 'benchmark password' };
  const reg = await fetch(`${gateway}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(u) });
  const { id } = (await reg.json()) as { id: string };
  const login = await fetch(`${gateway}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: u.username, password: u.password }).toString(),
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const sid = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sid: string }).sid;
  return { id, token, sid };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
