/**
 * The committed supergraph must be what composing today's subgraphs produces (the rule:
 * "The supergraph is composed at build time and committed; a test fails if it is stale").
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { composeServices } from '@apollo/composition';
import { buildSchema } from 'graphql';
import { SUBGRAPHS } from '../subgraphs/index.ts';
import { API_SCHEMA_PATH, SUPERGRAPH_PATH, composeSupergraph } from './compose.ts';

const STALE = 'is stale: run `npm run compose` and commit schema/supergraph.graphql and schema/api.graphql';

/** What `writeComposed` writes: the text with exactly one trailing newline added when missing. */
const asWritten = (text: string): string => (text.endsWith('\n') ? text : `${text}\n`);

describe('schema composition', () => {
  it('composes every subgraph without errors', () => {
    const result = composeServices(SUBGRAPHS.map((s) => ({ name: s.name, typeDefs: s.typeDefs, url: `http://${s.name}.subgraph.invalid/graphql` })));
    expect(result.errors?.map((e) => e.message) ?? []).toEqual([]);
    expect(() => composeSupergraph(SUBGRAPHS)).not.toThrow();
  });

  it('matches the committed schema/supergraph.graphql byte for byte', () => {
    const { supergraph } = composeSupergraph(SUBGRAPHS);
    const committed = readFileSync(SUPERGRAPH_PATH, 'utf8');
    expect(committed === asWritten(supergraph), `schema/supergraph.graphql ${STALE}`).toBe(true);
  });

  it('matches the committed schema/api.graphql byte for byte', () => {
    const { api } = composeSupergraph(SUBGRAPHS);
    const committed = readFileSync(API_SCHEMA_PATH, 'utf8');
    expect(committed === asWritten(api), `schema/api.graphql ${STALE}`).toBe(true);
  });

  it('composes every subgraph of subgraphs/index.ts into the committed supergraph', () => {
    const committed = readFileSync(SUPERGRAPH_PATH, 'utf8');
    const graphs = [...committed.matchAll(/@join__graph\(name: "([a-z]+)"/g)].map((m) => m[1]);
    // Composition lists graphs alphabetically; SUBGRAPHS is in start-up order.
    expect([...graphs].sort()).toEqual(SUBGRAPHS.map((s) => s.name).sort());
  });

  it('commits a client schema that is valid GraphQL without federation internals', () => {
    const api = readFileSync(API_SCHEMA_PATH, 'utf8');
    const schema = buildSchema(api);
    expect(schema.getQueryType()?.getFields()).toHaveProperty('me');
    expect(api).not.toMatch(/_entities|_service|@join__|@link/);
  });
});
