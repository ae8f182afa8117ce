/**
 * The gateway: fastify + Apollo Server + a federation executor (the lean one, gateway/executor/, or
 * @apollo/gateway's) over the committed supergraph, local authentication, the signed internal
 * context towards subgraphs, health and the GraphQL IDE; other
 * layers (the REST compatibility layer) mount as plugins on the same executor (plugin.ts).
 */
// First: before @apollo/gateway loads, so that its usage-reporting packages load only if used.
import './defer-vendor-telemetry.ts';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { parse } from 'graphql';
import { disableVendorTelemetry, type Config } from '../kernel/config.ts';
import type { Logger } from '../kernel/logger.ts';
import type { PubSub } from '../kernel/pubsub.ts';
import { traceRequests } from '../kernel/trace-http.ts';
import { graphqlTracingPlugins } from '../kernel/trace-graphql.ts';
import { requestIdOf } from './auth.ts';
import { recordingCaller, registerRequestLog } from './request-log.ts';
import { createIdentityClient, httpAuthentication, internalAuthentication, startAuthenticator, upgradeAuthentication } from './credentials.ts';
import { createFormatError } from './format-error.ts';
import { registerGraphQLRoutes } from './graphql-routes.ts';
import { statusFromErrors } from './status-from-errors.ts';
import { checkHealth } from './health.ts';
import { limitHeapGrowth } from '../kernel/heap.ts';
import { registerIde } from './ide.ts';
import { createSubscriptionService } from './subscriptions/index.ts';
import { endOnRevocation } from './subscriptions/revocable.ts';
import { registerBrowserSafety } from './browser.ts';
import { createSupergraphRuntime } from './supergraph-sources.ts';
import { registerSupergraphMetrics, type ReloadOutcome, type ReloadTrigger } from './supergraph.ts';
import { legacyJsonStatusPlugin } from './legacy-json-status.ts';
import { createLimitRules, parseOptionsOf, registerBodyLimitError } from './limits.ts';
import { operationResolutionPlugin } from './operation-resolution.ts';
import { createTrustedDocuments, loadManifests } from './trusted-documents.ts';
import { createApqCache } from './apq-cache.ts';
import { cacheControlPlugin, readCacheHints } from './cache-control.ts';
import { createMemoryRateLimitStore, createRateLimitPlugin, createRateLimiter, createRedisRateLimitStore, type RateLimiter } from './rate-limit.ts';
import { createSubgraphGuards } from './resilience.ts';
import type { Agent } from 'undici';
import { createConnectionPool } from './subgraph-poster.ts';
import { createSubgraphSources } from './subgraph-source.ts';
import { createGatewayMetrics, guardObserver, metricsPlugin, registerAdmissionMetrics, registerMetrics, withRateLimitMetrics, type GatewayMetrics } from './metrics.ts';
import { executorOptions } from './executor-options.ts';
import { createLeanGateway, executeLeanQueryPlan, type LeanGateway } from './executor/index.ts';
import { createExecutionAdmission, type ExecutionAdmission } from './admission.ts';
import type { GatewayPlugin } from './plugin.ts';
import { createOperationRunner } from './operation-runner.ts';
import { createHttpPipeline } from './http-pipeline.ts';
import { syncHook } from './sync-hook.ts';
import type { GatewayContext } from './context.ts';
import { signContext } from '../kernel/context.ts';

export type { GatewayContext } from './context.ts';

export interface GatewayOptions {
  config: Config;
  logger: Logger;
  pubsub: PubSub;
  port?: number;
  host?: string;
  /** Supergraph SDL to start from; defaults to XENTREE_SUPERGRAPH_FILE or the committed `schema/supergraph.graphql`. */
  supergraphSdl?: string;
  /** Subgraph base URLs (http://host:port); default `config.subgraphUrls`. */
  subgraphUrls?: Partial<Record<string, string>>;
  /** Layers mounted on the gateway by the composition root (e.g. rest-compat's `restCompat()`). */
  plugins?: readonly GatewayPlugin[];
  /**
   * Where POSTs of JSON go on the lean executor: the gateway's own pipeline (`gateway`, the
   * default; http-pipeline.ts) or Apollo Server's (`apollo`, what the tests compare it with).
   */
  httpPipeline?: 'gateway' | 'apollo';
}

