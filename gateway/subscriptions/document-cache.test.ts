import { GraphQLError, buildSchema, parse, specifiedRules } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createDocumentCache } from './ws-server.ts';

const v1 = buildSchema('type Query { a: Int } type Subscription { ticks: Int }');
const v2 = buildSchema('type Query { a: Int } type Subscription { tocks: Int }');

describe('the subscription document cache', () => {
  it('parses and validates a document once per schema, and never keeps a refused one', () => {
    let parses = 0;
    const cache = createDocumentCache((q) => {
      parses += 1;
      return parse(q);
    }, specifiedRules);
    const first = cache.check('subscription { ticks }', v1);
    expect(first).toMatchObject({ kind: 'Document' });
    expect(cache.check('subscription { ticks }', v1)).toBe(first);
    expect(parses).toBe(1);

    // A new supergraph: checked again, and refused where it no longer validates.
    const refused = cache.check('subscription { ticks }', v2);
    expect(Array.isArray(refused) && refused.map((e) => e.message)).toEqual(['Cannot query field "ticks" on type "Subscription". Did you mean "tocks"?']);
    expect(cache.check('subscription { ticks }', v2)).toEqual(refused);
    expect(parses).toBe(3);

    const syntax = cache.check('subscription {', v1);
    expect(syntax instanceof GraphQLError && [syntax.message, syntax.extensions.code]).toEqual(['Syntax Error: Expected Name, found <EOF>.', 'GRAPHQL_PARSE_FAILED']);
  });
});
