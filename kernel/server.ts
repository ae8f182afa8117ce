/**
 * The subgraph server factory: one port serving the Apollo subgraph over HTTP (`/graphql`),
 * graphql-ws on the same path, the internal tRPC router at `/trpc` and `/healthz`. Every
 * subgraph is started through this, the same way in all-in-one mode, as its own process and in tests.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { unwrapResolverError } from '@apollo/server/errors';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { GraphQLError, Kind, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import type { AnyRouter } from '@trpc/server';
import type { EntitySchema } from '@mikro-orm/postgresql';
import type { MigrationObject } from '@mikro-orm/core';
import type { Config, SubgraphName } from './config.ts';
import type { Logger } from './logger.ts';
import type { PubSub } from './pubsub.ts';
import { createOrm, type MikroORM } from './db.ts';
import { AppError, toGraphQLExtensions } from './errors.ts';
import { CONTEXT_HEADER, REQUEST_ID_HEADER, SERVICE_HEADER, verifyContext, verifyServiceCredential, withRequestId, type AuthContext } from './context.ts';
import { DEADLINE_HEADER, requestSignal } from './deadline.ts';
import { registerLocalRouter, TRPC_MAX_URL_LENGTH, type TrpcContext } from './trpc.ts';
import { traceRequests } from './trace-http.ts';
import { graphqlTracingPlugins } from './trace-graphql.ts';
import { traceSubscriptionResolvers, withEventTrace } from './trace-subscriptions.ts';
import { guardResolvers } from './access.ts';
import { accessTableOf, readPolicies } from './policy.ts';
import { announceSchema, serviceSdlOf } from './schema-announce.ts';

/** What a subgraph's services get when the process starts it. */
export interface SubgraphDeps {
  config: Config;
  orm: MikroORM;
  pubsub: PubSub;
  logger: Logger;
}

/** What a started subgraph provides to the server. */
export interface SubgraphRuntime<TCtx extends object> {
  router: AnyRouter;
  /**
   * The per-request GraphQL context: a fresh EntityManager fork and fresh DataLoaders. `signal`
   * aborts when the caller's deadline passes or it hangs up (kernel/deadline.ts); services that
   * write after slow work check it so they store nothing once the caller was told it failed.
   */
  requestContext(auth: AuthContext, signal: AbortSignal): TCtx;
  close?(): Promise<void>;
}

/** A subgraph manifest: everything the launcher, composition and tests need to know about it. */
export interface SubgraphManifest<TCtx extends object> {
  name: SubgraphName;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<TCtx>;
  entities: EntitySchema[];
  migrations: MigrationObject[];
  /** Extra Apollo Server plugins (e.g. identity reports revoked sessions in `extensions`). */
  plugins?: ApolloServerPlugin<TCtx>[];
  setup(deps: SubgraphDeps): SubgraphRuntime<TCtx>;
}

export interface StartedSubgraph {
  name: SubgraphName;
  /** Base URL (http://host:port); GraphQL is at `${url}/graphql`, tRPC at `${url}/trpc`. */
  url: string;
  orm: MikroORM;
  close(): Promise<void>;
}

export interface SubgraphServerOptions {
  config: Config;
  port: number;
  host?: string;
  pubsub: PubSub;
  logger: Logger;
  /** Register the router for in-process tRPC calls (all-in-one mode and tests). */
  inProcess?: boolean;
  onQuery?: (sql: string) => void;
}

/**
 * Formats errors once for GraphQL: AppErrors keep their code, anything else is masked as INTERNAL.
 * Logging happens in `logErrorsPlugin`, where the request id is known.
 */
export function formatSubgraphError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof AppError) {
    if (original.code === 'INTERNAL') return { message: 'Internal server error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL', status: 500 } };
    return { ...formatted, message: original.message, extensions: toGraphQLExtensions(original) };
  }
  const code = formatted.extensions?.code;
  // Parse/validation/coercion errors from graphql-js are the client's fault and safe to show.
  if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') return formatted;
  return { message: 'Internal server error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL', status: 500 } };
}

/** formatSubgraphError for graphql-ws, which sends GraphQLErrors rather than formatted ones. */
function formatWsError(error: GraphQLError): GraphQLError {
  // graphql-ws wraps a stream's failure in a GraphQLError without a path; unwrap it ourselves.
  const formatted = formatSubgraphError(error.toJSON(), error.path ? error : (error.originalError ?? error));
  return new GraphQLError(formatted.message, { path: formatted.path, extensions: formatted.extensions });
}

