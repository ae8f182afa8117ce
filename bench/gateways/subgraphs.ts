/**
 * The benchmark's four subgraphs, built with @apollo/subgraph over the in-memory data of data.ts.
 * Each answers on its own port at `/graphql` over plain node:http. A request must carry the
 * per-request credential the load generator sent through the gateway: either the client's
 * `authorization` header itself (gateways configured to forward it) or, for this project's
 * gateway, the signed internal context it sends instead, whose request id is the client's
 * `x-request-id`. Without it the subgraph answers with an error, so the response differs from the
 * reference and the benchmark fails the gateway.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { CONTEXT_HEADER, verifyContext } from '../../kernel/context.ts';
import * as data from './data.ts';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires", "@provides", "@shareable"])';

type Ref = Record<string, unknown>;
const str = (v: unknown): string => String(v);

export const SUBGRAPH_SDL: Record<string, string> = {
  accounts: `${LINK}
    type Query { me: User  user(id: ID!): User  users: [User] }
    type User @key(fields: "id") { id: ID!  name: String  username: String @shareable  birthday: Int }`,
  inventory: `${LINK}
    type Product @key(fields: "upc") {
      upc: String!
      weight: Int @external
      price: Int @external
      inStock: Boolean
      shippingEstimate: Int @requires(fields: "price weight")
    }`,
  products: `${LINK}
    type Query { topProducts(first: Int = 5): [Product] }
    type Product @key(fields: "upc") { upc: String!  name: String  price: Int  weight: Int }`,
  reviews: `${LINK}
    type Product @key(fields: "upc") { upc: String!  reviews: [Review] }
    type Review @key(fields: "id") { id: ID!  body: String  product: Product  author: User @provides(fields: "username") }
    type User @key(fields: "id") { id: ID!  username: String @external  reviews: [Review] }`,
};

const reviewOut = (r: data.Review) => ({ id: r.id, body: r.body, productUpc: r.productUpc, authorId: r.authorId });

const RESOLVERS: Record<string, GraphQLResolverMap<unknown>> = {
  accounts: {
    Query: {
      me: () => data.USERS[0],
      user: (_: unknown, args: Ref) => data.userById.get(str(args.id)) ?? null,
      users: () => data.USERS,
    },
    User: { __resolveReference: (ref: Ref) => data.userById.get(str(ref.id)) ?? null },
  },
  inventory: {
    Product: {
      __resolveReference: (ref: Ref) => ref,
      inStock: (p: Ref) => data.inStock(str(p.upc)),
      shippingEstimate: (p: Ref) => data.shippingEstimate(Number(p.price), Number(p.weight)),
    },
  },
  products: {
    Query: { topProducts: (_: unknown, args: Ref) => data.PRODUCTS.slice(0, Number(args.first ?? 5)) },
    Product: { __resolveReference: (ref: Ref) => data.productByUpc.get(str(ref.upc)) ?? null },
  },
  reviews: {
    Product: {
      __resolveReference: (ref: Ref) => ({ upc: str(ref.upc) }),
      reviews: (p: Ref) => data.reviewsOfProduct(str(p.upc)).map(reviewOut),
    },
    Review: {
      __resolveReference: (ref: Ref) => {
        const r = data.reviewById.get(str(ref.id));
        return r ? reviewOut(r) : null;
      },
      product: (r: Ref) => ({ upc: str(r.productUpc) }),
      // `username` is provided here, from the same table as accounts.
      author: (r: Ref) => {
        const u = data.userById.get(str(r.authorId));
        return u ? { id: u.id, username: u.username } : null;
      },
    },
    User: {
      __resolveReference: (ref: Ref) => ({ id: str(ref.id) }),
      reviews: (u: Ref) => data.reviewsOfUser(str(u.id)).map(reviewOut),
    },
  },
};

export const SUBGRAPH_NAMES = Object.keys(SUBGRAPH_SDL);

export function subgraphSchema(name: string): GraphQLSchema {
  const sdl = SUBGRAPH_SDL[name];
  const resolvers = RESOLVERS[name];
  if (!sdl || !resolvers) throw new Error(`unknown benchmark subgraph ${name}`);
  return buildSubgraphSchema({ typeDefs: parse(sdl), resolvers });
}

/** The credential check: the client's `authorization`, or the project's signed context carrying its request id. */
export async function carriesCredential(req: IncomingMessage, secret: string): Promise<boolean> {
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string' && /^bench-[A-Za-z0-9_-]+$/.test(authorization)) return true;
  const context = req.headers[CONTEXT_HEADER];
  if (typeof context !== 'string') return false;
  try {
    return (await verifyContext(context, secret)).requestId.startsWith('bench-');
  } catch {
    return false;
  }
}

/**
 * One subgraph over HTTP. Data never changes, so each distinct request body is executed once and
 * its serialised answer kept: the subgraphs answer from memory and the gateway is what is measured.
 */
function serve(name: string, secret: string): Server {
  const schema = subgraphSchema(name);
  const documents = new Map<string, DocumentNode>();
  const answers = new Map<string, string>();
  const answer = async (raw: string): Promise<string> => {
    const cached = answers.get(raw);
    if (cached !== undefined) return cached;
    const body = JSON.parse(raw) as { query: string; variables?: Record<string, unknown>; operationName?: string };
    let document = documents.get(body.query);
    if (!document) {
      document = parse(body.query);
      const errors = validate(schema, document);
      if (errors.length > 0) return JSON.stringify({ errors: errors.map((e) => ({ message: e.message })) });
      documents.set(body.query, document);
    }
    const result = await execute({ schema, document, variableValues: body.variables, operationName: body.operationName });
    const text = JSON.stringify(result);
    if (answers.size > 10_000) answers.clear();
    answers.set(raw, text);
    return text;
  };
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let text: string;
        if (req.method !== 'POST' || req.url?.split('?')[0] !== '/graphql') {
          res.writeHead(404).end();
          return;
        }
        if (!(await carriesCredential(req, secret))) text = JSON.stringify({ errors: [{ message: `${name}: request without the client's credential` }] });
        else text = await answer(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      })().catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: String(err) }] }));
      });
    });
  });
}

export interface StartedSubgraphs {
  /** Base URL (no `/graphql`) of each subgraph. */
  urls: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the four subgraphs on free loopback ports. */
export async function startSubgraphs(secret: string): Promise<StartedSubgraphs> {
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  for (const name of SUBGRAPH_NAMES) {
    const server = serve(name, secret);
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return {
    urls,
    close: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}
