/** Wires the subscription engine and the client-facing graphql-ws server into a gateway. */
import type { Server } from 'node:http';
import type { GraphQLDataSource } from '@apollo/gateway';
import { GraphQLError, getOperationAST, print, type ExecutionResult, type GraphQLFormattedError, type ParseOptions, type ValidationRule } from 'graphql';
import type { ApolloServer } from '@apollo/server';
import type { Config } from '../../kernel/config.ts';
import type { Logger } from '../../kernel/logger.ts';
import { serviceCredentialProvider, type AuthContext } from '../../kernel/context.ts';
import type { Revocation } from '../auth.ts';
import { graphqlPolicyOf, rateLimitError, type RateLimiter } from '../rate-limit.ts';
import { exclusiveSubscriptions, type PolicyTable } from '../policies.ts';
import { inWsOperationSpan } from './trace-event.ts';
import { UpstreamPool } from './upstream.ts';
import { SubscriptionEngine, type EngineContext, type PlanExecutor } from './engine.ts';
import { attachSubscriptionServer, type WsServerOptions } from './ws-server.ts';

export interface SubscriptionServiceOptions {
  config: Config;
  logger: Logger;
  server: Server;
  supergraphSdl: string;
  /** A subgraph's GraphQL URL (http://host:port/graphql) as the current supergraph routes it. */
  urlOf(name: string): string;
  dataSourceFor(name: string): GraphQLDataSource<EngineContext>;
  signContext(ctx: EngineContext): Promise<string>;
  formatError(error: GraphQLFormattedError): GraphQLFormattedError;
  authenticate: WsServerOptions['authenticate'];
  apollo: ApolloServer<EngineContext>;
  validationRules: readonly ValidationRule[];
  parseOptions?: ParseOptions;
  trustedDocuments: WsServerOptions['trustedDocuments'];
  persistedQueries: WsServerOptions['persistedQueries'];
  /** The limiter GraphQL over HTTP and REST count against: one set of counters for every transport. */
  rateLimiter: RateLimiter;
  /** The supergraph's field policies (a live view that follows reloads): `@rateLimit` per operation, `@exclusive` subscriptions. */
  policies: PolicyTable;
  onRevoked(listener: (revoked: Revocation) => void): () => void;
  onConnectionCount?(open: number): void;
  /** Executes an event's plan on the executor queries and mutations run on (GATEWAY_EXECUTOR). */
  executePlan: PlanExecutor;
}

export interface SubscriptionService {
  engine: SubscriptionEngine;
  upstream: UpstreamPool;
  /** New subscriptions plan with this supergraph once the returned function runs (it throws first on an invalid one). */
  prepareSupergraph(supergraphSdl: string, policies: PolicyTable): () => void;
  close(): Promise<void>;
}

export function createSubscriptionService(opts: SubscriptionServiceOptions): SubscriptionService {
  const upstream = new UpstreamPool({ urlOf: opts.urlOf, serviceCredential: serviceCredentialProvider('gateway', opts.config.internalServiceKey) });
  const engine = new SubscriptionEngine({
    supergraphSdl: opts.supergraphSdl,
    upstream,
    dataSourceFor: opts.dataSourceFor,
    signContext: opts.signContext,
    formatError: opts.formatError,
    logger: opts.logger,
    // `@exclusive` subscriptions start or replay their own stream: never shared.
    exclusiveFields: exclusiveSubscriptions(opts.policies),
    // Events execute on the executor queries and mutations run on (GATEWAY_EXECUTOR); the lean one
    // compiles the operation once rather than rebuilding it against the schema on every event.
    executePlan: opts.executePlan,
  });
  const ws = attachSubscriptionServer({
    server: opts.server,
    path: '/graphql',
    engine,
    authenticate: opts.authenticate,
    async execute(document, operationName, variables, auth: AuthContext): Promise<ExecutionResult> {
      const res = await inWsOperationSpan(document, operationName, () => opts.apollo.executeOperation({ query: print(document), operationName, variables }, { contextValue: { auth } }));
      if (res.body.kind !== 'single') return { errors: [new GraphQLError('Incremental delivery is not supported over WebSocket')] };
      const { data, errors } = res.body.singleResult;
      return {
        data: (data ?? null) as Record<string, unknown> | null,
        ...(errors ? { errors: errors.map((e) => new GraphQLError(e.message, { path: e.path, extensions: e.extensions })) } : {}),
      };
    },
    validationRules: opts.validationRules,
    trustedDocuments: opts.trustedDocuments,
    persistedQueries: opts.persistedQueries,
    parseOptions: opts.parseOptions,
    maxPayloadBytes: opts.config.bodyLimitBytes,
    onRevoked: opts.onRevoked,
    async rateLimit(document, operationName, auth) {
      const operation = getOperationAST(document, operationName);
      if (!operation) return null;
      const decision = await opts.rateLimiter.check(graphqlPolicyOf(operation, document, opts.policies), auth);
      return decision && !decision.allowed ? rateLimitError(decision) : null;
    },
    maxSubscriptionsPerConnection: opts.config.wsMaxSubscriptionsPerConnection,
    maxConnectionsPerPrincipal: opts.config.wsMaxConnectionsPerPrincipal,
    onConnectionCount: opts.onConnectionCount,
    logger: opts.logger,
  });
  opts.server.on('upgrade', (req, socket, head) => {
    if (!ws.handleUpgrade(req, socket, head)) socket.destroy();
  });
  return {
    engine,
    upstream,
    prepareSupergraph: (supergraphSdl, policies) => engine.prepareSupergraph(supergraphSdl, exclusiveSubscriptions(policies)),
    async close() {
      await ws.close();
      await engine.close();
    },
  };
}
