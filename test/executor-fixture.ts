/**
 * Four small subgraphs in the shape of @apollo/gateway's own execution test suite (accounts,
 * reviews, products, inventory): entities across subgraphs, an interface and a union, `@requires`,
 * arguments, mutations, and resolvers that fail on purpose. Executed in-process
 * (`LocalGraphQLDataSource`), so both plan executors see the very same subgraph answers.
 */
import { composeServices } from '@apollo/composition';
import { Supergraph, type Schema } from '@apollo/federation-internals';
import { LocalGraphQLDataSource, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import { QueryPlanner } from '@apollo/query-planner';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse, type GraphQLSchema } from 'graphql';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@requires"])';

const SDL = {
  accounts: `${LINK}
    type Query { me: User user(id: ID!): User users: [User!]! }
    type Mutation { login(username: String!): User }
    type User @key(fields: "id") { id: ID! name: Name username: String! birthDate(locale: String): String account: Account }
    type Name { first: String last: String }
    union Account = PasswordAccount | SMSAccount
    type PasswordAccount { email: String! }
    type SMSAccount { number: String }`,
  reviews: `${LINK}
    type Query { topReviews(first: Int = 5): [Review] }
    type Mutation { reviewProduct(upc: String!, body: String!): Review }
    type Review @key(fields: "id") { id: ID! body: String! author: User product: Product strict: String! }
    type User @key(fields: "id") { id: ID! reviews: [Review] numberOfReviews: Int! }
    interface Product { upc: String! }
    type Book implements Product @key(fields: "upc") { upc: String! reviews: [Review] }
    type Furniture implements Product @key(fields: "upc") { upc: String! reviews: [Review] }`,
  products: `${LINK}
    type Query { topProducts(first: Int = 5): [Product] product(upc: String!): Product }
    interface Product { upc: String! name: String price: Int }
    type Book implements Product @key(fields: "upc") { upc: String! name: String price: Int isbn: String }
    type Furniture implements Product @key(fields: "upc") { upc: String! name: String price: Int color: String }`,
  inventory: `${LINK}
    type Book @key(fields: "upc") { upc: String! inStock: Boolean price: Int @external shippingEstimate: Int @requires(fields: "price") }
    type Furniture @key(fields: "upc") { upc: String! inStock: Boolean }`,
} as const;

export type FixtureService = keyof typeof SDL;

type Obj = Record<string, unknown>;
const USERS = [
  { id: '1', name: { first: 'Ada', last: 'Lovelace' }, username: '@ada', birthDate: '1815-12-10', account: { __typename: 'PasswordAccount', email: 'ada@example.com' } },
  { id: '2', name: { first: 'Alan', last: 'Turing' }, username: '@complete', birthDate: '1912-06-23', account: { __typename: 'SMSAccount', number: '+44 1' } },
];
const PRODUCTS = [
  { __typename: 'Book', upc: '1', name: 'Structure and Interpretation', price: 40, isbn: '0262510871' },
  { __typename: 'Furniture', upc: '2', name: 'Table', price: 899, color: 'oak' },
  { __typename: 'Book', upc: '3', name: 'The Art of Computer Programming', price: 190, isbn: '0201896834' },
];
const REVIEWS = [
  { id: '1', authorId: '1', upc: '1', body: 'Love it!' },
  { id: '2', authorId: '1', upc: '2', body: 'Too expensive.' },
  { id: '3', authorId: '2', upc: '3', body: 'Could be better.' },
  { id: '4', authorId: '2', upc: '1', body: 'Prefer something else.' },
];

const byId = <T extends { id: string }>(list: readonly T[], id: unknown): T | null => list.find((x) => x.id === id) ?? null;
const product = (upc: unknown): Obj | null => PRODUCTS.find((p) => p.upc === upc) ?? null;
const reviewOut = (r: (typeof REVIEWS)[number]): Obj => ({ id: r.id, body: r.body, author: { id: r.authorId }, product: { __typename: product(r.upc)?.__typename, upc: r.upc } });
const reviewsOfProduct = (ref: Obj): Obj[] => REVIEWS.filter((r) => r.upc === ref.upc).map(reviewOut);