export interface StartedGateway {
  url: string;
  /** Reads or composes the supergraph again (what SIGHUP does; README "Reloading the supergraph"). */
  reload(trigger?: ReloadTrigger): Promise<ReloadOutcome>;
  close(): Promise<void>;
}

/** What the gateway starts, in the order it closes them: requests drain before the stores they use close. */
const CLOSE_ORDER = ['supergraph', 'subscriptions', 'authenticator', 'apollo', 'app', 'rateLimiter', 'apq', 'pool'] as const;
type Closable = (typeof CLOSE_ORDER)[number];
type OnClose = (what: Closable, close: () => Promise<unknown>) => void;

/** Starts the gateway on `opts.port` (default `config.port`; 0 = any free port). */
export async function createGateway(opts: GatewayOptions): Promise<StartedGateway> {
  const steps: { rank: number; close(): Promise<unknown> }[] = [];
  let closing: Promise<void> | null = null;
  // Everything that started is closed, whatever else fails to; the first failure is reported.
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      let failure: { err: unknown } | null = null;
      for (const step of steps.sort((a, b) => a.rank - b.rank)) {
        try {
          await step.close();
        } catch (err) {
          failure ??= { err };
        }
      }
      if (failure) throw failure.err;
    })());
  try {
    const started = await startGateway(opts, (what, stop) => steps.push({ rank: CLOSE_ORDER.indexOf(what), close: stop }));
    return { ...started, close };
  } catch (err) {
    // A port taken, a plugin that failed to register: what started before would otherwise keep
    // the process alive (the PubSub, rate-limit and APQ sockets, the supergraph's subscription).
    await close().catch(() => {});
    throw err;
  }
}

