/**
 * The distributed topology as separate OS processes (see processes.ts) on the real PostgreSQL
 * and Redis of the `services` project: a fresh database, the subgraphs named, and gateway
 * replicas. One subgraph may run one process per gateway (`perGateway`): gateway A then talks
 * only to replica A, gateway B only to replica B, which is how the suites prove that work on one
 * process reaches readers of another over Redis.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import type { SubgraphName } from '../kernel/config.ts';
import { SERVICES_REDIS_URL, freshDatabase, newUser } from './harness.ts';
import { compileProject } from '../bench/compiled.ts';
import { crash, freePort, startProcess, type CompiledCli, type Proc } from './processes.ts';

export interface TopologyOptions {
  /** Names the data directory (`/tmp/xentree-<name>-<pid>`). */
  name: string;
  /** Subgraph processes, started one after another in this order: each migrates the shared database. */
  subgraphs: SubgraphName[];
  /** A subgraph of `subgraphs` run once per gateway; its first replica starts in its place in the order. */
  perGateway?: SubgraphName;
  /** How many gateway replicas (default 2). */
  gateways?: number;
  /** Extra environment for every process; overrides the defaults (e.g. `LOG_LEVEL`, `RATE_LIMIT_KEY_PREFIX`). */
  env?: Record<string, string>;
  /**
   * Runs the gateway replicas from a production build (`npm run build`, made for this topology):
   * the minified bundle the image runs (scripts/bundle-gateway.mjs) instead of the sources.
   */
  compiledGateways?: boolean;
}

export interface Topology {
  /** Gateway base URLs, A first. */
  gateways: string[];
  databaseUrl: string;
  /** kill -9 a process by name: a subgraph's name, `chatA`/`chatB` for replicas, `gatewayA`/`gatewayB`. */
  kill9(name: string): Promise<void>;
  /** Starts a process again as it was started first (same port, same environment). */
  restart(name: string): Promise<void>;
  close(): Promise<void>;
}

const url = (port: number): string => `http://127.0.0.1:${port}`;
const letter = (i: number): string => String.fromCharCode(65 + i);
const envName = (subgraph: SubgraphName): string => `SUBGRAPH_${subgraph.toUpperCase()}`;

interface Started {
  proc: Proc;
  args: string[];
  env: Record<string, string>;
  ready: string;
  compiled?: CompiledCli;
}