/** Resolvers; `failures` switches on the deliberate failures of some cases. */
function resolvers(failures: Set<string>) {
  return {
    accounts: {
      Query: {
        me: () => {
          if (failures.has('me')) throw new GraphQLError('Not authenticated', { extensions: { code: 'UNAUTHENTICATED', status: 401 } });
          return USERS[0];
        },
        user: (_: unknown, args: { id: string }) => byId(USERS, args.id),
        users: () => USERS,
      },
      Mutation: { login: (_: unknown, args: { username: string }) => USERS.find((u) => u.username === args.username) ?? null },
      User: {
        __resolveReference: (ref: Obj) => byId(USERS, ref.id),
        birthDate: (user: { birthDate: string }, args: { locale?: string }) => (args.locale === 'en-US' ? new Date(user.birthDate).toLocaleDateString('en-US', { timeZone: 'UTC' }) : user.birthDate),
      },
      Account: { __resolveType: (a: Obj) => a.__typename },
    },
    reviews: {
      Query: { topReviews: (_: unknown, args: { first: number }) => REVIEWS.slice(0, args.first).map(reviewOut) },
      Mutation: {
        reviewProduct: (_: unknown, args: { upc: string; body: string }) => {
          const review = { id: String(REVIEWS.length + 1), authorId: '1', upc: args.upc, body: args.body };
          return reviewOut(review);
        },
      },
      Review: {
        __resolveReference: (ref: Obj) => {
          const found = byId(REVIEWS, ref.id);
          return found ? reviewOut(found) : null;
        },
        strict: (review: Obj) => (review.id === '3' ? null : `strict ${String(review.id)}`),
      },
      User: {
        __resolveReference: (ref: Obj) => ref,
        reviews: (user: Obj) => REVIEWS.filter((r) => r.authorId === user.id).map(reviewOut),
        numberOfReviews: (user: Obj) => {
          if (failures.has('numberOfReviews') && user.id === '2') throw new GraphQLError('Count unavailable', { extensions: { code: 'COUNT_FAILED' } });
          return REVIEWS.filter((r) => r.authorId === user.id).length;
        },
      },
      Product: { __resolveType: (p: Obj) => p.__typename },
      Book: { __resolveReference: (ref: Obj) => ref, reviews: reviewsOfProduct },
      Furniture: { __resolveReference: (ref: Obj) => ref, reviews: reviewsOfProduct },
    },
    products: {
      Query: { topProducts: (_: unknown, args: { first: number }) => PRODUCTS.slice(0, args.first), product: (_: unknown, args: { upc: string }) => product(args.upc) },
      Product: { __resolveType: (p: Obj) => p.__typename },
      Book: { __resolveReference: (ref: Obj) => product(ref.upc) },
      Furniture: { __resolveReference: (ref: Obj) => product(ref.upc) },
    },
    inventory: {
      Book: {
        __resolveReference: (ref: Obj) => ({ ...ref, inStock: ref.upc !== '3' }),
        shippingEstimate: (book: Obj) => (typeof book.price === 'number' ? Math.round(book.price / 10) : null),
      },
      Furniture: { __resolveReference: (ref: Obj) => ({ ...ref, inStock: false }) },
    },
  };
}

export interface Fixture {
  planner: QueryPlanner;
  apiSchema: Schema;
  apiGraphQLSchema: GraphQLSchema;
  supergraphSchema: GraphQLSchema;
  /** A fresh service map; `failures` names deliberate failures (`me`, `numberOfReviews`). */
  serviceMap(failures?: readonly string[]): ServiceMap;
}

/** Composes the four subgraphs and builds the planner the gateway would use. */
export function createFixture(): Fixture {
  const services = (Object.keys(SDL) as FixtureService[]).map((name) => ({ name, typeDefs: parse(SDL[name]), url: `http://${name}.local/graphql` }));
  const composed = composeServices(services);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  const supergraph = Supergraph.build(composed.supergraphSdl);
  const apiSchema = supergraph.apiSchema();
  return {
    planner: new QueryPlanner(supergraph, { exposeDocumentNodeInFetchNode: true }),
    apiSchema,
    apiGraphQLSchema: apiSchema.toGraphQLJSSchema(),
    supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
    serviceMap(failures = []) {
      const all = resolvers(new Set(failures));
      const map: Record<string, GraphQLDataSource> = {};
      for (const { name, typeDefs } of services) map[name] = new LocalGraphQLDataSource(buildSubgraphSchema({ typeDefs, resolvers: all[name] }));
      return map;
    },
  };
}
