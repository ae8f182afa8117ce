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
 * PGlite version, made by the first process that needs it).
 */
export function useClusterTemplate(dir: string): void {
  // The package exports no package.json: read it beside its entry (dist/).
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const { version } = JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  templateFile = path.join(dir, `xentree-pglite-${version}.tar`);
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
  const dump = await db.dumpDataDir('none');
  // Written whole under a name of its own, then renamed: a process never reads half a template.
  const partial = `${templateFile}.${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  renameSync(partial, templateFile);
  return db;
}
