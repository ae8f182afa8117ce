/**
 * Composes the supergraph at build time (committed; a test fails when it is stale).
 * Writes `schema/supergraph.graphql` (what the gateway loads) and `schema/api.graphql` (the
 * client-facing schema, for codegen and review).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { printSchema as printFederationSchema } from '@apollo/federation-internals';
import { lexicographicSortSchema, printSchema, buildSchema, type DocumentNode } from 'graphql';

export const SUPERGRAPH_PATH = new URL('./supergraph.graphql', import.meta.url);
export const API_SCHEMA_PATH = new URL('./api.graphql', import.meta.url);

export interface ComposedSchemas {
  supergraph: string;
  api: string;
  hints: string[];
}

/** A composition that failed; `errors` holds each composition error's message. */
export class CompositionError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(`Composition failed:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'CompositionError';
  }
}

/** A subgraph to compose; without `url` its routing URL is a placeholder the gateway resolves. */
export interface SubgraphToCompose {
  name: string;
  typeDefs: DocumentNode;
  url?: string;
}

/** The routing URL composition writes for a subgraph given without one. */
export function placeholderUrl(name: string): string {
  return `http://${name}.subgraph.invalid/graphql`;
}

/** Whether a routing URL is {@link placeholderUrl}'s: the gateway routes it to `SUBGRAPH_<NAME>_URL`. */
export function isPlaceholderUrl(url: string): boolean {
  return /^http:\/\/[a-z0-9_-]+\.subgraph\.invalid\/graphql$/.test(url);
}

/**
 * Composes the supergraph SDL alone (the gateway's run-time composition).
 * @throws CompositionError listing every composition error.
 */
export function composeSupergraphSdl(subgraphs: readonly SubgraphToCompose[]): string {
  return composeOrThrow(subgraphs).supergraphSdl;
}

function composeOrThrow(subgraphs: readonly SubgraphToCompose[]) {
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, typeDefs: s.typeDefs, url: s.url ?? placeholderUrl(s.name) })));
  if (result.errors) throw new CompositionError(result.errors.map((e) => e.message));
  return result;
}

/**
 * Composes the given subgraphs. Routing URLs in the supergraph are placeholders; the gateway
 * replaces them with `SUBGRAPH_<NAME>_URL` at run time.
 * @throws CompositionError listing every composition error.
 */
export function composeSupergraph(subgraphs: readonly SubgraphToCompose[]): ComposedSchemas {
  const result = composeOrThrow(subgraphs);
  const api = printSchema(lexicographicSortSchema(buildSchema(printFederationSchema(result.schema.toAPISchema()))));
  return { supergraph: result.supergraphSdl, api, hints: result.hints.map((h) => h.toString()) };
}

/** Writes both files; returns whether either changed. */
export function writeComposed(composed: ComposedSchemas): boolean {
  const before = [read(SUPERGRAPH_PATH), read(API_SCHEMA_PATH)];
  writeFileSync(SUPERGRAPH_PATH, composed.supergraph.endsWith('\n') ? composed.supergraph : `${composed.supergraph}\n`);
  writeFileSync(API_SCHEMA_PATH, composed.api.endsWith('\n') ? composed.api : `${composed.api}\n`);
  return before[0] !== read(SUPERGRAPH_PATH) || before[1] !== read(API_SCHEMA_PATH);
}

function read(url: URL): string | null {
  try {
    return readFileSync(url, 'utf8');
  } catch {
    return null;
  }
}

/** The committed supergraph SDL the gateway serves. */
export function loadSupergraph(): string {
  return readFileSync(SUPERGRAPH_PATH, 'utf8');
}
