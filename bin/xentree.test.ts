/**
 * The CLI as an operator meets it (issue 16, items 3 and 4), as real child processes: one
 * `xentree start` on an embedded database on disk, and each refused start beside it. A refused
 * start prints one line naming the setting and what to do, exits 1, prints nothing that looks like
 * "listening" and no stack trace.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBGRAPHS } from '../subgraphs/index.ts';
import { freePort, runCli, startProcess, type Proc } from '../test/processes.ts';
import { until } from '../test/chat-stream-fixtures.ts';

const base = {
  // What `npm start` runs as: outside `test`, Apollo Server would handle SIGTERM itself.
  NODE_ENV: 'development',
  LOG_LEVEL: 'info', // "listening" lines would show if anything started
  INTERNAL_SERVICE_KEY: randomBytes(32).toString('base64url'),
  ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
};

let dataDir: string;
let lockFile: string;
let port: number;
let running: Proc;

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const done = spawnSync(process.execPath, ['-e', '']);
  if (!done.pid) throw new Error('could not run node');
  return done.pid;
}

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'xentree-cli-'));

beforeAll(async () => {
  dataDir = tempDir();
  lockFile = path.join(dataDir, 'xentree.lock');
  // What a process killed with -9 leaves behind.
  writeFileSync(lockFile, JSON.stringify({ pid: deadPid(), host: hostname() }));
  port = await freePort();
  running = await startProcess(['start'], { ...base, LOG_LEVEL: 'warn', XENTREE_DATA_DIR: dataDir, PORT: String(port) }, `http://127.0.0.1:${port}/api/health`);
});

afterAll(async () => {
  await running?.stop();
});

/** The one line a refused start prints, and that nothing else happened. */
function expectRefused(result: { code: number | null; stdout: string; stderr: string }, line: string): void {
  expect(result).toEqual({ code: 1, stdout: '', stderr: `${line}\n` });
}

describe('xentree start on an embedded database on disk', () => {
  it('takes over the lock of a process that died, and prints every URL the README promises', async () => {
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toEqual({ pid: running.child.pid, host: hostname() });
    const url = `http://localhost:${port}`;
    expect(running.output()).toBe(`
Xentree Graph is running (embedded PostgreSQL in ${dataDir}; in-memory PubSub).
  GraphQL (HTTP + WebSocket): ${url}/graphql
  GraphiQL:                   ${url}/graphql   (open it in a browser)
  REST:                       ${url}/api/...   e.g. POST ${url}/api/auth/register
  REST reference:             ${url}/api/docs
  OpenAPI document:           ${url}/api/openapi.json
  Metrics:                    ${url}/metrics
  Health:                     ${url}/api/health
Press Ctrl+C to stop.
`);
  });

  it('refuses a second process on the same data directory, naming it and the running pid', async () => {
    const second = await runCli(['start'], { ...base, XENTREE_DATA_DIR: dataDir, PORT: String(await freePort()) });
    expectRefused(
      second,
      `XENTREE_DATA_DIR: ${dataDir} is in use by another xentree process (pid ${running.child.pid}); stop it, or set XENTREE_DATA_DIR to another directory (if that process is gone, delete ${lockFile})`,
    );
  });

  it('refuses a gateway port in use, naming PORT', async () => {
    const result = await runCli(['start'], { ...base, XENTREE_DATA_DIR: tempDir(), PORT: String(port) });
    expectRefused(result, `PORT: port ${port} on 127.0.0.1 is already in use by another process; stop that process or set PORT to a free port`);
  });

  it('refuses a subgraph port in use, naming SUBGRAPH_<NAME>_PORT', async () => {
    const result = await runCli(['subgraph', 'chat'], { ...base, XENTREE_DATA_DIR: tempDir(), SUBGRAPH_CHAT_PORT: String(port) });
    expectRefused(result, `SUBGRAPH_CHAT_PORT: port ${port} on 127.0.0.1 is already in use by another process; stop that process or set SUBGRAPH_CHAT_PORT to a free port`);
  });

  it('reloads the supergraph on SIGHUP and keeps serving (README "Reloading the supergraph")', async () => {
    const reloads = async (outcome: string): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(new RegExp(`^xentree_supergraph_reloads_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    };
    // Once at start: the committed supergraph read again, the same hash.
    expect(await reloads('unchanged')).toBe(1);
    running.child.kill('SIGHUP');
    await until(async () => (await reloads('unchanged')) === 2);
    expect([await reloads('updated'), await reloads('failed'), running.child.exitCode]).toEqual([0, 0, null]);
    expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200);
  });

  it('gives the lock up when it stops', async () => {
    await running.stop();
    expect(running.child.exitCode).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
  });
});

describe('a service that cannot be reached', () => {
  it('DATABASE_URL: one line without the password', async () => {
    const closed = await freePort();
    const result = await runCli(['start'], { ...base, XENTREE_DATA_DIR: tempDir(), PORT: String(await freePort()), DATABASE_URL: `postgres://xentree:s3cret@127.0.0.1:${closed}/xentree` });
    expectRefused(
      result,
      `DATABASE_URL: cannot connect to PostgreSQL at postgres://127.0.0.1:${closed}/xentree (connect ECONNREFUSED 127.0.0.1:${closed}); start it or fix DATABASE_URL, or unset DATABASE_URL to use the embedded database`,
    );
  });

  it('REDIS_URL: one line', async () => {
    const closed = await freePort();
    const result = await runCli(['start'], { ...base, XENTREE_DATA_DIR: tempDir(), PORT: String(await freePort()), REDIS_URL: `redis://127.0.0.1:${closed}` });
    expectRefused(
      result,
      `REDIS_URL: cannot connect to Redis at redis://127.0.0.1:${closed} (connect ECONNREFUSED 127.0.0.1:${closed}); start it or fix REDIS_URL, or unset REDIS_URL to use the in-memory PubSub (one process only)`,
    );
  });
});

describe('usage', () => {
  it('lists the subgraphs that exist', async () => {
    const result = await runCli([], { ...base, XENTREE_DATA_DIR: tempDir() });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`  subgraph <name>    one subgraph alone on SUBGRAPH_<NAME>_PORT (${SUBGRAPHS.map((s) => s.name).join(', ')})\n`);
  });
});
