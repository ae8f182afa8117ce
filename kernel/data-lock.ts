/**
 * One process at a time per data directory. Embedded PostgreSQL (PGlite) keeps its files in
 * XENTREE_DATA_DIR without any locking of its own: two processes on one directory both run and
 * each overwrites what the other wrote. So the first process to open the embedded database
 * creates `xentree.lock` (exclusively, holding its pid and host) and keeps it for its life; the
 * next one stops with a StartupError naming the directory and that pid. A lock left by a process
 * that was killed (its pid no longer alive on this host) is taken over.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Config } from './config.ts';
import { errorCode, StartupError } from './startup.ts';

/** The lock file's name inside the data directory. */
export const LOCK_FILE = 'xentree.lock';

interface LockOwner {
  pid: number;
  host: string;
}

/** Locks held by this process, by absolute file path. */
const held = new Set<string>();
let exitHookInstalled = false;

function readOwner(file: string): LockOwner | null {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || !('pid' in parsed) || !('host' in parsed)) return null;
    const { pid, host } = parsed;
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 && typeof host === 'string' ? { pid, host } : null;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') throw err;
    return null; // corrupt (locks appear fully written): nobody can hold it
  }
}

/** Whether the lock's owner may still be running. Another host's processes cannot be checked, so they count as alive. */
function ownerAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  // Our own pid in a lock we do not hold: a previous run that had the same pid (e.g. pid 1 in a container).
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM'; // exists, owned by another user
  }
}

/**
 * Moves a dead owner's lock out of the way. The rename is atomic, so when two processes take over
 * the same stale lock only one moves it; if what was moved is no longer the stale lock (someone
 * took over between our read and the rename), it is put back unless a newer lock replaced it.
 */
function removeStale(file: string, stale: LockOwner | null): void {
  const aside = `${file}.${process.pid}.stale`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return;
    throw err;
  }
  let moved: LockOwner | null = null;
  try {
    moved = readOwner(aside);
  } catch {
    moved = null;
  }
  if (moved && (moved.pid !== stale?.pid || moved.host !== stale.host)) {
    try {
      linkSync(aside, file);
    } catch {
      // a newer lock is already in place; it wins
    }
  }
  rmSync(aside, { force: true });
}

function release(file: string): void {
  if (!held.delete(file)) return;
  try {
    const owner = readOwner(file);
    if (owner?.pid === process.pid && owner.host === hostname()) rmSync(file, { force: true });
  } catch {
    // already gone
  }
}

/**
 * Takes the data directory's lock for the rest of this process's life (again taking it is a no-op).
 * Released by `releaseDataDir` or when the process exits; a kill -9 leaves it for the next process
 * to take over.
 * @throws StartupError when another live process holds it.
 */
export function lockDataDir(dataDir: string): void {
  const file = path.join(path.resolve(dataDir), LOCK_FILE);
  if (held.has(file)) return;
  mkdirSync(path.dirname(file), { recursive: true });
  // The lock appears with its content in one step (link fails if the name exists, like O_EXCL),
  // so a reader never sees a half-written lock and mistakes it for a stale one.
  const draft = `${file}.${process.pid}.new`;
  writeFileSync(draft, JSON.stringify({ pid: process.pid, host: hostname() }), { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(draft, file);
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw err;
        let owner: LockOwner | null;
        try {
          owner = readOwner(file);
        } catch {
          continue; // released between our link and read
        }
        if (owner && ownerAlive(owner)) {
          const where = owner.host === hostname() ? `pid ${owner.pid}` : `pid ${owner.pid} on host ${owner.host}`;
          throw new StartupError(
            `XENTREE_DATA_DIR: ${path.dirname(file)} is in use by another xentree process (${where}); stop it, or set XENTREE_DATA_DIR to another directory (if that process is gone, delete ${file})`,
          );
        }
        removeStale(file, owner);
        continue;
      }
      held.add(file);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on('exit', () => {
          for (const f of [...held]) release(f);
        });
      }
      return;
    }
  } finally {
    rmSync(draft, { force: true });
  }
  throw new StartupError(`XENTREE_DATA_DIR: could not take the lock ${file}; other processes keep replacing it`);
}

/**
 * Takes the data directory's lock now when this process will use the embedded database on disk
 * (not with DATABASE_URL or in-memory PGlite), so that a second process stops before doing anything
 * else; kernel/db.ts takes it anyway when it opens the database.
 * @throws StartupError when another process uses the data directory.
 */
export function claimEmbeddedDataDir(config: Config): void {
  if (!config.databaseUrl && config.pgliteMode === 'file') lockDataDir(config.dataDir);
}

/** Gives up the data directory's lock (after the embedded database has closed). */
export function releaseDataDir(dataDir: string): void {
  release(path.join(path.resolve(dataDir), LOCK_FILE));
}
