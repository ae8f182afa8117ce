/**
 * The in-memory data of the benchmark's four subgraphs (accounts, inventory, products, reviews),
 * after the public federation benchmarks: a few users and products and reviews whose long bodies
 * make the heavy query's answer about 88 KB. Deterministic: built from fixed tables, no clock, no
 * randomness, so every gateway and the direct execution see the same data.
 */

export interface User {
  id: string;
  name: string;
  username: string;
  birthday: number;
}

export interface Product {
  upc: string;
  name: string;
  price: number;
  weight: number;
}

export interface Review {
  id: string;
  body: string;
  productUpc: string;
  authorId: string;
}

const FIRST = ['Ada', 'Brook', 'Cyril', 'Dana', 'Emil', 'Fern'];
const LAST = ['Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Novak', 'Ribeiro'];

export const USERS: readonly User[] = FIRST.map((first, i) => ({
  id: String(i + 1),
  name: `${first} ${LAST[i] ?? ''}`,
  username: `${first.toLowerCase()}${i + 1}`,
  birthday: 631_152_000 + i * 86_400 * 97,
}));

const PRODUCT_NAMES = ['Desk', 'Bench', 'Kettle', 'Stool', 'Radio', 'Shelf', 'Heater', 'Mirror', 'Rug'];

export const PRODUCTS: readonly Product[] = PRODUCT_NAMES.map((name, i) => ({
  upc: String(i + 1),
  name,
  price: 150 + ((i * 733) % 4_000),
  weight: 20 + ((i * 389) % 2_500),
}));

const WORDS = [
  'gateway', 'subgraph', 'entity', 'resolver', 'latency', 'throughput', 'request', 'planner', 'fetch',
  'supergraph', 'schema', 'response', 'header', 'process', 'memory', 'socket', 'payload', 'field',
];

/** A review body of `words` words, the same for the same seed. */
function body(seed: number, words: number): string {
  const out: string[] = [];
  let x = seed * 7 + 3;
  for (let i = 0; i < words; i++) {
    x = (x * 31 + 17) % 1_009;
    out.push(WORDS[x % WORDS.length] ?? '');
  }
  const text = out.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** Ten reviews of the first four products (as in the public benchmark), by the first four users. */
export const REVIEWS: readonly Review[] = Array.from({ length: 10 }, (_, i) => ({
  id: String(i + 1),
  body: body(i + 1, 38 + ((i * 13) % 40)),
  productUpc: String(1 + Math.floor(i / 3) % 4),
  authorId: String(1 + (i % 4)),
}));

export const userById = new Map(USERS.map((u) => [u.id, u]));
export const productByUpc = new Map(PRODUCTS.map((p) => [p.upc, p]));
export const reviewById = new Map(REVIEWS.map((r) => [r.id, r]));

export function reviewsOfProduct(upc: string): Review[] {
  return REVIEWS.filter((r) => r.productUpc === upc);
}

export function reviewsOfUser(id: string): Review[] {
  return REVIEWS.filter((r) => r.authorId === id);
}

/** Inventory: whether a product is in stock, and its shipping estimate from its price and weight. */
export function inStock(upc: string): boolean {
  return Number(upc) % 3 !== 0;
}

export function shippingEstimate(price: number, weight: number): number {
  // Free above 1000, otherwise half the weight.
  return price > 1_000 ? 0 : Math.round(weight * 0.5);
}
