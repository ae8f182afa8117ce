/** The named GraphQL operations REST routes run (`schema/operations/*.graphql`). */
import { readdirSync, readFileSync } from 'node:fs';

const OPERATIONS_DIR = new URL('../schema/operations/', import.meta.url);

/** Loads every named operation: name → the document text that defines it (with its fragments). */
export function loadOperations(): Map<string, string> {
  const ops = new Map<string, string>();
  for (const file of readdirSync(OPERATIONS_DIR).filter((f) => f.endsWith('.graphql'))) {
    const text = readFileSync(new URL(file, OPERATIONS_DIR), 'utf8');
    for (const m of text.matchAll(/^(?:query|mutation|subscription)\s+([A-Za-z0-9_]+)/gm)) {
      if (m[1]) ops.set(m[1], text);
    }
  }
  return ops;
}
