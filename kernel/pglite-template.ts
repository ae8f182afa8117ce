/**
 * A fresh embedded cluster, once per machine: PGlite runs initdb for every new in-memory instance
 * (2–3 s of WebAssembly), while loading the files of a cluster that initdb already made takes
 * about 0.4 s. A process that creates many in-memory instances (a test suite starting a stack per
 * file, in a process per file) opts in with useClusterTemplate: the first instance is dumped right
 * after initdb, before anything runs on it, into a file that every later one, in any process,
 * starts from. Nothing uses it unless asked: a single in-memory instance writes nothing to disk.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';

let templateFile: string | null = null;

/**
 * Starts this process's later in-memory clusters from a template kept in `dir` (one file per
 * PGlite version, made by the first process that needs it), or from initdb again with null.
 * Returns what was in use before, for a caller that sets it only for a while.
 */
export function useClusterTemplate(dir: string | null): string | null {
  const before = templateFile && path.dirname(templateFile);
  if (dir === null) {
    templateFile = null;
    return before;
  }
  // The package exports no package.json: read it beside its entry (dist/).
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const { version } = JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  templateFile = path.join(dir, `xentree-pglite-${version}.tar`);
  return before;
}

/** A new in-memory cluster: from the template when one is in use, else from initdb. */
export async function createInMemoryCluster(options: PGliteOptions): Promise<PGlite> {
  if (!templateFile) return PGlite.create(undefined, options);
  let files: Buffer | null = null;
  try {
    files = readFileSync(templateFile);
  } catch {
    // Not made yet: made below.
  }
  if (files) {
    try {
      return await PGlite.create(undefined, { ...options, loadDataDir: new Blob([files]) });
    } catch {
      // A template this PGlite cannot load: made again.
      rmSync(templateFile, { force: true });
    }
  }
  const db = await PGlite.create(undefined, options);
  await keepTemplate(db, templateFile);
  return db;
}

/** Dumps a fresh cluster to `file`. Only a saving: a template that cannot be written is left unmade. */
async function keepTemplate(db: PGlite, file: string): Promise<void> {
  // Written whole under a name of its own, then renamed: a process never reads half a template.
  const partial = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const dump = await db.dumpDataDir('none');
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, file);
  } catch {
    rmSync(partial, { force: true });
  }
}
