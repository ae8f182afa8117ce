/**
 * The processes of the gateway benchmark: the subgraphs, then each gateway in turn, each in its
 * own Node process (pinned with `taskset` where it exists), and what /proc says about them. Every
 * process runs compiled JavaScript with plain `node`, as the production image runs the gateway: the
 * project's build (`scripts/build.mjs`) with serve.ts compiled beside it, made once per run.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type ExecFileSyncOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stopChild } from '../../test/processes.ts';
import { benchNode, compileProject, IMAGE_ENV } from '../compiled.ts';
import { composeBenchGraph, HEAVY_BODY, referenceAnswer } from './graph.ts';
import { READY, type GatewayName } from './serve.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Compiles the project and bench/gateways/serve.ts with what it imports into one folder
 * (bench/compiled.ts), the gateway as the production bundle, and returns that folder.
 */
export function buildForBench(): string {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const serve = (dir: string) => {
    const quiet: ExecFileSyncOptions = { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] };
    execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'bench/gateways/tsconfig.build.json'), '--outDir', dir], quiet);
    // Bundled once, after tsc has written everything serve.ts imports (bin/gateway.js among them):
    // the production bundle takes that file's place.
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/bundle-gateway.mjs'), dir], quiet);
  };
  return compileProject(serve, { bundle: false }).dir;
}

/** Whether `taskset` can pin processes here (Linux util-linux). */
export const canPin = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;

/** Pins every thread of `pid` to `cpu` (no-op without taskset or with one core). */
export function pin(pid: number, cpu: number | null): void {
  if (canPin && cpu !== null) spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

export interface Running {
  kind: string;
  child: ChildProcess;
  pid: number;
  /** What the process printed after its ready marker (the subgraphs' URLs). */
  readyLine: string;
  output(): string;
  stop(): Promise<void>;
}

/** Runs the compiled `serve.js <kind>` of `build` in its own Node process on `cpu` and waits until it says it is ready (max 90 s). */
export async function startServe(build: string, kind: string, env: Record<string, string>, cpu: number | null): Promise<Running> {
  // BENCH_CPU_PROF_DIR=dir: a V8 CPU profile of each gateway process, written there when it exits.
  const profile = kind !== 'subgraphs' && process.env.BENCH_CPU_PROF_DIR ? ['--import', path.join(ROOT, 'bench/cpu-profile.mjs')] : [];
  const node = [benchNode(), ...profile, path.join(build, 'bench/gateways/serve.js'), kind];
  const [cmd, ...args] = canPin && cpu !== null ? ['taskset', '-c', String(cpu), ...node] : node;
  const child = spawn(cmd ?? process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...(profile.length > 0 ? { BENCH_CPU_PROF_DIR: process.env.BENCH_CPU_PROF_DIR ?? '' } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const readyLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start within 90 s:\n${out}${err}`)), 90_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      // Complete lines only (the last piece may still be arriving).
      const line = out.split('\n').slice(0, -1).find((l) => l.startsWith(READY));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line.slice(READY.length).trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited with ${code}:\n${err}`));
    });
  });
  return {
    kind,
    child,
    pid: child.pid ?? 0,
    readyLine,
    output: () => out + err,
    stop: () => stopChild(child),
  };
}

export interface BenchSetup {
  /** The compiled build every process runs (buildForBench). */
  build: string;
  secret: string;
  subgraphs: Running;
  subgraphUrls: Record<string, string>;
  supergraphFile: string;
  /** The exact bytes every gateway must answer to the heavy query. */
  reference: string;
  close(): Promise<void>;
}

/** Builds, starts the subgraphs on `cpu`, composes the supergraph over their URLs and computes the reference answer. */
export async function startSetup(cpu: number | null): Promise<BenchSetup> {
  const build = buildForBench();
  const secret = randomBytes(32).toString('base64url');
  let subgraphs: Running;
  try {
    subgraphs = await startServe(build, 'subgraphs', { NODE_ENV: 'production', INTERNAL_SERVICE_KEY: secret }, cpu);
  } catch (err) {
    rmSync(build, { recursive: true, force: true });
    throw err;
  }
  const subgraphUrls = JSON.parse(subgraphs.readyLine) as Record<string, string>;
  const graph = composeBenchGraph(subgraphUrls);
  const dir = mkdtempSync(path.join(tmpdir(), 'xentree-gateways-bench-'));
  const supergraphFile = path.join(dir, 'supergraph.graphql');
  writeFileSync(supergraphFile, graph.supergraphSdl);
  return {
    build,
    secret,
    subgraphs,
    subgraphUrls,
    supergraphFile,
    reference: referenceAnswer(graph.apiSdl),
    close: async () => {
      await subgraphs.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(build, { recursive: true, force: true });
    },
  };
}

/**
 * Starts one gateway on `cpu`. This project's gateway runs with its production settings, over the
 * bench supergraph, with the limits a load test needs raised (see bench/GATEWAYS.md); `extraEnv`
 * adds to (or overrides) its environment.
 */
export async function startGateway(name: GatewayName, setup: BenchSetup, cpu: number | null, extraEnv: Record<string, string> = {}): Promise<{ url: string; proc: Running }> {
  const port = await freePort();
  const proc = await startServe(setup.build, name, {
    NODE_ENV: 'production',
    PORT: String(port),
    BENCH_SUPERGRAPH_FILE: setup.supergraphFile,
    BENCH_SUBGRAPH_URLS: JSON.stringify(setup.subgraphUrls),
    APOLLO_TELEMETRY_DISABLED: 'true',
    ...(name === 'xentree'
      ? {
          // What the production image sets for every process (the allocator's arenas, V8's young
          // generation); the peers run with their own defaults.
          ...IMAGE_ENV,
          LOG_LEVEL: 'warn',
          INTERNAL_SERVICE_KEY: setup.secret,
          ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
          // The gateway process opens no database; production only insists on naming one.
          XENTREE_ALLOW_EMBEDDED_DB: 'true',
          XENTREE_DATA_DIR: path.dirname(setup.supergraphFile),
          // One client address at full speed: the default per-address limit would answer 429.
          RATE_LIMIT_DEFAULT: '1000000000/60',
          // The heavy query's estimated cost (lists multiplied down six levels) is about 108,000.
          GRAPHQL_MAX_COST: '1000000',
        }
      : {}),
    ...extraEnv,
  }, cpu);
  return { url: `http://127.0.0.1:${port}/graphql`, proc };
}

let sequence = 0;

/**
 * Whether a response body is the reference: the same bytes, allowing the one trailing newline
 * that Apollo Server appends to every JSON response.
 */
export function isReference(body: string, reference: string): boolean {
  return body === reference || body === `${reference}\n`;
}

/** One heavy query through `url` with a fresh credential; the status and the exact body. */
export async function heavyQuery(url: string): Promise<{ status: number; body: string }> {
  const id = `bench-check-${process.pid}-${++sequence}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: id, 'x-request-id': id },
    body: HEAVY_BODY,
  });
  return { status: res.status, body: await res.text() };
}

/** CPU time (user + system) of a process so far, in ms (Linux /proc; clock ticks of 100 Hz). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Peak resident memory of a process (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}
