/**
 * The data directory's lock, in one process: which locks it respects and which it takes over.
 * Two real processes on one directory are bin/xentree.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDataDir, releaseDataDir } from './data-lock.ts';
import { StartupError } from './startup.ts';

function dirWithLock(content: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'xentree-lock-'));
  const file = path.join(dir, LOCK_FILE);
  writeFileSync(file, content);
  return { dir, file };
}

const ours = () => ({ pid: process.pid, host: hostname() });

function refusal(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof StartupError) return err.message;
    throw err;
  }
  throw new Error('the lock was taken');
}

describe('lockDataDir', () => {
  it('creates the lock with our pid, takes it again as a no-op, and removes it on release', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'xentree-lock-'));
    const file = path.join(dir, LOCK_FILE);
    lockDataDir(dir);
    lockDataDir(dir);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(ours());
    releaseDataDir(dir);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a lock whose process is alive on this host', () => {
    const { dir, file } = dirWithLock(JSON.stringify({ pid: process.ppid, host: hostname() }));
    expect(refusal(() => lockDataDir(dir))).toBe(
      `XENTREE_DATA_DIR: ${dir} is in use by another xentree process (pid ${process.ppid}); stop it, or set XENTREE_DATA_DIR to another directory (if that process is gone, delete ${file})`,
    );
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ pid: process.ppid, host: hostname() });
  });

  it("refuses another host's lock, whose process cannot be checked from here", () => {
    const { dir, file } = dirWithLock(JSON.stringify({ pid: 4242, host: 'elsewhere' }));
    expect(refusal(() => lockDataDir(dir))).toBe(
      `XENTREE_DATA_DIR: ${dir} is in use by another xentree process (pid 4242 on host elsewhere); stop it, or set XENTREE_DATA_DIR to another directory (if that process is gone, delete ${file})`,
    );
  });

  it.each([
    ['a process that exited', () => JSON.stringify({ pid: spawnSync(process.execPath, ['-e', '']).pid, host: hostname() })],
    ['an earlier process that had our pid (pid 1 in a container)', () => JSON.stringify(ours())],
    ['a corrupt file', () => '{"pid":'],
  ])('takes over the lock of %s', (_name, content) => {
    const { dir, file } = dirWithLock(content());
    lockDataDir(dir);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(ours());
    releaseDataDir(dir);
    expect(existsSync(file)).toBe(false);
  });
});
