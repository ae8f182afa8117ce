/**
 * The gateway: fastify + Apollo Server + @apollo/gateway over the committed supergraph, local
 * authentication, the signed internal context towards subgraphs, health, the GraphQL IDE and
 * the REST compatibility layer on the same executor.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyRequest } from 'fastify';
import { ApolloServer, type ApolloServerPlugin, type GraphQLRequestContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Config } from '../kernel/config.ts';
import type { Logger } from '../kernel/logger.ts';
import type { PubSub } from '../kernel/pubsub.ts';
import { AppError, isErrorCode, restBodyOf, toGraphQLExtensions } from '../kernel/errors.ts';
import { CONTEXT_HEADER, signContext, type AuthContext } from '../kernel/context.ts';
import { createInternalClient } from '../kernel/trpc.ts';
import { loadSupergraph } from '../schema/compose.ts';
import type { IdentityRouter } from '../subgraphs/identity/router.ts';
import { Authenticator, clientIpOf, requestIdOf } from './auth.ts';
import { checkHealth } from './health.ts';
import { graphiqlContentSecurityPolicy, graphiqlHtml, registerGraphiQL, wantsGraphiQL } from './graphiql.ts';
import { registerRestCompat } from '../rest-compat/engine.ts';

/** The per-request context of the gateway's executor. */
export interface GatewayContext {
  auth: AuthContext;
  /** The signed internal context, created on first use and shared by every subgraph fetch. */
  signed?: Promise<string>;
}

export interface GatewayOptions {
  config: Config;
  logger: Logger;
  pubsub: PubSub;
  port?: number;
  host?: string;
  /** Supergraph SDL; defaults to the committed `schema/supergraph.graphql`. */
  supergraphSdl?: string;
  /** Subgraph base URLs (http://host:port); default `config.subgraphUrls`. */
  subgraphUrls?: Partial<Record<string, string>>;
}

export interface StartedGateway {
  url: string;
  close(): Promise<void>;
}

