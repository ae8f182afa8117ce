/** The gateway knows field policies only from the supergraph: no subgraph field or type appears in its code. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildSchema, isObjectType, isInputObjectType, isEnumType } from 'graphql';
import { API_SCHEMA_PATH } from '../schema/compose.ts';

const GENERIC = new Set(['Query', 'Mutation', 'Subscription']);

/** Every non-test source file under gateway/. */
function sources(dir: URL): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return sources(new URL(`${e.name}/`, dir));
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [readFileSync(new URL(e.name, dir), 'utf8')] : [];
  });
}

describe('gateway code', () => {
  it('names no subgraph root field or type in a string literal', () => {
    const schema = buildSchema(readFileSync(API_SCHEMA_PATH, 'utf8'));
    const names = new Set<string>();
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || GENERIC.has(type.name)) continue;
      if (isObjectType(type) || isInputObjectType(type) || isEnumType(type)) names.add(type.name);
    }
    for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
      for (const field of Object.keys(root?.getFields() ?? {})) names.add(field);
    }
    const literals = sources(new URL('./', import.meta.url)).flatMap((text) => [...text.matchAll(/(['"`])([A-Za-z_.]+)\1/g)].map((m) => m[2] ?? ''));
    const named = literals.filter((l) => names.has(l) || names.has(l.split('.')[1] ?? ''));
    expect(names.size).toBeGreaterThan(40);
    expect(named).toEqual([]);
  });
});