async function startGateway(opts: GatewayOptions, onClose: OnClose): Promise<Omit<StartedGateway, 'close'>> {
  const { config, logger, pubsub } = opts;
  limitHeapGrowth(config.gatewayHeapGrowthPercent);
  const baseUrls = { ...config.subgraphUrls, ...opts.subgraphUrls } as Record<string, string>;
  // The supergraph and what follows it on a reload (gateway/supergraph.ts); `policies` is a live view.
  const supergraph = await createSupergraphRuntime({
    settings: config.supergraph,
    logger,
    pubsub,
    secret: config.internalServiceKey,
    supergraphSdl: opts.supergraphSdl,
    configuredUrl: (name) => `${baseUrls[name] ?? ''}/graphql`,
  });
  onClose('supergraph', () => supergraph.stop());
  const policies = supergraph.policies;
  const graphqlUrlOf = (name: string): string => supergraph.graphqlUrlOf(name);

  const identity = createIdentityClient(config, baseUrls.identity);
  const authenticator = await startAuthenticator(identity, pubsub);
  onClose('authenticator', () => authenticator.stop());

  const metrics = createGatewayMetrics([...supergraph.current.subgraphs.keys()]);
  registerSupergraphMetrics(metrics.registry, supergraph);
  const pool = createConnectionPool();
  // One pool per pipelining depth the configuration names (usually none), made on first use.
  const pipelined = new Map<number, Agent>();
  const pipelinedPool = (depth: number): Agent => {
    let agent = pipelined.get(depth);
    if (!agent) pipelined.set(depth, (agent = createConnectionPool(depth)));
    return agent;
  };
  onClose('pool', () => Promise.all([pool, ...pipelined.values()].map((p) => p.close())));
  const guardOf = createSubgraphGuards(config.subgraphResilience, guardObserver(metrics));

  // @apollo/gateway otherwise probes cloud metadata endpoints and exports usage metrics to Apollo
  // from every process (read in its constructor); this gateway makes no calls outside its deployment.
  disableVendorTelemetry();
  const sourceFor = createSubgraphSources({ config, pool, pipelinedPool, policies, revocations: authenticator, guardOf, urlOf: graphqlUrlOf });
  const dataSourceFor = (name: string, url: string | undefined) => sourceFor(name, supergraph.graphqlUrlOf(name, url));
  // Queries and mutations run on the lean executor over the runtime's own supergraph; @apollo/gateway
  // (which builds its own supergraph, schemas and planner) only when configured.
  // Loaded only when configured: @apollo/gateway's index brings its supergraph managers, fetchers
  // and telemetry with it (about 16 MB of heap a lean gateway would hold for nothing).
  // `.default`, the package's CommonJS exports: what Node gives either way, and all that esbuild's
  // split chunk of it exports in the production bundle (scripts/bundle-gateway.mjs).
  const stock = config.gatewayExecutor === 'apollo' ? (await import('@apollo/gateway')).default : null;
  let lean: LeanGateway | null = null;
  const gateway: GatewayInterface = stock
    ? new stock.ApolloGateway({ supergraphSdl: supergraph.apolloManager(), buildService: ({ name, url }) => dataSourceFor(name, url) })
    : (lean = createLeanGateway(supergraph, { dataSourceFor, logger, admission: admissionOf(config.gatewayBusyExecutions, metrics) }));

  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    genReqId: (req) => requestIdOf(req.headers['x-request-id']),
  });
  onClose('app', () => app.close());
  traceRequests(app);
  const plugins = opts.plugins ?? [];
  registerMetrics(app, { metrics, operations: new Map(plugins.flatMap((p) => [...(p.operations ?? [])])), production: config.production, token: config.metricsToken });
  registerRequestLog(app, logger);
  app.addHook('onRequest', syncHook((req, reply) => void reply.header('x-request-id', req.id)));
  await registerBrowserSafety(app, config);
  registerBodyLimitError(app, config.bodyLimitBytes);

  const formatError = createFormatError({ production: config.production, logger });

  const rateLimiter = createCountedRateLimiter(config, logger, metrics);
  onClose('rateLimiter', () => rateLimiter.close());
  const trusted = createTrustedDocuments(config.trustedDocuments.mode, loadManifests(config.trustedDocuments), parseOptionsOf(config.graphqlLimits), (action) => metrics.untrustedDocuments.inc({ action }));
  const apq = createApqCache(config, logger);
  onClose('apq', () => apq.close());

  const cacheHints = supergraph.derive((current) => readCacheHints(current.sdl));
  // The plugins with request hooks, which both Apollo Server and the gateway's own pipeline run;
  // Apollo Server's cache control plugin writes `Cache-Control` (it would install it by default).
  const requestPlugins = [ApolloServerPluginCacheControl(), statusFromErrors, legacyJsonStatusPlugin<GatewayContext>(), operationResolutionPlugin<GatewayContext>(), metricsPlugin<GatewayContext>(metrics), createRateLimitPlugin<GatewayContext>(rateLimiter, policies), cacheControlPlugin({ get fields() { return cacheHints().fields; }, get types() { return cacheHints().types; } }), ...graphqlTracingPlugins<GatewayContext>({ execute: false })];
  const options = executorOptions(config, formatError);
  const apollo = new ApolloServer<GatewayContext>({
    ...options,
    gateway,
    persistedQueries: apq.options,
    // The CLI closes everything on SIGINT/SIGTERM; Apollo's own handler would re-raise the signal first.
    stopOnTerminationSignals: false,
    // Apollo's default landing page loads from its CDN; our own GraphiQL (or nothing) is the IDE.
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer: app.server }), ApolloServerPluginLandingPageDisabled(), ...requestPlugins],
  });
  await apollo.start();
  onClose('apollo', () => apollo.stop());
  const pipeline = lean && opts.httpPipeline !== 'apollo'
    ? createHttpPipeline({ lean, plugins: requestPlugins, formatError, parseOptions: options.parseOptions ?? {}, validationRules: options.validationRules ?? [], hideSuggestions: options.validationOptions?.hideSuggestions ?? false, introspection: options.introspection ?? false, logger })
    : null;

  const authenticate = recordingCaller(httpAuthentication(authenticator, config.trustProxy));

  if (config.ide) registerIde(app, { path: '/graphql', title: 'Xentree Graph' });
  registerGraphQLRoutes(app, '/graphql', apollo, authenticate, trusted, { pipeline, answered: (by) => metrics.graphqlPipeline.inc({ pipeline: by }) });

  app.get('/api/health', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));

  const subscriptions = createSubscriptionService({
    config,
    logger,
    server: app.server,
    supergraphSdl: supergraph.current.sdl,
    urlOf: graphqlUrlOf,
    dataSourceFor: sourceFor,
    // An upstream subscription's own token (graphql-ws carries no request id beside it).
    signContext: (ctx) => signContext(ctx.auth, config.internalServiceKey),
    formatError: (e) => formatError(e, undefined),
    authenticate: upgradeAuthentication(authenticator, config.trustProxy),
    apollo,
    validationRules: createLimitRules(config.graphqlLimits),
    parseOptions: parseOptionsOf(config.graphqlLimits),
    trustedDocuments: trusted,
    persistedQueries: apq.lookup,
    rateLimiter,
    policies,
    onRevoked: (listener) => authenticator.onRevoked(listener),
    onConnectionCount: (open) => metrics.websocketConnections.set(open),
    executePlan: stock ? stock.executeQueryPlan : executeLeanQueryPlan,
  });
  onClose('subscriptions', () => subscriptions.close());
  supergraph.follow((next) => subscriptions.prepareSupergraph(next.sdl, next.policies));
  await supergraph.start();

  const runOperation = createOperationRunner({ lean, apollo, formatError });
  for (const plugin of plugins) await plugin.register({
    app,
    runOperation,
    policies,
    authenticate,
    authenticateInternal: recordingCaller(internalAuthentication(identity, config.internalServiceKey, config.trustProxy)),
    logger,
    rateLimiter,
    subscribe: async (query, operationName, variables, auth) => {
      const started = await subscriptions.engine.subscribe(parse(query), operationName, variables, { auth });
      return Symbol.asyncIterator in started ? endOnRevocation(started, auth, (listener) => authenticator.onRevoked(listener)) : started;
    },
    health: () => checkHealth({ identity, pubsub, subgraphs: supergraph.subgraphUrls(), supergraph: supergraph.current }),
  });

  await app.listen({ port: opts.port ?? config.port, host: opts.host ?? config.host });
  const url = reachableUrl(app.server.address() as AddressInfo);
  logger.info({ url }, 'gateway listening');

  return {
    url,
    reload: (trigger = 'SIGHUP') => supergraph.reload(trigger),
  };
}

/** The rate limiter of GraphQL over HTTP, WebSocket operations and plugins' routes, counted in metrics. */
function createCountedRateLimiter(config: Config, logger: Logger, metrics: GatewayMetrics): RateLimiter {
  const store = config.redisUrl ? createRedisRateLimitStore(config.redisUrl) : createMemoryRateLimitStore();
  return withRateLimitMetrics(createRateLimiter({ limits: config.rateLimits, store, prefix: config.rateLimitKeyPrefix, logger }), metrics);
}

/** The URL clients on this machine reach a listening address at (a wildcard address → loopback). */
function reachableUrl(address: AddressInfo): string {
  const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** The lean executor's admission (gateway/admission.ts), counted in the metrics. */
function admissionOf(limit: number, metrics: GatewayMetrics): ExecutionAdmission {
  const admission = createExecutionAdmission({ limit, onQueued: () => metrics.executionsQueued.inc() });
  registerAdmissionMetrics(metrics.registry, admission);
  return admission;
}