/** Codes produced by graphql-js / Apollo itself that are safe to show clients as they are. */
const PASSTHROUGH_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** Names of the subgraphs composed in a supergraph SDL (from its `@join__graph` directives). */
export function composedSubgraphs(sdl: string): string[] {
  return [...sdl.matchAll(/@join__graph\(name: "([a-z]+)"/g)].map((m) => m[1] ?? '').filter(Boolean);
}

function signedContextOf(ctx: GatewayContext, secret: string): Promise<string> {
  ctx.signed ??= signContext(ctx.auth, secret);
  return ctx.signed;
}

/** Renders an AppError as the GraphQLError Apollo returns (HTTP status from the registry). */
export function toGraphQLError(err: AppError): GraphQLError {
  return new GraphQLError(err.message, { extensions: { ...toGraphQLExtensions(err), http: { status: err.status } } });
}

/** Starts the gateway on `opts.port` (default `config.port`; 0 = any free port). */
export async function createGateway(opts: GatewayOptions): Promise<StartedGateway> {
  const { config, logger, pubsub } = opts;
  const supergraphSdl = opts.supergraphSdl ?? loadSupergraph();
  const baseUrls = { ...config.subgraphUrls, ...opts.subgraphUrls } as Record<string, string>;
  const names = composedSubgraphs(supergraphSdl);
  const graphqlUrlOf = (name: string): string => `${baseUrls[name] ?? ''}/graphql`;

  const identity = createInternalClient<IdentityRouter>({
    target: 'identity',
    baseUrl: baseUrls.identity ?? config.subgraphUrls.identity,
    caller: 'gateway',
    secret: config.internalServiceKey,
    timeoutMs: config.trpcTimeoutMs,
    maxBatch: config.trpcMaxBatch,
  });
  const authenticator = new Authenticator(identity, pubsub);
  await authenticator.start();

  const timeoutFetch: typeof fetch = (input, init) => {
    const timeout = AbortSignal.timeout(config.subgraphTimeoutMs);
    return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
  };

  class SubgraphSource extends RemoteGraphQLDataSource<GatewayContext> {
    override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
      const context = options.context;
      if ('auth' in context && context.auth) {
        options.request.http?.headers.set(CONTEXT_HEADER, await signedContextOf(context as GatewayContext, config.internalServiceKey));
      }
    }
    override didReceiveResponse<T extends { extensions?: Record<string, unknown> }>({ response }: { response: T }): T {
      const revoked = response.extensions?.revokedSessions;
      if (Array.isArray(revoked)) authenticator.markRevoked(revoked.filter((x): x is string => typeof x === 'string'));
      return response;
    }
  }

  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) => new SubgraphSource({ url: graphqlUrlOf(name), fetcher: timeoutFetch }),
  });

  const app = Fastify({
    logger: false,
    bodyLimit: 2 * 1024 * 1024,
    trustProxy: config.trustProxy,
    genReqId: (req) => requestIdOf(req.headers['x-request-id']),
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  const formatError = (formatted: GraphQLFormattedError): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (isErrorCode(code) && code !== 'INTERNAL') {
      // Apollo prefixes errors thrown while building the context; clients get the registry message.
      return { ...formatted, message: formatted.message.replace(/^Context creation failed: /, '') };
    }
    if (typeof code === 'string' && PASSTHROUGH_CODES.has(code)) return formatted;
    const serviceName = formatted.extensions?.serviceName;
    logger.error({ error: formatted }, 'masked error');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL', status: 500, ...(typeof serviceName === 'string' ? { serviceName } : {}) },
    };
  };

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: config.introspection,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    formatError,
    // Apollo's default landing page loads from its CDN; our own GraphiQL (or nothing) is the IDE.
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer: app.server }), ApolloServerPluginLandingPageDisabled(), statusFromErrors],
  });
  await apollo.start();

  const authenticate = async (req: FastifyRequest): Promise<AuthContext> => {
    const header = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    return authenticator.authenticate({
      authorization: header('authorization'),
      apiKey: header('x-api-key'),
      requestId: req.id,
      clientIp: clientIpOf(req.socket.remoteAddress, req.headers['x-forwarded-for'], config.trustProxy),
    });
  };

  const graphqlHandler = fastifyApolloHandler(apollo, {
    context: async (req): Promise<GatewayContext> => {
      try {
        return { auth: await authenticate(req) };
      } catch (err) {
        if (err instanceof AppError) throw toGraphQLError(err);
        throw err;
      }
    },
  });
  if (config.ide) registerGraphiQL(app, { path: '/graphql', title: 'Xentree Graph' });
  const ideOptions = { path: '/graphql', title: 'Xentree Graph' };
  if (config.ide) {
    // Browsers navigating to /graphql get the IDE; everything else is GraphQL over HTTP.
    app.addHook('onRequest', async (req, reply) => {
      if (req.method !== 'GET' || !req.url.startsWith('/graphql')) return;
      const path = req.url.split('?')[0];
      const hasQuery = new URLSearchParams(req.url.split('?')[1] ?? '').has('query');
      if (path !== '/graphql' || !wantsGraphiQL(req.method, req.headers.accept, hasQuery)) return;
      await reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('vary', 'Accept')
        .header('content-security-policy', graphiqlContentSecurityPolicy(ideOptions))
        .send(graphiqlHtml(ideOptions));
    });
  }
  app.get('/graphql', graphqlHandler);
  app.post('/graphql', graphqlHandler);

  app.get('/api/health', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));

  registerRestCompat(app, {
    apollo,
    authenticate,
    logger,
    health: () => checkHealth({ identity, pubsub, subgraphs: Object.fromEntries(names.map((n) => [n, graphqlUrlOf(n)])) }),
  });

  await app.listen({ port: opts.port ?? config.port, host: opts.host ?? config.host });
  const address = app.server.address() as AddressInfo;
  const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  logger.info({ url }, 'gateway listening');

  let closed = false;
  return {
    url,
    async close() {
      if (closed) return;
      closed = true;
      authenticator.stop();
      await apollo.stop();
      await app.close();
    },
  };
}

/**
 * GraphQL over HTTP: when a request fails as a whole because of authentication (no data at all),
 * answer with the registry's status (401) instead of 200.
 */
const statusFromErrors: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }: GraphQLRequestContext<GatewayContext> & { response: { body: { kind: string; singleResult?: { data?: unknown; errors?: readonly GraphQLFormattedError[] } }; http: { status?: number } } }) {
        if (response.body.kind !== 'single' || !response.body.singleResult) return;
        const { data, errors } = response.body.singleResult;
        if (data !== undefined && data !== null) return;
        const first = errors?.[0]?.extensions?.code;
        if (isErrorCode(first) && restBodyOf(first, '').status === 401) response.http.status = 401;
      },
    };
  },
};
