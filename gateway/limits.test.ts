import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GraphQLError, buildSchema, getIntrospectionQuery, parse, specifiedRules, validate } from 'graphql';
import type { GraphQLLimits } from '../kernel/config.ts';
import { checkOperationLimits, createLimitRules, withLimitCode, withoutSuggestions } from './limits.ts';

const schema = buildSchema(`
  type Query { me: User, users: [User!]!, node(id: ID!): Node, search: [Result] }
  interface Node { id: ID! }
  type User implements Node { id: ID!, name: String, friends: [User!]!, best: User }
  type Post implements Node { id: ID!, title: String }
  union Result = User | Post
  type Mutation { login: String }
`);

const LIMITS: GraphQLLimits = { maxDepth: 15, maxAliases: 30, maxRootFields: 20, maxDirectives: 5, maxDuplicateFields: 10, maxTokens: 15_000, maxCost: 5_000 };

/** `[code, message]` of every limit error of `query`. */
function check(query: string, limits: Partial<GraphQLLimits> = {}): [unknown, string][] {
  return checkOperationLimits(schema, parse(query), { ...LIMITS, ...limits }).map((e) => [e.extensions.code, e.message]);
}

const nest = (field: string, levels: number, leaf = 'id'): string => (levels === 0 ? leaf : `${field} { ${nest(field, levels - 1, leaf)} }`);

