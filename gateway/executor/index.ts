/**
 * The gateway's lean executor (`GATEWAY_EXECUTOR=lean`, docs/configuration.md): @apollo/gateway
 * keeps loading and following the supergraph and giving Apollo Server its API schema, and this
 * executor answers each query and mutation instead of @apollo/gateway's: the same query plans
 * (`@apollo/query-planner`), cached per operation, run by execute.ts.
 *
 * Per supergraph (keyed by the API schema Apollo Server runs the request with, so a request
 * always plans with the supergraph it was validated against) it builds, on first use, a planner
 * that also hands each fetch its parsed subgraph operation, so nothing parses it per call.
 */
import type { ApolloGateway, GraphQLDataSource, ServiceMap } from '@apollo/gateway';
import { buildOperationContext } from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import type { GatewayExecutionResult, GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { getVariableValues, type GraphQLSchema } from 'graphql';
import { inSpan } from '../../kernel/telemetry.ts';
import { executeLeanQueryPlan, type OperationContext } from './execute.ts';

export { executeLeanQueryPlan } from './execute.ts';

/** How many operations' plans are kept per supergraph (the oldest planned goes first). */
const PLAN_CACHE_SIZE = 1000;

interface Planned {
  plan: QueryPlan;
  operationContext: OperationContext;
}

interface LeanState {
  apiSchema: Schema;
  supergraphSchema: GraphQLSchema;
  planner: QueryPlanner;
  serviceMap: ServiceMap;
  plans: Map<string, Planned>;
}

export interface LeanExecutorOptions {
  /** The data source of a subgraph at its routing URL (the one @apollo/gateway's `buildService` gives). */
  dataSourceFor(name: string, url: string): GraphQLDataSource;
}

/**
 * `gateway` as Apollo Server's gateway, with queries and mutations executed by the lean executor.
 * Call before Apollo Server starts (it listens for the supergraphs `gateway` loads).
 */
export function withLeanExecutor(gateway: ApolloGateway, options: LeanExecutorOptions): GatewayInterface {
  const sdlOf = new WeakMap<GraphQLSchema, string>();
  const states = new WeakMap<GraphQLSchema, LeanState>();
  let fallback: GatewayExecutor | null = null;

  const stateFor = (schema: GraphQLSchema): LeanState | null => {
    let state = states.get(schema);
    if (!state) {
      const sdl = sdlOf.get(schema);
      if (sdl === undefined) return null;
      state = leanStateOf(sdl, options);
      states.set(schema, state);
    }
    return state;
  };

  gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
    sdlOf.set(apiSchema, coreSupergraphSdl);
    // Planner and schemas are built as soon as the supergraph loads, as @apollo/gateway builds its
    // own, not by the first request (which would wait for them); just outside @apollo/gateway's update.
    setImmediate(() => {
      try {
        stateFor(apiSchema);
      } catch {
        // Left to the first request, which builds it again and answers the error.
      }
    });
  });

  const executor: GatewayExecutor = (requestContext) => {
    const state = stateFor(requestContext.schema);
    if (!state) {
      // A schema this executor has not seen (not one @apollo/gateway loaded): @apollo/gateway's own path.
      if (!fallback) throw new Error('The gateway has not loaded a supergraph yet');
      return fallback(requestContext);
    }
    return inSpan('gateway.request', {}, () => execute(state, requestContext));
  };

  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    async load(loadOptions) {
      const loaded = await gateway.load(loadOptions);
      fallback = loaded.executor;
      return { executor };
    },
    stop: () => gateway.stop(),
  };
}

function leanStateOf(sdl: string, options: LeanExecutorOptions): LeanState {
  const supergraph = Supergraph.build(sdl);
  const serviceMap: ServiceMap = Object.create(null);
  for (const { name, url } of supergraph.subgraphsMetadata()) serviceMap[name] = options.dataSourceFor(name, url);
  return {
    apiSchema: supergraph.apiSchema(),
    supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
    planner: new QueryPlanner(supergraph, { exposeDocumentNodeInFetchNode: true }),
    serviceMap,
    plans: new Map(),
  };
}

async function execute(state: LeanState, requestContext: GatewayGraphQLRequestContext): Promise<GatewayExecutionResult> {
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
  return executeLeanQueryPlan(planned.plan, state.serviceMap, requestContext, planned.operationContext, state.supergraphSchema);
}

/** The request's variables against the operation's definitions (what @apollo/gateway checks before planning). */
function validateVariables(requestContext: GatewayGraphQLRequestContext, operationContext: OperationContext) {
  const definitions = operationContext.operation.variableDefinitions;
  if (!definitions || definitions.length === 0) return [];
  return getVariableValues(operationContext.schema, definitions, requestContext.request.variables ?? {}).errors ?? [];
}
