/**
 * The gateway's extension point. Layers built on the gateway (the REST compatibility layer) are
 * handed in by the composition root as plugins and receive what the gateway exports for them, so
 * the gateway never imports them: dependencies point from rest-compat to the gateway, not back.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ExecutionResult } from 'graphql';
import type { AuthContext } from '../kernel/context.ts';
import type { Logger } from '../kernel/logger.ts';
import type { HealthDetailed } from './health.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { RunOperation } from './operation-runner.ts';
import type { PolicyTable } from './policies.ts';

/** What a plugin may use: the gateway's executor, its credentials check, limiter and engines. */
export interface GatewayServices {
  /** The gateway's fastify instance; plugins register their routes in a scope of their own. */
  app: FastifyInstance;
  /** Runs a named query or mutation on the executor over the supergraph, in-process with the caller's context. */
  runOperation: RunOperation;
  /** The HTTP credentials check of GraphQL over HTTP (bearer token or API key). */
  authenticate(req: FastifyRequest): Promise<AuthContext>;
  /** The internal service headers' check (`X-Internal-Service-Key` + `X-Acting-User-Id`), for the one route that accepts them. */
  authenticateInternal(req: FastifyRequest): Promise<AuthContext>;
  logger: Logger;
  rateLimiter: RateLimiter;
  /** Starts a subscription on the gateway's engine; the stream ends when the caller's credentials are revoked. */
  subscribe(query: string, operationName: string, variables: Record<string, unknown>, auth: AuthContext): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
  /** The field policies of the supergraph served, as a live view (each reload's are seen at once). */
  policies: PolicyTable;
  /** The database, PubSub and subgraph checks. */
  health(): Promise<HealthDetailed>;
}

/** A layer mounted on the gateway. */
export interface GatewayPlugin {
  name: string;
  /** Metric labels of the plugin's HTTP routes: `"<METHOD> <fastify path>"` → operation id. */
  operations?: ReadonlyMap<string, string>;
  /** Called once the executor and the subscription engine run, before the gateway listens. */
  register(services: GatewayServices): void | Promise<void>;
}
