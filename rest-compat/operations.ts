/** The named GraphQL operations REST routes run: the `*.graphql` files of each area folder (`areas/<area>/`). */
import { readdirSync, readFileSync } from 'node:fs';

const AREAS_DIR = new URL('./areas/', import.meta.url);

/** Every operations file: its URL, area by area. */
export function operationFiles(): URL[] {
  const dirs = readdirSync(AREAS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => new URL(`${d.name}/`, AREAS_DIR));
  return dirs.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort().map((f) => new URL(f, dir)));
}

/** Loads every named operation: name → the document text that defines it (with its fragments). */
export function loadOperations(): Map<string, string> {
  const ops = new Map<string, string>();
  for (const file of operationFiles()) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:query|mutation|subscription)\s+([A-Za-z0-9_]+)/gm)) {
      if (m[1]) ops.set(m[1], text);
    }
  }
  return ops;
}