/** Logs unexpected errors (anything but a non-INTERNAL AppError) with the request id and cause. */
function logErrorsPlugin(logger: Logger): ApolloServerPlugin<{ auth: AuthContext | null }> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const e of errors) {
            const original = unwrapResolverError(e);
            const expected = original instanceof AppError ? original.code !== 'INTERNAL' : typeof e.extensions?.code === 'string' && e.extensions.code !== 'INTERNAL_SERVER_ERROR';
            if (!expected) {
              const cause = original instanceof AppError ? (original.cause ?? original) : original;
              logger.error({ err: cause, requestId: contextValue.auth?.requestId ?? null, path: e.path }, 'unexpected resolver error');
            }
          }
        },
      };
    },
  };
}

/** Only federation's `_service` and `__typename` may be asked without a gateway context. */
const requireContextPlugin: ApolloServerPlugin<{ auth: AuthContext | null }> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ contextValue, operation }) {
        if (contextValue.auth) return;
        const open = operation?.operation === 'query' && operation.selectionSet.selections.every(
          (s) => s.kind === Kind.FIELD && (s.name.value === '_service' || s.name.value === '__typename'),
        );
        if (!open) {
          throw new GraphQLError('A valid internal context is required', { extensions: { code: 'UNAUTHENTICATED', status: 401, http: { status: 401 } } });
        }
      },
    };
  },
};

/**
 * Starts one subgraph on `opts.port` (0 = any free port): runs its migrations, builds its services
 * and serves GraphQL (HTTP + WebSocket) and tRPC. Returns its URL and a `close` that drains it.
 */
