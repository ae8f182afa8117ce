/**
 * The lean plan executor (gateway/executor/) against @apollo/gateway's `executeQueryPlan`: cases
 * after @apollo/gateway's own execution tests (executeQueryPlan.test.ts, its conditions and
 * introspection suites, and the integration suites on aliases, abstract types, requires,
 * mutations and variables), each planned once by @apollo/query-planner and executed by both
 * executors over the same in-process subgraphs. Both must give the expected answer, byte for
 * byte the same JSON (key order included): data, errors with their paths, codes and
 * `serviceName`, and value-completion extensions.
 */
import { describe, expect, it } from 'vitest';
import { operationFromDocument } from '@apollo/federation-internals';
import { buildOperationContext, executeQueryPlan, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import type { FetchNode, QueryPlanSelectionNode } from '@apollo/query-planner';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, parse } from 'graphql';
import { executeLeanQueryPlan, executeLeanQueryPlanAsJson, WRITTEN, type JsonExecutionResult } from '../gateway/executor/index.ts';
import { representationOf, TypeTester } from '../gateway/executor/entities.ts';
import { Representations } from '../gateway/executor/representations.ts';
import { createFixture } from './executor-fixture.ts';

const fixture = createFixture();

interface Case {
  query: string;
  variables?: Record<string, unknown>;
  failures?: string[];
  /** Changes the service map (a subgraph missing, one answering wrong data). */
  services?: (map: ServiceMap) => ServiceMap;
}

function requestContext(query: string, variables: Record<string, unknown>): GatewayGraphQLRequestContext {
  const document = parse(query);
  const operationContext = buildOperationContext({ schema: fixture.apiGraphQLSchema, operationDocument: document });
  return {
    request: { query, variables },
    logger: console,
    schema: fixture.apiGraphQLSchema,
    schemaHash: '' as GatewayGraphQLRequestContext['schemaHash'],
    context: {},
    cache: { get: async () => undefined, set: async () => {}, delete: async () => {} },
    queryHash: '',
    document,
    source: query,
    operationName: operationContext.operation.name?.value ?? null,
    operation: operationContext.operation,
    metrics: {},
    overallCachePolicy: undefined,
  };
}

/** The JSON a client receives (errors as their `toJSON()`), with key order. */
function wire(result: GatewayExecutionResult): string {
  // A thrown Error is what Apollo Server turns into a GraphQLError with its message.
  const errors = (list: unknown): unknown => (Array.isArray(list) ? list.map((e: unknown) => (e instanceof GraphQLError ? e.toJSON() : { message: e instanceof Error ? e.message : String(e) })) : list);
  const { valueCompletion } = (result.extensions ?? {}) as { valueCompletion?: unknown };
  return JSON.stringify({ ...result, errors: errors(result.errors), ...(result.extensions ? { extensions: { ...result.extensions, valueCompletion: errors(valueCompletion) } } : {}) });
}

/** `wire` of a result whose data may be JSON bytes: those bytes where the data goes. */
function wireOfJson(result: JsonExecutionResult, written: 'written' | 'objects'): string {
  const { json, ...rest } = result;
  if (written === 'objects' || rest.data === null || rest.data === undefined) {
    expect(json).toBeUndefined();
    return wire(rest);
  }
  expect(rest.data).toBe(WRITTEN);
  const data = json?.answer.toString('utf8', json.start, json.end) ?? 'missing';
  expect(json?.answer.toString('utf8')).toBe(`{"data":${data}}\n`);
  const mark = '\u0000data';
  return wire({ ...rest, data: { [mark]: true } }).replace(JSON.stringify({ [mark]: true }), () => data);
}

/**
 * Runs `c` through both executors, and the lean one with its data written as JSON (GraphQL over
 * HTTP's); returns the lean one's answer after checking all three agree to the byte. `written`:
 * whether the JSON writer takes the operation (no response name twice in one object).
 */
