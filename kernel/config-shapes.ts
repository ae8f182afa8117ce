/**
 * The subgraph names and the shapes of some parts of the configuration. kernel/config.ts reads
 * and validates them and re-exports all of this, which is where the rest of the code imports it from.
 */

/** Every subgraph name, in the order the launcher starts them. */
export const SUBGRAPH_NAMES = ['identity', 'orgs', 'chat', 'knowledge', 'learning', 'live', 'integrations'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** OAuth 2.0 client settings of the Google Calendar connector. */
export interface GoogleOAuthConfig {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  authUrl: string;
  tokenUrl: string;
  /** Requested scopes, space-separated in the authorization URL. */
  scopes: string[];
  timeoutMs: number;
}

/** Worker threads that parse uploaded documents, and the budget of one document. */
export interface KnowledgeParserConfig {
  /** Documents parsed at once (default: 1 or 2, leaving a core to the event loop). */
  workers: number;
  /** A document still parsing after this is refused as unreadable. */
  timeoutMs: number;
  /** A worker's heap limit; the process may grow by twice this per parse. */
  memoryMb: number;
}

/** Timeouts, circuit breaker and retry budget of the gateway's subgraph calls. */
export interface SubgraphResilience {
  /** `SUBGRAPH_<NAME>_TIMEOUT_MS` overrides of `subgraphTimeoutMs`. */
  timeouts: Partial<Record<SubgraphName, number>>;
  /** Consecutive failures that open a subgraph's circuit. */
  breakerFailures: number;
  /** How long an open circuit fails fast before one probe request is let through. */
  breakerCooldownMs: number;
  /** Retries allowed as a fraction of requests over a sliding window (queries only). */
  retryBudget: number;
  /**
   * How long the gateway waits past a call's deadline (kernel/deadline.ts) before giving up on it:
   * room for the subgraph's answer to arrive after it stopped at its deadline.
   */
  deadlineMarginMs: number;
  /** Budget of one document ingestion (KB-3: parse, chunk, store); the gateway derives its deadline from it. */
  ingestionTimeoutMs: number;
  /**
   * `SUBGRAPH_<NAME>_PIPELINING`: how many queries the gateway may have in flight on one connection
   * to the subgraph (HTTP/1.1 pipelining; 1, the default, is one at a time). Mutations always go
   * one at a time. An answer waits for those sent before it on its connection, so this suits only a
   * subgraph whose queries are all fast (docs/operations.md).
   */
  pipelining: Record<SubgraphName, number>;
}