describe('checkOperationLimits', () => {
  it('accepts the full introspection query GraphiQL sends, and ordinary operations', () => {
    const introspection = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
    expect(check(introspection)).toEqual([]);
    expect(check('query Me { me { id name friends { id name } } } mutation { login }')).toEqual([]);
  });

  it('counts depth in fields, through fragments and inline fragments', () => {
    // me(1) + best×13 + id = 15 levels.
    expect(check(`{ me { ${nest('best', 13)} } }`)).toEqual([]);
    expect(check(`{ me { ${nest('best', 14)} } }`)).toEqual([['QUERY_TOO_DEEP', 'The operation is nested 16 levels deep; at most 15 are allowed.']]);
    expect(check(`query Q { me { ...F } } fragment F on User { best { ... on User { ${nest('best', 3)} } } }`, { maxDepth: 5 })).toEqual([
      ['QUERY_TOO_DEEP', 'Operation "Q" is nested 6 levels deep; at most 5 are allowed.'],
    ]);
  });

  it('counts aliases with fragments expanded where spread', () => {
    const aliases = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: id`).join(' ');
    expect(check(`{ me { ${aliases(30)} } }`)).toEqual([]);
    expect(check(`{ me { ${aliases(31)} } }`)).toEqual([['TOO_MANY_ALIASES', 'The operation uses 31 aliases; at most 30 are allowed.']]);
    expect(check(`{ me { ...A best { ...A } } } fragment A on User { ${aliases(16)} }`)).toEqual([['TOO_MANY_ALIASES', 'The operation uses 32 aliases; at most 30 are allowed.']]);
  });

  it('counts root fields, each occurrence, fragments included', () => {
    expect(check(`{ ${Array.from({ length: 20 }, (_, i) => `m${i}: me { id }`).join(' ')} }`)).toEqual([]);
    expect(check(`{ ...R ... on Query { ...R } } fragment R on Query { ${'me { id } '.repeat(7)} users { id } }`, { maxRootFields: 15 })).toEqual([
      ['TOO_MANY_ROOT_FIELDS', 'The operation selects 16 root fields; at most 15 are allowed.'],
    ]);
  });

  it('estimates cost: 1 per field, ×10 under each list, introspection free', () => {
    // users 1 + 10 × (id 1 + friends (1 + 10 × (id 1 + name 1))) = 1 + 10 × 22 = 221
    expect(check('{ users { id friends { id name } } }', { maxCost: 221 })).toEqual([]);
    expect(check('{ users { id friends { id name } } }', { maxCost: 220 })).toEqual([['QUERY_TOO_COMPLEX', 'The operation has an estimated cost of 221; at most 220 is allowed.']]);
    // Union and interface members are costed through their type conditions.
    expect(check('{ search { ... on User { friends { id } } ... on Post { title } } }', { maxCost: 100 })).toEqual([
      ['QUERY_TOO_COMPLEX', 'The operation has an estimated cost of 121; at most 100 is allowed.'],
    ]);
    expect(check('{ __schema { types { fields { name } } } }', { maxCost: 1 })).toEqual([]);
  });

  it('limits directives per node and refuses repeated ones', () => {
    expect(check('{ me @skip(if: false) @a @b @c @d { id } }')).toEqual([]);
    expect(check('{ me @a @b @c @d @e @f { id } }')).toEqual([['TOO_MANY_DIRECTIVES', 'The field "me" has 6 directives; at most 5 are allowed.']]);
    expect(check('{ me { ...F @a @a } } fragment F on User { id }')).toEqual([['TOO_MANY_DIRECTIVES', 'Directive "@a" is repeated on the fragment spread "F".']]);
  });

  it('limits how often one response key repeats in a selection set', () => {
    expect(check(`{ me { ${'id '.repeat(10)} } }`)).toEqual([]);
    expect(check(`{ me { ${'id '.repeat(500)} } }`)).toEqual([['TOO_MANY_DUPLICATE_FIELDS', 'Field "id" is selected 500 times in one selection set; at most 10 are allowed.']]);
  });

  it('visits each fragment once: 40 levels of fragments spreading the next twice (2^40 expansions) are measured at once', () => {
    let bomb = '{ ...F0 } ';
    for (let i = 0; i < 40; i++) bomb += `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} } `;
    bomb += 'fragment F40 on Query { me { id } }';
    // Expanded, this walk would take days; a walk per fragment answers exactly.
    expect(check(bomb)).toEqual([
      ['TOO_MANY_ROOT_FIELDS', 'The operation selects 1099511627776 root fields; at most 20 are allowed.'],
      ['QUERY_TOO_COMPLEX', 'The operation has an estimated cost of 2199023255552; at most 5000 is allowed.'],
    ]);
  });

  it('survives fragment cycles (graphql-js reports them)', () => {
    expect(check('{ me { ...A } } fragment A on User { best { ...B } } fragment B on User { best { ...A } }')).toEqual([]);
  });
});

describe('the operations REST routes run', () => {
  // They go through the same validation, so lowering a limit below what they need breaks routes.
  it('fit the default limits with room to spare', () => {
    const api = buildSchema(readFileSync(new URL('../schema/api.graphql', import.meta.url), 'utf8'));
    // Each REST area keeps its operations in its folder, rest-compat/areas/<area>/*.graphql.
    const areas = new URL('../rest-compat/areas/', import.meta.url);
    const dirs = readdirSync(areas, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => new URL(`${d.name}/`, areas));
    const files = dirs.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.graphql')).map((f) => new URL(f, dir)));
    expect(files.length).toBeGreaterThan(0);
    const halved: GraphQLLimits = { ...LIMITS, maxDepth: 8, maxAliases: 15, maxRootFields: 10, maxCost: 500 };
    for (const file of files) {
      const errors = checkOperationLimits(api, parse(readFileSync(file, 'utf8')), halved);
      expect(errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
    }
  });
});

describe('createLimitRules', () => {
  it('reports its errors before graphql-js aborts validating an abusive document', () => {
    const doc = parse(`{ ${'__typename '.repeat(3000)} }`);
    const errors = validate(schema, doc, [...specifiedRules, ...createLimitRules(LIMITS)]);
    expect(errors.map((e) => [e.extensions.code, e.message])).toEqual([
      ['TOO_MANY_ROOT_FIELDS', 'The operation selects 3000 root fields; at most 20 are allowed.'],
      ['TOO_MANY_DUPLICATE_FIELDS', 'Field "__typename" is selected 3000 times in one selection set; at most 10 are allowed.'],
      [undefined, 'Validation aborted.'],
    ]);
  });
});

describe('formatError helpers', () => {
  it('withLimitCode restores the rule’s code that Apollo replaced', () => {
    const original = new GraphQLError('deep', { extensions: { code: 'QUERY_TOO_DEEP', status: 400 } });
    const wrapped = new GraphQLError('deep', { originalError: original, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(withLimitCode({ message: 'deep', extensions: { code: 'GRAPHQL_VALIDATION_FAILED', status: 400 } }, wrapped)).toEqual({ message: 'deep', extensions: { code: 'QUERY_TOO_DEEP', status: 400 } });
    const other = new GraphQLError('x', { originalError: new GraphQLError('x', { extensions: { code: 'SOMETHING' } }) });
    expect(withLimitCode({ message: 'x', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, other)).toEqual({ message: 'x', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });

  it('withLimitCode turns graphql-js’s token-limit syntax error into TOO_MANY_TOKENS', () => {
    let message = '';
    try {
      parse(`{ ${'a '.repeat(20)} }`, { maxTokens: 10 });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(withLimitCode({ message, locations: [{ line: 1, column: 21 }], extensions: { code: 'GRAPHQL_PARSE_FAILED' } }, null)).toEqual({
      message: 'The document has more than 10 tokens.',
      extensions: { code: 'TOO_MANY_TOKENS', status: 400 },
    });
  });

  it('withoutSuggestions drops "Did you mean …?"', () => {
    expect(withoutSuggestions({ message: 'Cannot query field "mee" on type "Query". Did you mean "me"?' })).toEqual({ message: 'Cannot query field "mee" on type "Query".' });
    expect(withoutSuggestions({ message: 'Value "X" does not exist in "Role" enum. Did you mean the enum value "USER" or "ADMIN"?' })).toEqual({ message: 'Value "X" does not exist in "Role" enum.' });
    const plain = { message: 'Unknown type "Foo".' };
    expect(withoutSuggestions(plain)).toBe(plain);
  });
});
