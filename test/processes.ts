/**
 * Runs parts of the system as separate OS processes (the distributed topology of
 * docker-compose.yml, without Docker): `xentree subgraph <name>` and `xentree gateway`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * A free loopback port for a process to bind, chosen below the kernel's ephemeral port range when
 * it can: a port from `listen(0)` lies inside that range, where any outgoing connection (a
 * subgraph's pool to PostgreSQL, a parallel test's client) may take it before the process binds
 * it, which failed a services run with "already in use". Free means bound then released here.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; low > LOWEST + 1_000 && attempt < 50; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (low - LOWEST));
    if ((await listenOnce(port)) !== null) return port;
  }
  const port = await listenOnce(0);
  if (port === null) throw new Error('no free port');
  return port;
}

/** Ports below this are left to the system's own services. */
const LOWEST = 10_000;

/** The first port of the kernel's ephemeral range (Linux; 0 elsewhere, which means "use listen(0)"). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : 0;
  } catch {
    return 0;
  }
}

/** Binds `port` on 127.0.0.1 and releases it: the port bound, or null when it is taken. */
function listenOnce(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const bound = typeof addr === 'object' && addr ? addr.port : null;
      srv.close(() => resolve(bound));
    });
  });
}

/** Stops a child process: SIGTERM, then SIGKILL if it has not exited within 10 s; resolves once it has. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** A build of the project (`npm run build <dir>`), whose `bin/xentree.js` runs with plain `node`. */
export interface CompiledCli {
  dir: string;
  /** The Node.js binary to run it with. */
  node: string;
}

/** `xentree <args>`: from the `compiled` build if given, else the sources under tsx with this process's Node.js. */
function spawnCli(args: string[], env: Record<string, string>, compiled?: CompiledCli): ChildProcess {
  const [node, ...cli] = compiled ? [compiled.node, path.join(compiled.dir, 'bin/xentree.js')] : [process.execPath, '--import', 'tsx', 'bin/xentree.ts'];
  return spawn(node ?? process.execPath, [...cli, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `xentree <args>` with `env` to its end (commands that are expected to stop by themselves). */
export async function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** Starts `xentree <args>` with `env` (from the `compiled` build, if given) and waits until `readyUrl` answers 200 (max 60 s). */
export async function startProcess(args: string[], env: Record<string, string>, readyUrl: string, compiled?: CompiledCli): Promise<Proc> {
  const child = spawnCli(args, env, compiled);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const proc: Proc = {
    child,
    output: () => out,
    stop: () => stopChild(child),
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`xentree ${args.join(' ')} exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(readyUrl);
      if (res.ok) return proc;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await proc.stop();
  throw new Error(`xentree ${args.join(' ')} did not become ready:\n${out}`);
}

/** kill -9: the process stops at once, with no chance to clean up (a crash). Resolves once it has exited. */
export async function crash(proc: Proc): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
