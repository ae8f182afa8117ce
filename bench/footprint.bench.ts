/**
 * `npm run bench -- footprint [--rebuild]`: start-up time and idle memory of the compiled
 * JavaScript build (`npm run build` → dist/, reused when present unless `--rebuild`), started with
 * plain `node` as the production image starts it (NODE_ENV=production, JSON logs):
 *
 * (a) the gateway alone (`xentree gateway`), its seven subgraphs already running as their own
 *     processes (`xentree subgraph <name>`); time from spawning the gateway until
 *     `GET /api/health` answers 200, and the gateway process's RSS once idle;
 * (b) the all-in-one `xentree start` (what `npm start` runs, compiled) on embedded PostgreSQL in a
 *     fresh data directory, started twice: the first start creates and migrates the database, the
 *     second reuses it; time to healthy and idle RSS of the process and all its descendants.
 *
 * RSS is read from /proc (VmRSS), summed over the process tree, after BENCH_FOOTPRINT_IDLE_MS
 * (default 5000) of idleness. Targets (issue 17): start-up ≤ 3 s, gateway-only ≤ 130 MB,
 * all-in-one ≤ 400 MB.
 *
 * BENCH_FOOTPRINT_DIST runs another build instead of dist/: a folder inside the repository, so that
 * it finds node_modules, e.g. one built from an earlier commit with `node scripts/build.mjs
 * .dist-test-before` (git ignores it), to compare before and after back to back.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchNode, benchNodeLabel, PRODUCTION_ENV } from './compiled.ts';
import { SUBGRAPH_NAMES } from '../kernel/config.ts';
import { freePort, stopChild } from '../test/processes.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.resolve(ROOT, process.env.BENCH_FOOTPRINT_DIST ?? 'dist');
const IDLE_MS = Number(process.env.BENCH_FOOTPRINT_IDLE_MS ?? 5000);
const TARGETS = { startSeconds: 3, gatewayMb: 130, allInOneMb: 400 };

interface Started {
  child: ChildProcess;
  /** Milliseconds from spawn until the ready URL answered 200. */
  readyMs: number;
  /** CPU seconds (user + system) the process tree had used by then: less noisy than wall time on a busy machine. */
  readyCpuS: number;
  stop(): Promise<void>;
}

/** Spawns `node dist/bin/xentree.js <args>` and polls `readyUrl` every 25 ms until it answers 200. */
async function startCompiled(args: string[], env: Record<string, string>, readyUrl: string): Promise<Started> {
  const started = performance.now();
  const child = spawn(benchNode(), [path.join(DIST, 'bin/xentree.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const stop = () => stopChild(child);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`xentree ${args.join(' ')} exited with ${child.exitCode}:\n${out}`);
    const ok = await fetch(readyUrl, { signal: AbortSignal.timeout(5_000) }).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ok) return { child, readyMs: performance.now() - started, readyCpuS: treeCpuSeconds(child.pid ?? 0), stop };
    await new Promise((r) => setTimeout(r, 25));
  }
  await stop();
  throw new Error(`xentree ${args.join(' ')} did not become healthy:\n${out}`);
}

/** The pids of `pid` and all its descendants (from /proc/<pid>/task/<tid>/children). */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i] ?? 0;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const children = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        if (children) out.push(...children.split(/\s+/).map(Number));
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return out;
}

/** User + system CPU seconds of `pid` and every descendant (/proc/<pid>/stat, in clock ticks of 1/100 s). */
function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
      ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
    } catch {
      // exited
    }
  }
  return ticks / 100;
}

/** RSS in MB of `pid` and every descendant, from /proc/<pid>/status. */
function treeRssMb(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited
    }
  }
  return Math.round(kb / 1024);
}

function baseEnv(dataDir: string): Record<string, string> {
  const nodeOptions = process.env.BENCH_FOOTPRINT_NODE_OPTIONS;
  return {
    ...PRODUCTION_ENV,
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    LOG_LEVEL: 'warn',
    XENTREE_DATA_DIR: dataDir,
    INTERNAL_SERVICE_KEY: randomBytes(32).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
  };
}

const idle = () => new Promise((r) => setTimeout(r, IDLE_MS));
const verdict = (value: number, target: number) => `${value <= target ? 'meets' : 'misses'} target ${target} (${(value / target).toFixed(2)}×)`;

