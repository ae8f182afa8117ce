/**
 * The cache policy of an operation from the `@cacheControl` hints of the committed supergraph,
 * with Apollo Server's rules: the least maxAge of its fields, 0 for an unhinted root or object
 * field, scalars and `inheritMaxAge` fields taking their parent's, PRIVATE when any hint says so.
 */
import { describe, expect, it } from 'vitest';
import { buildSchema, getOperationAST, parse } from 'graphql';
import { readFileSync } from 'node:fs';
import { API_SCHEMA_PATH, loadSupergraph } from '../schema/compose.ts';
import { operationCachePolicy, readCacheHints } from './cache-control.ts';

const schema = buildSchema(readFileSync(API_SCHEMA_PATH, 'utf8'));
const hints = readCacheHints(loadSupergraph());

function policyOf(query: string, extraSdl?: string) {
  const document = parse(query);
  const operation = getOperationAST(document);
  if (!operation) throw new Error('no operation');
  return operationCachePolicy(schema, document, operation, extraSdl ? readCacheHints(extraSdl) : hints);
}

describe('@cacheControl hints', () => {
  it('are read from the supergraph', () => {
    expect(Object.fromEntries(hints.fields)).toEqual({
      'IntegrationJwks.keys': { inheritMaxAge: true },
      'Query.integrationJwks': { maxAge: 300, scope: 'PUBLIC' },
      'Query.integrationKeyFingerprint': { maxAge: 300, scope: 'PUBLIC' },
      'Query.publicXpProfile': { maxAge: 60, scope: 'PUBLIC' },
    });
  });

  it('give an operation the least maxAge of its fields', () => {
    expect(policyOf('{ integrationJwks(tenantId: "t") { keys { kid n e } } }')).toEqual({ maxAge: 300, scope: 'PUBLIC' });
    expect(policyOf('{ integrationJwks(tenantId: "t") { keys { kid } } publicXpProfile(username: "u") { username level } }')).toEqual({ maxAge: 60, scope: 'PUBLIC' });
    expect(policyOf('query Q { ...F } fragment F on Query { integrationKeyFingerprint(tenantId: "t") { ... on IntegrationKeyFingerprint { kid } } }')).toEqual({ maxAge: 300, scope: 'PUBLIC' });
    expect(policyOf('{ __typename integrationJwks(tenantId: "t") { __typename } }')).toEqual({ maxAge: 300, scope: 'PUBLIC' });
  });

  it('make an unhinted root field or object field uncacheable', () => {
    expect(policyOf('{ integrationJwks(tenantId: "t") { keys { kid } } me { id } }')).toEqual({ maxAge: 0, scope: 'PUBLIC' });
    expect(policyOf('{ __typename }')).toEqual({ maxAge: 0, scope: 'PUBLIC' });
    // Without `inheritMaxAge` on `keys`, the object list would not be cacheable.
    const noInherit = 'type Query { integrationJwks(tenantId: ID!): IntegrationJwks @cacheControl(maxAge: 300) }';
    expect(policyOf('{ integrationJwks(tenantId: "t") { keys { kid } } }', noInherit)).toEqual({ maxAge: 0, scope: 'PUBLIC' });
  });

  it('scope PRIVATE when any field or type hint says so; a type hint stands in for an unhinted field', () => {
    const sdl = 'type Query { integrationJwks(tenantId: ID!): IntegrationJwks @cacheControl(maxAge: 30, scope: PRIVATE) } type IntegrationJwk @cacheControl(maxAge: 10) { kid: String }';
    // PRIVATE from the root field's hint; `keys` (no hint) takes maxAge 10 from its type's hint.
    expect(policyOf('{ integrationJwks(tenantId: "t") { keys { kid } } }', sdl)).toEqual({ maxAge: 10, scope: 'PRIVATE' });
    expect(policyOf('{ integrationJwks(tenantId: "t") { __typename } }', sdl)).toEqual({ maxAge: 30, scope: 'PRIVATE' });
    const typed = 'type Query { integrationJwks(tenantId: ID!): IntegrationJwks @cacheControl(maxAge: 30) } type IntegrationJwks { keys: [IntegrationJwk!]! } type IntegrationJwk @cacheControl(maxAge: 10, scope: PRIVATE) { kid: String }';
    expect(policyOf('{ integrationJwks(tenantId: "t") { keys { kid } } }', typed)).toEqual({ maxAge: 10, scope: 'PRIVATE' });
  });
});
