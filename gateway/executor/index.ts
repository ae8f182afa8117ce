/**
 * The gateway's lean executor (`GATEWAY_EXECUTOR=lean`, docs/configuration.md): Apollo Server's
 * gateway, fed by the gateway's own supergraph runtime (gateway/supergraph.ts), answering each
 * query and mutation with @apollo/query-planner's plans, cached per operation, run by execute.ts.
 *
 * One supergraph in memory per loaded SDL: the runtime's validated `Supergraph` is the one planned
 * with, its API schema is the schema Apollo Server validates and executes against, and one planner
 * (which also hands each fetch its parsed subgraph operation, so nothing parses it per call).
 * @apollo/gateway's `ApolloGateway` is not constructed: it would build a second supergraph, API
 * schema, query graph and planner from the same SDL.
 *
 * A reload prepares the next supergraph's planner and schemas as a follower of the runtime (a
 * throw fails the reload and leaves everything as it was), then hands Apollo Server the new API
 * schema. State is keyed by that schema, so a request always plans and executes with the
 * supergraph it was validated against, even when a reload lands while it runs.
 */
import type { GraphQLDataSource, ServiceMap } from '@apollo/gateway';
// The module itself, not @apollo/gateway's index: the index loads ApolloGateway and its supergraph
// managers, fetchers and telemetry (about 16 MB of heap), which the lean gateway never uses.
import { buildOperationContext } from '@apollo/gateway/dist/operationContext.js';
import { operationFromDocument, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import type { GatewayExecutionResult, GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface, GatewaySchemaLoadOrUpdateCallback } from '@apollo/server-gateway-interface';
import { getOperationAST, getVariableValues, GraphQLError, validate, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Logger } from '../../kernel/logger.ts';
import type { ExecutionAdmission } from '../admission.ts';
import { inSpan } from '../../kernel/telemetry.ts';
import type { LoadedSupergraph, SupergraphFollower } from '../supergraph.ts';
import { executeLeanQueryPlan, executeLeanQueryPlanAsJson, type JsonExecutionResult, type OperationContext } from './execute.ts';

export { executeLeanQueryPlan, executeLeanQueryPlanAsJson, WRITTEN, type JsonExecutionResult } from './execute.ts';
export { answerSent, type WrittenData } from './shape-write.ts';

/** How many operations' plans are kept per supergraph (the oldest planned goes first). */
const PLAN_CACHE_SIZE = 1000;

interface Planned {
  plan: QueryPlan;
  operationContext: OperationContext;
}

interface LeanState {
  sdl: string;
  /** What Apollo Server validates and executes requests against (graphql-js form of `apiSchema`). */
  schema: GraphQLSchema;
  apiSchema: Schema;
  /** The supergraph schema in graphql-js form, for type conditions: built by the first request. */
  supergraphSchema(): GraphQLSchema;
  planner: QueryPlanner;
  serviceMap: ServiceMap;
  plans: Map<string, Planned>;
}

/** The cache of a request context built outside Apollo Server (nothing in the executor or the gateway's plugins uses it). */
export const NO_CACHE: GatewayGraphQLRequestContext['cache'] = {
  get: async () => undefined,
  set: async () => {},
  delete: async () => true,
};

/**
 * A request context for running a plan outside Apollo Server (direct operations, subscription
 * events): the executors read only the request, context, logger and metrics of it.
 */
export function outsideRequestContext<TContext extends object>(r: {
  source: string;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationName: string | undefined;
  variables: Record<string, unknown>;
  schema: GraphQLSchema;
  context: TContext;
  logger: Logger;
  queryHash?: string;
}): GatewayGraphQLRequestContext<TContext> {
  return {
    request: { query: r.source, variables: r.variables, operationName: r.operationName },
    logger: r.logger,
    schema: r.schema,
    schemaHash: '' as GatewayGraphQLRequestContext['schemaHash'],
    context: r.context,
    cache: NO_CACHE,
    queryHash: r.queryHash ?? '',
    document: r.document,
    source: r.source,
    operationName: r.operationName ?? null,
    operation: r.operation,
    metrics: {},
    overallCachePolicy: undefined,
  };
}

/** The part of the supergraph runtime the lean gateway follows. */
export interface LeanSupergraphSource {
  readonly current: LoadedSupergraph;
  follow(follower: SupergraphFollower): void;
}

/** An operation run without Apollo Server's request pipeline (see `LeanGateway.executeDirect`). */
export interface DirectOperation<TContext> {
  /** The document's text (what a subgraph fetch's incoming request names as its source). */
  source: string;
  /** The parsed document: the same object for the same text, so its validation and plan are kept. */
  document: DocumentNode;
  operationName: string;
  variables: Record<string, unknown>;
  context: TContext;
}

/** Apollo Server's gateway, plus direct execution for the gateway's own trusted operations. */
export interface LeanGateway extends GatewayInterface {
  /**
   * Runs a query or mutation of a trusted document (the REST layer's operations) on the current
   * supergraph: validated once per schema and document, planned once, executed as a request
   * through Apollo Server would be, but without its request pipeline (hashing the document,
   * plugin hooks), which costs about as much as the execution of a one-fetch operation.
   */
  executeDirect<TContext extends object>(operation: DirectOperation<TContext>): Promise<GatewayExecutionResult>;
  /** The API schema requests are validated and executed against now (the one Apollo Server has). */
  schema(): GraphQLSchema;
  /** What Apollo Server calls to execute a request. */
  executor: GatewayExecutor;
  /** The executor of GraphQL over HTTP's own path (gateway/http-pipeline.ts): the data as JSON bytes where the operation allows it. */
  executeJson(requestContext: GatewayGraphQLRequestContext): Promise<JsonExecutionResult>;
}

export interface LeanExecutorOptions {
  /** The data source of a subgraph at its routing URL as the supergraph gives it. */
  dataSourceFor(name: string, url: string): GraphQLDataSource;
  logger: Logger;
  /** What admits each execution while the event loop is saturated (gateway/admission.ts); none: every one at once. */
  admission?: ExecutionAdmission;
}

/**
 * Apollo Server's gateway over `source`'s supergraphs, with queries and mutations executed by the
 * lean executor. Create it before the runtime starts (it follows every supergraph from then on).
 */
export function createLeanGateway(source: LeanSupergraphSource, options: LeanExecutorOptions): LeanGateway {
  const listeners = new Set<GatewaySchemaLoadOrUpdateCallback>();
  const states = new WeakMap<GraphQLSchema, LeanState>();
  let current: LeanState | null = null;
  let stopped = false;

  const serve = (state: LeanState): void => {
    current = state;
    states.set(state.schema, state);
    if (stopped) return;
    for (const listener of listeners) {
      try {
        listener({ apiSchema: state.schema, coreSupergraphSdl: state.sdl });
      } catch (err) {
        // A swap must not throw (gateway/supergraph.ts); Apollo Server's own listener does not.
        options.logger.error({ err }, 'a supergraph listener failed; the new supergraph is served');
      }
    }
  };

  source.follow((next) => {
    const state = leanStateOf(next, options);
    return () => serve(state);
  });

  const { admission } = options;
  const admitted = <T>(task: () => Promise<T>): Promise<T> => (admission ? admission.run(task) : task());
  const run = (requestContext: GatewayGraphQLRequestContext, asJson: boolean): Promise<JsonExecutionResult> => {
    const state = states.get(requestContext.schema);
    if (!state) throw new Error('The gateway has not loaded this supergraph');
    return inSpan('gateway.request', {}, () => admitted(() => execute(state, requestContext, asJson)));
  };
  const executor: GatewayExecutor = (requestContext) => run(requestContext, false);

  // Direct operations: each document's validation per schema, and a plan key per document.
  const validations = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, readonly GraphQLError[]>>();
  const planKeys = new WeakMap<DocumentNode, string>();
  let directDocuments = 0;
  const validated = (schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] => {
    let bySchema = validations.get(schema);
    if (!bySchema) validations.set(schema, (bySchema = new WeakMap()));
    let errors = bySchema.get(document);
    if (!errors) bySchema.set(document, (errors = validate(schema, document)));
    return errors;
  };

  return {
    schema() {
      // Apollo Server loads the gateway as it starts, before the gateway takes a request.
      if (!current) throw new Error('The gateway has not loaded a supergraph yet');
      return current.schema;
    },
    executor,
    executeJson: (requestContext) => run(requestContext, true),
    executeDirect({ source: text, document, operationName, variables, context }) {
      const state = current ?? leanStateOf(source.current, options);
      const errors = validated(state.schema, document);
      if (errors.length > 0) return Promise.resolve({ errors });
      const operation = getOperationAST(document, operationName);
      if (!operation || operation.operation === 'subscription') {
        return Promise.resolve({ errors: [new GraphQLError(`No query or mutation named "${operationName}" in the document.`, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })] });
      }
      let queryHash = planKeys.get(document);
      // Not a hash of the text (nothing is hashed per call): a key no SHA-256 hex string can equal.
      if (queryHash === undefined) planKeys.set(document, (queryHash = `direct:${++directDocuments}`));
      const requestContext = outsideRequestContext({ source: text, document, operation, operationName, variables, schema: state.schema, context, logger: options.logger, queryHash });
      return inSpan('gateway.request', {}, () => admitted(() => execute(state, requestContext, false)));
    },
    onSchemaLoadOrUpdate(callback) {
      listeners.add(callback);
      return () => listeners.delete(callback);
    },
    async load() {
      // Apollo Server subscribes first, then loads: it learns its schema from this notification.
      serve(current ?? leanStateOf(source.current, options));
      return { executor };
    },
    async stop() {
      stopped = true;
      listeners.clear();
    },
  };
}