/** (a): every subgraph in its own process, then the gateway; returns the gateway's figures. */
async function gatewayAlone(): Promise<{ readyMs: number; readyCpuS: number; rssMb: number; subgraphsMb: number }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'xentree-footprint-'));
  const env: Record<string, string> = { ...baseEnv(dataDir), XENTREE_PGLITE: 'memory' };
  for (const name of SUBGRAPH_NAMES) {
    const port = await freePort();
    env[`SUBGRAPH_${name.toUpperCase()}_PORT`] = String(port);
    env[`SUBGRAPH_${name.toUpperCase()}_URL`] = `http://127.0.0.1:${port}`;
  }
  const procs: Started[] = [];
  try {
    // One at a time: on 2 cores, starting seven at once measures the scheduler.
    for (const name of SUBGRAPH_NAMES) {
      procs.push(await startCompiled(['subgraph', name], { ...env, XENTREE_DATA_DIR: path.join(dataDir, name) }, `${env[`SUBGRAPH_${name.toUpperCase()}_URL`] ?? ''}/healthz`));
    }
    const port = await freePort();
    const gw = await startCompiled(['gateway'], { ...env, PORT: String(port) }, `http://127.0.0.1:${port}/api/health`);
    procs.push(gw);
    await idle();
    const subgraphsMb = procs.slice(0, -1).reduce((sum, p) => sum + treeRssMb(p.child.pid ?? 0), 0);
    return { readyMs: gw.readyMs, readyCpuS: gw.readyCpuS, rssMb: treeRssMb(gw.child.pid ?? 0), subgraphsMb };
  } finally {
    for (const p of procs.reverse()) await p.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** (b): `xentree start` on a fresh data directory, then again on the same one. */
async function allInOne(): Promise<{ first: number; second: number; secondCpuS: number; rssMb: number }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'xentree-footprint-'));
  const env = baseEnv(path.join(dataDir, 'data'));
  try {
    const times: number[] = [];
    let rssMb = 0;
    let secondCpuS = 0;
    for (const run of [1, 2]) {
      const port = await freePort();
      const s = await startCompiled(['start'], { ...env, PORT: String(port) }, `http://127.0.0.1:${port}/api/health`);
      times.push(s.readyMs);
      if (run === 2) {
        secondCpuS = s.readyCpuS;
        await idle();
        rssMb = treeRssMb(s.child.pid ?? 0);
      }
      await s.stop();
    }
    return { first: times[0] ?? 0, second: times[1] ?? 0, secondCpuS, rssMb };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  if (!process.env.BENCH_FOOTPRINT_DIST && (process.argv.includes('--rebuild') || !existsSync(path.join(DIST, 'bin/xentree.js')))) {
    console.log('building dist/ (npm run build)…');
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  }
  console.log(`footprint bench: compiled build in ${path.relative(ROOT, DIST)}/, ${benchNodeLabel()}, NODE_ENV=production, idle ${IDLE_MS} ms before reading RSS`);
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`load average before: ${load()} on ${availableParallelism()} CPUs (wall times stretch with load; CPU seconds much less)`);
  const a = await gatewayAlone();
  console.log(`(a) gateway alone: healthy after ${(a.readyMs / 1000).toFixed(2)} s (${a.readyCpuS.toFixed(2)} CPU s) — ${verdict(a.readyMs / 1000, TARGETS.startSeconds)}`);
  console.log(`    idle RSS ${a.rssMb} MB — ${verdict(a.rssMb, TARGETS.gatewayMb)}  (its 7 subgraph processes: ${a.subgraphsMb} MB)`);
  const b = await allInOne();
  console.log(`(b) all in one (xentree start): healthy after ${(b.second / 1000).toFixed(2)} s (${b.secondCpuS.toFixed(2)} CPU s) on an existing database — ${verdict(b.second / 1000, TARGETS.startSeconds)}`);
  console.log(`    first start on a fresh data directory (creates and migrates it): ${(b.first / 1000).toFixed(2)} s`);
  console.log(`    idle RSS ${b.rssMb} MB (process and descendants) — ${verdict(b.rssMb, TARGETS.allInOneMb)}`);
  console.log(`load average after: ${load()}`);
}