async function run(c: Case, written: 'written' | 'objects' = 'written'): Promise<unknown> {
  const document = parse(c.query);
  const plan = fixture.planner.buildQueryPlan(operationFromDocument(fixture.apiSchema, document));
  const answers: string[] = [];
  for (const executor of ['apollo', 'lean', 'json'] as const) {
    const services = c.services ? c.services(fixture.serviceMap(c.failures)) : fixture.serviceMap(c.failures);
    const ctx = requestContext(c.query, c.variables ?? {});
    const operationContext = buildOperationContext({ schema: fixture.apiGraphQLSchema, operationDocument: ctx.document });
    if (executor === 'json') answers.push(wireOfJson(await executeLeanQueryPlanAsJson(plan, services, ctx, operationContext, fixture.supergraphSchema), written));
    else if (executor === 'lean') answers.push(wire(await executeLeanQueryPlan(plan, services, ctx, operationContext, fixture.supergraphSchema)));
    else answers.push(wire(await executeQueryPlan(plan, services, ctx, operationContext, fixture.supergraphSchema, fixture.apiSchema)));
  }
  expect(answers[1]).toBe(answers[0]);
  expect(answers[2]).toBe(answers[1]);
  return JSON.parse(answers[1] ?? 'null');
}

describe('lean executor, same answers as @apollo/gateway', () => {
  it('returns only the requested fields, in the order of the operation, across subgraphs', async () => {
    const answer = await run({ query: '{ topReviews { body author { name { last first } } product { name upc } } }' });
    expect(answer).toEqual({
      data: {
        topReviews: [
          { body: 'Love it!', author: { name: { last: 'Lovelace', first: 'Ada' } }, product: { name: 'Structure and Interpretation', upc: '1' } },
          { body: 'Too expensive.', author: { name: { last: 'Lovelace', first: 'Ada' } }, product: { name: 'Table', upc: '2' } },
          { body: 'Could be better.', author: { name: { last: 'Turing', first: 'Alan' } }, product: { name: 'The Art of Computer Programming', upc: '3' } },
          { body: 'Prefer something else.', author: { name: { last: 'Turing', first: 'Alan' } }, product: { name: 'Structure and Interpretation', upc: '1' } },
        ],
      },
    });
    // In the operation's order, not the subgraphs' (`last` before `first`, `name` before `upc`).
    expect(JSON.stringify(answer)).toMatch(/^\{"data":\{"topReviews":\[\{"body":"Love it!","author":\{"name":\{"last":"Lovelace","first":"Ada"\}\},"product":\{"name":"Structure and Interpretation","upc":"1"\}\}/);
  });

  it('passes variables to root and entity fetches, without duplicating them (aliases of one field)', async () => {
    const answer = await run({
      query: 'query Test($first: Int!, $locale: String) { a: topReviews(first: $first) { body author { birthDate(locale: $locale) } } b: topReviews(first: $first) { id } }',
      variables: { first: 2, locale: 'en-US' },
    });
    expect(answer).toEqual({ data: { a: [{ body: 'Love it!', author: { birthDate: '12/10/1815' } }, { body: 'Too expensive.', author: { birthDate: '12/10/1815' } }], b: [{ id: '1' }, { id: '2' }] } });
  });

  it('answers aliases and __typename, root types included, and leaves out what was only fetched for keys', async () => {
    const answer = await run({ query: '{ t: __typename me { kind: __typename who: name { first } posts: reviews { __typename id } } }' });
    expect(answer).toEqual({ data: { t: 'Query', me: { kind: 'User', who: { first: 'Ada' }, posts: [{ __typename: 'Review', id: '1' }, { __typename: 'Review', id: '2' }] } } });
  });

  it('executes fragments on an interface, inline and named, by each object’s concrete type', async () => {
    const answer = await run({
      query: 'query { topProducts { __typename ...Priced ... on Book { isbn reviews { body } } ... on Furniture { color } } } fragment Priced on Product { upc price }',
    });
    expect(answer).toEqual({
      data: {
        topProducts: [
          { __typename: 'Book', upc: '1', price: 40, isbn: '0262510871', reviews: [{ body: 'Love it!' }, { body: 'Prefer something else.' }] },
          { __typename: 'Furniture', upc: '2', price: 899, color: 'oak' },
          { __typename: 'Book', upc: '3', price: 190, isbn: '0201896834', reviews: [{ body: 'Could be better.' }] },
        ],
      },
    });
  });

  it('executes fields of union type', async () => {
    const answer = await run({ query: '{ users { name { first } account { ... on PasswordAccount { email } ... on SMSAccount { number } } } }' });
    expect(answer).toEqual({ data: { users: [{ name: { first: 'Ada' }, account: { email: 'ada@example.com' } }, { name: { first: 'Alan' }, account: { number: '+44 1' } }] } });
  });

  it('sends @requires fields in the representations of an entity fetch', async () => {
    const answer = await run({ query: '{ topReviews(first: 3) { product { upc ... on Book { inStock shippingEstimate } } } }' });
    expect(answer).toEqual({ data: { topReviews: [{ product: { upc: '1', inStock: true, shippingEstimate: 4 } }, { product: { upc: '2' } }, { product: { upc: '3', inStock: false, shippingEstimate: 19 } }] } });
  });

  it('applies @skip and @include, literal and by variable, with defaults, including to whole fetches (Condition nodes)', async () => {
    const query = 'query ($withAuthor: Boolean!, $skipBody: Boolean = true) { topReviews(first: 2) { id body @skip(if: $skipBody) author @include(if: $withAuthor) { name { first } } product @skip(if: false) { upc } } }';
    expect(await run({ query, variables: { withAuthor: true } })).toEqual({
      data: { topReviews: [{ id: '1', author: { name: { first: 'Ada' } }, product: { upc: '1' } }, { id: '2', author: { name: { first: 'Ada' } }, product: { upc: '2' } }] },
    });
    expect(await run({ query, variables: { withAuthor: false, skipBody: false } })).toEqual({ data: { topReviews: [{ id: '1', body: 'Love it!', product: { upc: '1' } }, { id: '2', body: 'Too expensive.', product: { upc: '2' } }] } });
  });

  it('reports a root field’s error with its path, code and serviceName, and keeps the other root fields', async () => {
    const answer = await run({ query: '{ me { name { first } } topReviews(first: 1) { body } }', failures: ['me'] });
    expect(answer).toEqual({
      data: { me: null, topReviews: [{ body: 'Love it!' }] },
      errors: [{ message: 'Not authenticated', path: ['me'], extensions: { code: 'UNAUTHENTICATED', status: 401, serviceName: 'accounts' } }],
    });
  });

  it('maps an entity fetch’s error path (`_entities`, index) to each entity’s place, also for entities sent as one representation, and nulls a failed non-null field’s parent', async () => {
    const answer = await run({ query: '{ topReviews { id author { name { last } numberOfReviews } } }', failures: ['numberOfReviews'] });
    const lovelace = { name: { last: 'Lovelace' }, numberOfReviews: 2 };
    const failed = (i: number) => ({ message: 'Count unavailable', path: ['topReviews', i, 'author', 'numberOfReviews'], extensions: { code: 'COUNT_FAILED', serviceName: 'reviews' } });
    expect(answer).toEqual({
      errors: [failed(2), failed(3)],
      data: { topReviews: [{ id: '1', author: lovelace }, { id: '2', author: lovelace }, { id: '3', author: null }, { id: '4', author: null }] },
    });
  });

  it('keeps a subgraph’s own null propagation for a non-null field and reports it under the client’s path', async () => {
    const answer = await run({ query: '{ users { reviews { id strict } } }' });
    expect(answer).toEqual({
      data: { users: [{ reviews: [{ id: '1', strict: 'strict 1' }, { id: '2', strict: 'strict 2' }] }, { reviews: [null, { id: '4', strict: 'strict 4' }] }] },
      errors: [{ message: 'Cannot return null for non-nullable field Review.strict.', path: ['users', 1, 'reviews', 0, 'strict'], extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'reviews' } }],
    });
  });

  it('answers the rest when a subgraph is not in the service map, nulling what it owns', async () => {
    const answer = await run({
      query: '{ topReviews(first: 1) { body author { name { first } } } }',
      services: (map) => Object.fromEntries(Object.entries(map).filter(([name]) => name !== 'accounts')),
    });
    expect(answer).toEqual({ data: { topReviews: [{ body: 'Love it!', author: { name: null } }] }, errors: [{ message: 'Couldn\'t find service with name "accounts"' }] });
  });

  it('puts value-completion errors in extensions.valueCompletion when no fetch failed (a wrong value, a missing non-null)', async () => {
    // User 1 (the author of reviews 0 and 1) with a number for a string, user 2 without its non-null username.
    const wrong = (map: ServiceMap): ServiceMap => ({
      ...map,
      accounts: answeringEntities(map.accounts, (rep) => (rep.id === '1' ? { __typename: 'User', username: '@ada', birthDate: 42 } : { __typename: 'User', birthDate: 'y' })),
    });
    const answer = await run({ query: '{ topReviews(first: 3) { author { username birthDate } } }', services: wrong });
    const invalid = (i: number) => ({ message: 'Invalid value found for field User.birthDate.', path: ['topReviews', i, 'author', 'birthDate'], extensions: { code: 'INVALID_GRAPHQL' } });
    expect(answer).toEqual({
      extensions: {
        valueCompletion: [invalid(0), invalid(1), { message: 'Cannot return null for non-nullable field User.username.', path: ['topReviews', 2, 'author', 'username'], extensions: { code: 'INVALID_GRAPHQL' } }],
      },
      data: { topReviews: [{ author: { username: '@ada', birthDate: null } }, { author: { username: '@ada', birthDate: null } }, { author: null }] },
    });
  });

  it('runs mutations one after another, then the fields other subgraphs own', async () => {
    const answer = await run({ query: 'mutation { login(username: "@complete") { name { first } } reviewProduct(upc: "2", body: "Sturdy") { body product { ... on Furniture { name color } } author { name { last } } } }' });
    expect(answer).toEqual({ data: { login: { name: { first: 'Alan' } }, reviewProduct: { body: 'Sturdy', product: { name: 'Table', color: 'oak' }, author: { name: { last: 'Lovelace' } } } } });
  });

  it('answers introspection next to subgraph fields', async () => {
    const answer = await run({ query: '{ __schema { queryType { name } } book: __type(name: "Book") { name kind interfaces { name } } product(upc: "2") { name } }' });
    expect(answer).toEqual({ data: { __schema: { queryType: { name: 'Query' } }, book: { name: 'Book', kind: 'OBJECT', interfaces: [{ name: 'Product' }] }, product: { name: 'Table' } } });
  });

  it('nulls a field whose object has a type name the schema does not know, with an error', async () => {
    const answer = await run({ query: '{ product(upc: "1") { name } }', services: (map) => ({ ...map, products: answering({ product: { __typename: 'Secret', name: 'x' } }) }) });
    expect(answer).toEqual({ data: { product: null }, extensions: { valueCompletion: [{ message: 'Invalid __typename found for object at field Query.product.', path: ['product'], extensions: { code: 'INVALID_GRAPHQL' } }] } });
  });
});

describe('the data written as JSON, byte for byte what JSON.stringify makes of the shaped data', () => {
  const products = (product: Record<string, unknown> | null): Case['services'] => (map) => ({ ...map, products: answering({ product }) });

  it('escapes and encodes strings as JSON.stringify does: quotes, backslashes, control characters, DEL, Latin-1, emoji, a lone surrogate', async () => {
    const name = 'a"b\\c\n\t\u0001\u001f \u007f é ✓ 😀 \ud800 end';
    const answer = await run({ query: '{ product(upc: "1") { name upc } }', services: products({ __typename: 'Book', upc: 'plain', name }) });
    expect(answer).toEqual({ data: { product: { name, upc: 'plain' } } });
  });

  it('writes integers at the limits of Int and nulls in lists and objects', async () => {
    for (const price of [2147483647, -2147483648, 0, -0, 7]) {
      expect(await run({ query: '{ product(upc: "1") { price name } }', services: products({ __typename: 'Book', upc: '1', price, name: null }) })).toEqual({ data: { product: { price: price === 0 ? 0 : price, name: null } } });
    }
  });

  it('nulls a list whose non-null element is null, and the object whose non-null field is null, with one error each', async () => {
    const answer = await run({
      query: '{ topProducts { upc name } me { username name { first } } }',
      services: (map) => ({
        ...map,
        products: answering({ topProducts: [{ __typename: 'Book', upc: '1', name: 'x' }, { __typename: 'Book', upc: null, name: 'y' }] }),
        accounts: answering({ me: { username: null, name: { first: 'Ada' } } }),
      }),
    });
    expect(answer).toMatchObject({ data: { topProducts: [{ upc: '1', name: 'x' }, null], me: null } });
  });

  it('nulls the whole data when a non-null root field is null', async () => {
    const answer = await run({ query: '{ users { id } }', services: (map) => ({ ...map, accounts: answering({ users: null }) }) });
    expect(answer).toMatchObject({ data: null });
  });

  it('leaves an operation that selects a response name twice in one object to the object walk, with the same answer', async () => {
    const answer = await run({ query: '{ product(upc: "1") { name ... on Book { name isbn } } }' }, 'objects');
    expect(answer).toEqual({ data: { product: { name: 'Structure and Interpretation', isbn: '0262510871' } } });
  });
});

describe('entity representations of a fetch, each distinct one once', () => {
  const types = new TypeTester(fixture.supergraphSchema);
  const flat: QueryPlanSelectionNode[] = [{ kind: 'InlineFragment', typeCondition: 'User', selections: [{ kind: 'Field', name: '__typename' }, { kind: 'Field', name: 'id' }] }];
  const nested: QueryPlanSelectionNode[] = [{ kind: 'InlineFragment', typeCondition: 'Book', selections: [{ kind: 'Field', name: '__typename' }, { kind: 'Field', name: 'upc' }, { kind: 'Field', name: 'meta', selections: [{ kind: 'Field', name: 'a' }] }] }];
  const fetchOf = (requires: QueryPlanSelectionNode[]): FetchNode => ({ kind: 'Fetch', serviceName: 's', requires, operation: '', operationName: undefined, operationKind: 'query' as FetchNode['operationKind'] });
  /** Every representation built, rewritten and kept once by its JSON: what the tree of maps must equal. */
  const naive = (requires: QueryPlanSelectionNode[], entities: Record<string, unknown>[]) => {
    const list: unknown[] = [];
    const slots: number[] = [];
    const seen = new Map<string, number>();
    for (const entity of entities) {
      const representation = representationOf(types, entity, requires);
      if (!representation?.__typename) continue;
      const key = JSON.stringify(representation);
      if (!seen.has(key)) seen.set(key, list.push(representation) - 1);
      slots.push(seen.get(key) ?? -1);
    }
    return { list, slots };
  };
  const entities = [
    { __typename: 'User', id: '1', name: 'a' },
    { __typename: 'User', id: 1 },
    { __typename: 'User', id: '1' },
    { __typename: 'User' },
    { __typename: 'Book', id: '1' },
    { __typename: '', id: '2' },
    { __typename: 'User', id: null },
    { __typename: 'User', id: { composite: ['x'] } },
    { __typename: 'User', id: { composite: ['x'] } },
    { __typename: 'User', id: null },
    { __typename: 'User', id: 1 },
  ];

  for (const [name, requires] of [['flat (a key under one type condition)', flat], ['not flat (a nested selection)', nested]] as const) {
    it(`gives the representations and slots of building each and keeping the first of each JSON: ${name}`, () => {
      const distinct = new Representations(types, fetchOf(requires));
      const slots = entities.map((e) => distinct.slotOf(e)).filter((slot) => slot !== -1);
      const expected = naive(requires, entities);
      expect(JSON.stringify({ list: distinct.list, slots })).toBe(JSON.stringify(expected));
    });
  }

  it('sends a User once per distinct id, keeping string and number ids apart', () => {
    const distinct = new Representations(types, fetchOf(flat));
    const slots = entities.map((e) => distinct.slotOf(e));
    expect(slots).toEqual([0, 1, 0, -1, -1, -1, 2, 3, 3, 2, 1]);
    expect(JSON.stringify(distinct.list)).toBe('[{"__typename":"User","id":"1"},{"__typename":"User","id":1},{"__typename":"User","id":null},{"__typename":"User","id":{"composite":["x"]}}]');
  });
});

/** `real`, except that entity fetches (`_entities`) are answered by `entity` for each representation. */
function answeringEntities(real: GraphQLDataSource | undefined, entity: (representation: Record<string, unknown>) => unknown): GraphQLDataSource {
  return {
    process: async (options) => {
      const representations: unknown = options.request.variables?.representations;
      if (Array.isArray(representations)) return { data: { _entities: representations.map((r: Record<string, unknown>) => entity(r)) } };
      if (!real) throw new Error('no subgraph');
      return real.process(options);
    },
  };
}

/** A subgraph that answers every fetch with `data`. */
function answering(data: Record<string, unknown>): GraphQLDataSource {
  return { process: async () => ({ data }) };
}