/** Starts the topology; `close()` stops every process and drops the database. */
export async function startTopology(opts: TopologyOptions): Promise<Topology> {
  // Built first: a build that fails then leaves no database behind.
  const build = opts.compiledGateways ? compileProject() : undefined;
  const db = await freshDatabase();
  const replicas = opts.gateways ?? 2;
  const started = new Map<string, Started>();
  const start = async (name: string, args: string[], env: Record<string, string>, ready: string, compiled?: CompiledCli): Promise<void> => {
    started.set(name, { proc: await startProcess(args, env, ready, compiled), args, env, ready, compiled });
  };
  const close = async (): Promise<void> => {
    await Promise.all([...started.values()].map((p) => p.proc.stop()));
    started.clear();
    build?.remove();
    await db.drop();
  };
  try {
    const common: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      REDIS_URL: SERVICES_REDIS_URL,
      INTERNAL_SERVICE_KEY: randomBytes(32).toString('base64url'),
      ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
      XENTREE_DATA_DIR: `/tmp/xentree-${opts.name}-${process.pid}`,
      RATE_LIMIT_KEY_PREFIX: `xentree:test:${randomBytes(6).toString('hex')}:rl:`,
      ...opts.env,
    };
    const ports = new Map<string, number>();
    for (const s of opts.subgraphs) {
      if (s === opts.perGateway) continue;
      const port = await freePort();
      ports.set(s, port);
      common[`${envName(s)}_PORT`] = String(port);
      common[`${envName(s)}_URL`] = url(port);
    }
    // One environment per gateway: the same, but for which replica of `perGateway` it names.
    const envs: Record<string, string>[] = [];
    for (let i = 0; i < replicas; i++) {
      const env = { ...common };
      if (opts.perGateway) {
        const port = await freePort();
        ports.set(`${opts.perGateway}${letter(i)}`, port);
        env[`${envName(opts.perGateway)}_PORT`] = String(port);
        env[`${envName(opts.perGateway)}_URL`] = url(port);
      }
      envs.push(env);
    }
    const firstEnv = envs[0] ?? common;
    const portOf = (name: string): number => ports.get(name) ?? 0;
    // Sequentially: each subgraph runs its migrations against the same fresh database.
    for (const s of opts.subgraphs) {
      const name = s === opts.perGateway ? `${s}A` : s;
      await start(name, ['subgraph', s], firstEnv, `${url(portOf(name))}/healthz`);
    }
    const gatewayPorts = await Promise.all(envs.map(() => freePort()));
    const later: Promise<void>[] = [];
    envs.forEach((env, i) => {
      if (opts.perGateway && i > 0) {
        const name = `${opts.perGateway}${letter(i)}`;
        later.push(start(name, ['subgraph', opts.perGateway], env, `${url(portOf(name))}/healthz`));
      }
    });
    envs.forEach((env, i) => {
      const port = gatewayPorts[i] ?? 0;
      later.push(start(`gateway${letter(i)}`, ['gateway'], { ...env, PORT: String(port) }, `${url(port)}/api/health`, build));
    });
    await Promise.all(later);
    const gateways = gatewayPorts.map(url);
    const named = (name: string): Started => {
      const p = started.get(name);
      if (!p) throw new Error(`${name} was never started`);
      return p;
    };
    return {
      gateways,
      databaseUrl: db.url,
      kill9: (name) => crash(named(name).proc),
      restart: async (name) => {
        const p = named(name);
        await start(name, p.args, p.env, p.ready, p.compiled);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The topology of a test file (useTopology), usable once the `beforeAll` that starts it has run. */
export class FileTopology {
  private started: Topology | null = null;
  private client: Promise<pg.Client> | null = null;

  start(t: Topology): void {
    this.started = t;
  }

  private get t(): Topology {
    if (!this.started) throw new Error('the topology is used before the beforeAll that starts it');
    return this.started;
  }

  get gateways(): string[] {
    return this.t.gateways;
  }
  get gatewayA(): string {
    return this.gateways[0] ?? '';
  }
  get gatewayB(): string {
    return this.gateways[1] ?? '';
  }
  kill9: Topology['kill9'] = (name) => this.t.kill9(name);
  restart: Topology['restart'] = (name) => this.t.restart(name);

  /** Runs a statement on the topology's database, through one client connected at first use. */
  async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    this.client ??= (async () => {
      const c = new pg.Client({ connectionString: this.t.databaseUrl });
      await c.connect();
      return c;
    })();
    return (await this.client).query<R>(text, values);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await (await client?.catch(() => null))?.end();
    await this.started?.close();
    this.started = null;
  }
}

/**
 * The topology of a test file: a `beforeAll` starts it (with `opts`, or what the function gives
 * then, e.g. the URL of a fake AI another `beforeAll` started first) and an `afterAll` closes it
 * with its database client. Hooks the file registers after this call run once it is up.
 */
export function useTopology(opts: TopologyOptions | (() => TopologyOptions)): FileTopology {
  const t = new FileTopology();
  beforeAll(async () => t.start(await startTopology(typeof opts === 'function' ? opts() : opts)), 180_000);
  afterAll(() => t.close());
  return t;
}

/** A REST call to `gateway` (JSON in and out; a body-less answer is null). */
export async function call(gateway: string, method: string, path: string, headers: Record<string, string> = {}, json?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gateway}${path}`, {
    method,
    headers: { ...headers, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

/** Registers a new user through `registerAt` and logs in through `loginAt` (replicas may differ). */
export async function signUp(registerAt: string, loginAt: string, prefix: string): Promise<{ id: string; token: string; username: string }> {
  const user = newUser(prefix);
  const reg = await fetch(`${registerAt}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
  expect(reg.status).toBe(201);
  const res = await fetch(`${loginAt}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: user.username, password: user.password }).toString(),
  });
  expect(res.status).toBe(200);
  return { id: ((await reg.json()) as { id: string }).id, token: ((await res.json()) as { access_token: string }).access_token, username: user.username };
}

/** Calls `probe` while it answers 200, for up to `withinMs` after `since`; returns its last answer. */
export async function untilRefused<T extends { status: number }>(probe: () => Promise<T>, since: number, withinMs = 1_000): Promise<T> {
  let res = await probe();
  while (res.status === 200 && Date.now() - since < withinMs) {
    await new Promise((r) => setTimeout(r, 25));
    res = await probe();
  }
  return res;
}