/** Everything a supergraph is served with; throws when the planner cannot be built for it. */
function leanStateOf(loaded: LoadedSupergraph, options: LeanExecutorOptions): LeanState {
  const { supergraph } = loaded;
  const serviceMap: ServiceMap = Object.create(null);
  for (const { name, url } of supergraph.subgraphsMetadata()) serviceMap[name] = options.dataSourceFor(name, url);
  const apiSchema = supergraph.apiSchema();
  // Not needed to start serving (and about as costly to build as the API schema's): left to the first request.
  let supergraphSchema: GraphQLSchema | undefined;
  return {
    sdl: loaded.sdl,
    schema: apiSchema.toGraphQLJSSchema(),
    apiSchema,
    supergraphSchema: () => (supergraphSchema ??= supergraph.schema.toGraphQLJSSchema()),
    planner: new QueryPlanner(supergraph, { exposeDocumentNodeInFetchNode: true }),
    serviceMap,
    plans: new Map(),
  };
}

async function execute(state: LeanState, requestContext: GatewayGraphQLRequestContext, asJson: boolean): Promise<JsonExecutionResult> {
  const { request, queryHash, document } = requestContext;
  const key = request.operationName ? `${queryHash}\0${request.operationName}` : queryHash;
  let planned = state.plans.get(key);
  if (!planned) {
    const operationContext = buildOperationContext({ schema: requestContext.schema, operationDocument: document, operationName: request.operationName });
    const variableErrors = validateVariables(requestContext, operationContext);
    if (variableErrors.length > 0) return { errors: variableErrors };
    const plan = await inSpan('gateway.plan', {}, async () => {
      const operation = operationFromDocument(state.apiSchema, document, { operationName: request.operationName });
      return state.planner.buildQueryPlan(operation);
    });
    planned = { plan, operationContext };
    if (state.plans.size >= PLAN_CACHE_SIZE) {
      const oldest = state.plans.keys().next();
      if (!oldest.done) state.plans.delete(oldest.value);
    }
    state.plans.set(key, planned);
  } else {
    const variableErrors = validateVariables(requestContext, planned.operationContext);
    if (variableErrors.length > 0) return { errors: variableErrors };
  }
  return (asJson ? executeLeanQueryPlanAsJson : executeLeanQueryPlan)(planned.plan, state.serviceMap, requestContext, planned.operationContext, state.supergraphSchema());
}

/** The request's variables against the operation's definitions (what @apollo/gateway checks before planning). */
function validateVariables(requestContext: GatewayGraphQLRequestContext, operationContext: OperationContext) {
  const definitions = operationContext.operation.variableDefinitions;
  if (!definitions || definitions.length === 0) return [];
  return getVariableValues(operationContext.schema, definitions, requestContext.request.variables ?? {}).errors ?? [];
}
