/**
 * The benchmark's supergraph (composed with @apollo/composition from the four subgraphs), its
 * heavy nested query, and the reference answer: the same query executed directly, in one process,
 * against the composed API schema over the same in-memory data. Every gateway's answer must be
 * these exact bytes.
 */
import { composeServices } from '@apollo/composition';
import { printSchema as printFederationSchema } from '@apollo/federation-internals';
import { buildSchema, executeSync, parse } from 'graphql';
import * as data from './data.ts';
import { SUBGRAPH_NAMES, SUBGRAPH_SDL } from './subgraphs.ts';

/** Users with their reviews' products and those products' reviewers, plus the top products. */
export const HEAVY_QUERY = `
fragment U on User { id username name }
fragment R on Review { id body }
fragment P on Product { inStock name price shippingEstimate upc weight }

query Heavy {
  users {
    ...U
    reviews {
      ...R
      product {
        ...P
        reviews { ...R author { ...U reviews { ...R product { ...P } } } }
      }
    }
  }
  topProducts {
    ...P
    reviews { ...R author { ...U reviews { ...R product { ...P } } } }
  }
}`;

/** The HTTP body every load request sends. */
export const HEAVY_BODY = JSON.stringify({ query: HEAVY_QUERY, operationName: 'Heavy' });

export interface BenchGraph {
  supergraphSdl: string;
  apiSdl: string;
}

/** Composes the supergraph with each subgraph's routing URL (`<base>/graphql`). */
export function composeBenchGraph(urls: Record<string, string>): BenchGraph {
  const result = composeServices(SUBGRAPH_NAMES.map((name) => ({ name, typeDefs: parse(SUBGRAPH_SDL[name] ?? ''), url: `${urls[name] ?? ''}/graphql` })));
  if (result.errors) throw new Error(`benchmark composition failed:\n${result.errors.map((e) => e.message).join('\n')}`);
  return { supergraphSdl: result.supergraphSdl, apiSdl: printFederationSchema(result.schema.toAPISchema()) };
}

type Obj = Record<string, unknown>;

function userObj(u: data.User): Obj {
  return { ...u, reviews: () => data.reviewsOfUser(u.id).map(reviewObj) };
}

function productObj(p: data.Product): Obj {
  return { ...p, inStock: data.inStock(p.upc), shippingEstimate: data.shippingEstimate(p.price, p.weight), reviews: () => data.reviewsOfProduct(p.upc).map(reviewObj) };
}

function reviewObj(r: data.Review): Obj {
  return {
    id: r.id,
    body: r.body,
    product: () => {
      const p = data.productByUpc.get(r.productUpc);
      return p ? productObj(p) : null;
    },
    author: () => {
      const u = data.userById.get(r.authorId);
      return u ? userObj(u) : null;
    },
  };
}

/** The heavy query executed directly against the composed API schema: the bytes every gateway must answer. */
export function referenceAnswer(apiSdl: string, query = HEAVY_QUERY): string {
  const rootValue = {
    me: () => (data.USERS[0] ? userObj(data.USERS[0]) : null),
    users: () => data.USERS.map(userObj),
    user: ({ id }: { id: string }) => {
      const u = data.userById.get(id);
      return u ? userObj(u) : null;
    },
    topProducts: ({ first }: { first?: number }) => data.PRODUCTS.slice(0, first ?? 5).map(productObj),
  };
  const result = executeSync({ schema: buildSchema(apiSdl), document: parse(query), rootValue });
  if (result.errors) throw new Error(`reference execution failed: ${result.errors.map((e) => e.message).join('; ')}`);
  return JSON.stringify(result);
}