export async function createSubgraphServer<TCtx extends object>(manifest: SubgraphManifest<TCtx>, opts: SubgraphServerOptions): Promise<StartedSubgraph> {
  const { config } = opts;
  const logger = opts.logger.child({ subgraph: manifest.name });
  // Each root resolver runs behind the `@access` rule its SDL declares (kernel/policy.graphql).
  const resolvers = guardResolvers(manifest.resolvers, accessTableOf(readPolicies(manifest.typeDefs)));
  const orm = await createOrm(config, { schema: manifest.name, entities: manifest.entities, migrations: manifest.migrations, onQuery: opts.onQuery }, logger);
  const runtime = manifest.setup({ config, orm, pubsub: opts.pubsub, logger });
  const schema = buildSubgraphSchema({ typeDefs: manifest.typeDefs, resolvers: traceSubscriptionResolvers(resolvers) as GraphQLResolverMap<unknown> });

  type Ctx = TCtx & { auth: AuthContext | null };
  // Room for a 10 MiB knowledge upload base64-encoded (about 13.4 MiB) in a request from the gateway.
  // A tRPC batch names every call in one path parameter (`/trpc/a,b,c…`); Fastify's default limit
  // (100 characters) refused batches of eight or more calls with 414. Clients keep a batch's URL
  // under TRPC_MAX_URL_LENGTH (kernel/trpc.ts), so the parameter never exceeds it either.
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024, routerOptions: { maxParamLength: TRPC_MAX_URL_LENGTH } });
  traceRequests(app, { 'xentree.subgraph': manifest.name });
  const apollo = new ApolloServer<Ctx>({
    schema,
    introspection: true, // subgraphs are internal; the gateway decides what clients may introspect
    // Outside NODE_ENV=test Apollo would stop on SIGINT/SIGTERM by itself and then re-raise the
    // signal, killing the process before the CLI closes the databases (and the data directory lock).
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    formatError: formatSubgraphError,
    // No cache-control plugin: the gateway reads the @cacheControl hints from the supergraph, and
    // Apollo Server's plugin would instrument every field a subgraph resolves to compute a header
    // nobody reads (about 2 % of a subgraph's CPU).
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer: app.server }), ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled(), requireContextPlugin, logErrorsPlugin(logger) as ApolloServerPlugin<Ctx>, ...((manifest.plugins ?? []) as ApolloServerPlugin<Ctx>[]), ...graphqlTracingPlugins<Ctx>({ execute: true })],
  });
  await apollo.start();

  // Subscriptions run as long as their client stays; their work is not bounded by a deadline.
  const unbounded = new AbortController().signal;
  const contextFor = async (header: unknown, signal: AbortSignal = unbounded, requestId?: unknown): Promise<Ctx> => {
    let auth: AuthContext | null = null;
    if (typeof header === 'string') {
      try {
        auth = withRequestId(await verifyContext(header, config.internalServiceKey), requestId);
      } catch {
        auth = null;
      }
    }
    const base = auth ? runtime.requestContext(auth, signal) : ({} as TCtx);
    return Object.assign(base, { auth });
  };

  const handler = fastifyApolloHandler(apollo, {
    context: async (req, reply) => {
      // The caller hanging up (the gateway giving up) stops the request like its deadline does.
      const deadline = requestSignal(req.headers[DEADLINE_HEADER]);
      reply.raw.once('close', () => {
        deadline.end();
        if (!reply.raw.writableFinished) deadline.hangUp(new Error('the caller closed the connection'));
      });
      return contextFor(req.headers[CONTEXT_HEADER], deadline.signal, req.headers[REQUEST_ID_HEADER]);
    },
  });
  app.get('/graphql', handler);
  app.post('/graphql', handler);
  app.get('/healthz', async () => ({ status: 'ok', subgraph: manifest.name }));

  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: runtime.router,
      async createContext({ req }: { req: { headers: Record<string, string | string[] | undefined> } }): Promise<TrpcContext> {
        const svc = req.headers[SERVICE_HEADER];
        const ctxHeader = req.headers[CONTEXT_HEADER];
        const service = await verifyServiceCredential(typeof svc === 'string' ? svc : undefined, config.internalServiceKey);
        let acting: AuthContext | null = null;
        if (service && typeof ctxHeader === 'string') acting = await verifyContext(ctxHeader, config.internalServiceKey).then((ctx) => withRequestId(ctx, req.headers[REQUEST_ID_HEADER]), () => null);
        return { service, acting };
      },
      onError({ error }: { error: { code: string } }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error }, 'tRPC internal error');
      },
    },
  });

  // graphql-ws on the same port and path. The gateway multiplexes many users' subscriptions over
  // one connection: the connection itself authenticates with a service credential (or a context),
  // and each subscription carries its caller's signed context in `extensions`.
  const wss = new WebSocketServer({ noServer: true });
  const wsCleanup = useServer<Record<string, unknown>>(
    {
      schema,
      context: async (ctx, _id, payload) => {
        const perOperation = payload.extensions?.[CONTEXT_HEADER];
        return contextFor(typeof perOperation === 'string' ? perOperation : ctx.connectionParams?.[CONTEXT_HEADER]);
      },
      onConnect: async (ctx) => {
        const service = ctx.connectionParams?.[SERVICE_HEADER];
        if (typeof service === 'string' && (await verifyServiceCredential(service, config.internalServiceKey))) return true;
        const auth = await contextFor(ctx.connectionParams?.[CONTEXT_HEADER]);
        return auth.auth !== null;
      },
      // Errors over WebSocket get the same rendering as over HTTP (AppError codes kept, rest masked).
      onError: (_ctx, _id, _payload, errors) => errors.map(formatWsError),
      onNext: (_ctx, _id, _payload, args, result) => {
        const formatted = 'errors' in result && result.errors?.length ? { ...result, errors: result.errors.map(formatWsError) } : result;
        // With tracing on, the event's trace goes on to the gateway (kernel/trace-subscriptions.ts).
        return withEventTrace(args.contextValue, formatted) ?? (formatted === result ? undefined : formatted);
      },
      onSubscribe: async (ctx, _id, payload) => {
        // Refuse operations without a valid caller context before executing anything.
        const perOperation = payload.extensions?.[CONTEXT_HEADER];
        const token = typeof perOperation === 'string' ? perOperation : ctx.connectionParams?.[CONTEXT_HEADER];
        if ((await contextFor(token)).auth === null) {
          return [new GraphQLError('A valid internal context is required', { extensions: { code: 'UNAUTHENTICATED', status: 401 } })];
        }
        return undefined;
      },
    },
    wss,
  );
  app.server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/graphql')) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  await app.listen({ port: opts.port, host: opts.host ?? config.host });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  const unregister = opts.inProcess ? registerLocalRouter(manifest.name, runtime.router) : () => {};
  logger.info({ url }, 'subgraph listening');
  // Gateways that compose at run time hear of this schema at once (README "Reloading the supergraph").
  const stopAnnouncing = await announceSchema(opts.pubsub, { name: manifest.name, url: `${url}/graphql`, sdl: await serviceSdlOf(schema) }, config.internalServiceKey, (err) =>
    logger.warn({ err }, 'schema announcement failed'),
  );

  let closed = false;
  return {
    name: manifest.name,
    url,
    orm,
    async close() {
      if (closed) return;
      closed = true;
      stopAnnouncing();
      unregister();
      await wsCleanup.dispose();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await apollo.stop();
      await app.close();
      await runtime.close?.();
      await orm.close();
    },
  };
}

/** A subgraph with its context type erased, for lists of subgraphs (launcher, compose, tests). */
export interface SubgraphEntry {
  name: SubgraphName;
  typeDefs: DocumentNode;
  start(opts: SubgraphServerOptions): Promise<StartedSubgraph>;
  /** Runs this subgraph's pending migrations and closes the connection. */
  migrate(config: Config, logger: Logger): Promise<void>;
}

export function subgraphEntry<TCtx extends object>(manifest: SubgraphManifest<TCtx>): SubgraphEntry {
  return {
    name: manifest.name,
    typeDefs: manifest.typeDefs,
    start: (opts) => createSubgraphServer(manifest, opts),
    async migrate(config, logger) {
      const orm = await createOrm(config, { schema: manifest.name, entities: manifest.entities, migrations: manifest.migrations }, logger, true);
      await orm.close();
    },
  };
}
