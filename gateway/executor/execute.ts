/**
 * The lean executor of a query plan (queries and mutations), a drop-in for @apollo/gateway's
 * `executeQueryPlan` over the same plans, with the same answers: the same data, the same errors
 * with the same paths, codes and `serviceName`, the same value-completion extensions.
 *
 * What makes it lean: the client's operation is compiled once per document (shape-compile.ts)
 * instead of rebuilt as an `Operation` on every request, the final shaping walks that compiled
 * form (shape-apply.ts), type tests are remembered, and no protobuf trace nodes or OpenTelemetry
 * spans are made unless tracing is on (then the spans have @apollo/gateway's names).
 */
import type { buildOperationContext, ServiceMap } from '@apollo/gateway';
// The enum is not re-exported by the package's entry point (its type is).
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { FetchNode, PlanNode, QueryPlan, ResponsePath } from '@apollo/query-planner';
import { executeSync, GraphQLError, Kind, OperationTypeNode, type GraphQLSchema } from 'graphql';
import { inSpan } from '../../kernel/telemetry.ts';
import { applyRewrites, merge, TypeTester, valuesAtPath, type Obj } from './entities.ts';
import { Representations } from './representations.ts';
import { downstreamServiceError, errorPathRewriter } from './errors.ts';
import { compileOperation, type FieldShape, type OperationShape } from './shape-compile.ts';
import { conditionValue, shapeResult } from './shape-apply.ts';
import { writeResult, type WrittenData } from './shape-write.ts';

/** What @apollo/gateway's `buildOperationContext` returns (the type is not exported by name). */
export type OperationContext = ReturnType<typeof buildOperationContext>;

interface Cursor {
  path: ResponsePath;
  data: Obj | unknown[];
  full: Obj;
}

interface Run {
  serviceMap: ServiceMap;
  requestContext: GatewayGraphQLRequestContext;
  types: TypeTester;
  variables: Obj;
  defaults: Obj;
  errors: GraphQLError[];
}

/** Type testers per supergraph schema (their memory of type pairs outlives a request). */
const testers = new WeakMap<GraphQLSchema, TypeTester>();
/** Compiled operations per API schema and operation node (Apollo Server caches parsed documents). */
const shapes = new WeakMap<GraphQLSchema, WeakMap<object, OperationShape>>();

/** The compiled form of the operation of `operationContext`, compiled on first use. */
export function shapeOf(operationContext: OperationContext): OperationShape {
  let bySchema = shapes.get(operationContext.schema);
  if (!bySchema) {
    bySchema = new WeakMap();
    shapes.set(operationContext.schema, bySchema);
  }
  let shape = bySchema.get(operationContext.operation);
  if (!shape) {
    shape = compileOperation(operationContext.schema, operationContext.operation, Object.values(operationContext.fragments));
    bySchema.set(operationContext.operation, shape);
  }
  return shape;
}

/**
 * A result whose data may have been written as JSON (`asJson`): then `json` holds the bytes of the
 * data and `data` is `WRITTEN`, which says only that the data is not null.
 */
export interface JsonExecutionResult extends GatewayExecutionResult {
  json?: WrittenData;
}

/** The `data` of a result whose data is in its `json`. */
export const WRITTEN: Record<string, unknown> = Object.freeze(Object.create(null) as Record<string, unknown>);

/**
 * Executes `queryPlan` for the request; the signature of @apollo/gateway's `executeQueryPlan`
 * (the API schema comes from `operationContext`).
 */
export function executeLeanQueryPlan(queryPlan: QueryPlan, serviceMap: ServiceMap, requestContext: GatewayGraphQLRequestContext, operationContext: OperationContext, supergraphSchema: GraphQLSchema): Promise<GatewayExecutionResult> {
  return executePlan(queryPlan, serviceMap, requestContext, operationContext, supergraphSchema, false);
}

/** `executeLeanQueryPlan` with the data as JSON bytes where the operation allows it (shape-write.ts), as objects otherwise. */
export function executeLeanQueryPlanAsJson(queryPlan: QueryPlan, serviceMap: ServiceMap, requestContext: GatewayGraphQLRequestContext, operationContext: OperationContext, supergraphSchema: GraphQLSchema): Promise<JsonExecutionResult> {
  return executePlan(queryPlan, serviceMap, requestContext, operationContext, supergraphSchema, true);
}

async function executePlan(queryPlan: QueryPlan, serviceMap: ServiceMap, requestContext: GatewayGraphQLRequestContext, operationContext: OperationContext, supergraphSchema: GraphQLSchema, asJson: boolean): Promise<JsonExecutionResult> {
  return inSpan('gateway.execute', {}, async () => {
    let shape: OperationShape;
    try {
      shape = shapeOf(operationContext);
    } catch (err) {
      return { errors: [asGraphQLError(err)] };
    }
    let types = testers.get(supergraphSchema);
    if (!types) {
      types = new TypeTester(supergraphSchema);
      testers.set(supergraphSchema, types);
    }
    const variables: Obj = requestContext.request.variables ?? {};
    const run: Run = { serviceMap, requestContext, types, variables, defaults: shape.defaults, errors: [] };
    const data: Obj = Object.create(null);
    const node = queryPlan.node;
    if (node?.kind === 'Subscription') throw new Error('Execution of subscriptions not supported by gateway');
    if (node) await executeNode(run, node, { path: [], data, full: data });
    return inSpan('gateway.postprocessing', {}, async () => {
      try {
        const introspection = (field: FieldShape) => introspect(shape, field, variables);
        let shaped: { data: Obj | null; errors: GraphQLError[]; json?: WrittenData };
        if (asJson && shape.writable) {
          const written = writeResult(shape, data, variables, introspection);
          shaped = written.json ? { data: WRITTEN, errors: written.errors, json: written.json } : { data: null, errors: written.errors };
        } else {
          shaped = shapeResult(shape, data, variables, introspection);
        }
        // As @apollo/gateway: value-completion errors go out only when the fetches had none, and
        // then as an extension (they follow from the fetch errors otherwise).
        const result: JsonExecutionResult =
          run.errors.length > 0 ? { errors: run.errors, data: shaped.data } : shaped.errors.length > 0 ? { extensions: { valueCompletion: shaped.errors }, data: shaped.data } : { data: shaped.data };
        if (shaped.json) result.json = shaped.json;
        return result;
      } catch (err) {
        return { errors: [asGraphQLError(err)] };
      }
    });
  });
}

function asGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  if (err instanceof Error) return new GraphQLError(err.message, { originalError: err });
  return new GraphQLError('Unexpected error during query plan execution');
}

async function executeNode(run: Run, node: PlanNode, cursor: Cursor): Promise<void> {
  switch (node.kind) {
    case 'Sequence':
      for (const child of node.nodes) await executeNode(run, child, cursor);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => executeNode(run, child, cursor)));
      return;
    case 'Flatten': {
      const data = valuesAtPath(cursor.data, node.path);
      if (data === undefined || data === null || (typeof data !== 'object')) return;
      await executeNode(run, node.node, { path: cursor.path.concat(node.path), data: data as Obj | unknown[], full: cursor.full });
      return;
    }
    case 'Fetch':
      try {
        await inSpan('gateway.fetch', { attributes: { service: node.serviceName } }, () => executeFetch(run, node, cursor));
      } catch (err) {
        run.errors.push(err instanceof GraphQLError ? err : asGraphQLError(err));
      }
      return;
    case 'Condition': {
      const branch = conditionValue({ variable: node.condition }, run.variables, run.defaults) ? node.ifClause : node.elseClause;
      if (branch) await executeNode(run, branch, cursor);
      return;
    }
    case 'Defer':
      throw new Error('@defer support is not available in the gateway');
  }
}

async function executeFetch(run: Run, fetch: FetchNode, cursor: Cursor): Promise<void> {
  const service = run.serviceMap[fetch.serviceName];
  if (!service) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
  const entities: Obj[] = [];
  if (Array.isArray(cursor.data)) {
    for (const entity of cursor.data) if (entity !== null && entity !== undefined) entities.push(entity as Obj);
  } else {
    entities.push(cursor.data);
  }
  if (entities.length === 0) return;

  const variables: Obj = Object.create(null);
  const provided = run.requestContext.request.variables;
  for (const name of fetch.variableUsages ?? []) {
    if (provided && Object.hasOwn(provided, name) && provided[name] !== undefined) variables[name] = provided[name];
  }

  if (!fetch.requires) {
    const received = await send(run, service, fetch, cursor, variables);
    if (received) applyRewrites(run.types, fetch.outputRewrites, received);
    for (const entity of entities) merge(entity, received);
    return;
  }

  // Equal representations are sent once (representations.ts); every entity that shares one
  // receives its answer, and its errors.
  const distinct = new Representations(run.types, fetch);
  const owners: Obj[] = [];
  const slots: number[] = [];
  for (const entity of entities) {
    const slot = distinct.slotOf(entity);
    if (slot !== -1) {
      owners.push(entity);
      slots.push(slot);
    }
  }
  const representations = distinct.list;
  if (representations.length === 0) return;
  if ('representations' in variables) throw new Error('Variables cannot contain key "representations"');
  const received = await send(run, service, fetch, cursor, { ...variables, representations }, slots);
  if (!received) return;
  const list = received._entities;
  if (!Array.isArray(list)) throw new Error('Expected "data._entities" in response to be an array');
  if (list.length !== representations.length) throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
  for (const entity of list) if (isEntity(entity)) applyRewrites(run.types, fetch.outputRewrites, entity);
  for (let i = 0; i < owners.length; i++) {
    const owner = owners[i] as Obj;
    const entity: unknown = list[slots[i] as number];
    if (isEntity(entity) && !entity.__typename) entity.__typename = owner.__typename;
    merge(owner, entity);
  }
}

function isEntity(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One fetch. Its errors are the client's: with representations de-duplicated (`slots`: each
 * entity's representation), an error about `_entities[i]` is reported for every entity sent as
 * `i`, in the entities' order, as when each entity had been sent on its own.
 */
async function send(run: Run, service: ServiceMap[string], fetch: FetchNode, cursor: Cursor, variables: Obj, slots?: readonly number[]): Promise<Obj | null | undefined> {
  const { requestContext } = run;
  const response = await service.process({
    kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
    request: { query: fetch.operation, variables, operationName: fetch.operationName },
    incomingRequestContext: requestContext,
    context: requestContext.context,
    document: fetch.operationDocumentNode,
    pathInIncomingRequest: cursor.path,
  });
  if (response.errors) {
    const rewritePath = errorPathRewriter(fetch, cursor.path, cursor.full);
    const reported: { order: number; error: GraphQLError }[] = [];
    for (const error of response.errors) {
      const slot = error.path?.[1];
      const entities = slots && typeof slot === 'number' ? slots.flatMap((s, i) => (s === slot ? [i] : [])) : [];
      if (entities.length === 0) reported.push({ order: -1, error: downstreamServiceError(error, fetch.serviceName, rewritePath) });
      for (const i of entities) reported.push({ order: i, error: downstreamServiceError({ message: error.message, locations: error.locations, path: ['_entities', i, ...(error.path ?? []).slice(2)], extensions: error.extensions }, fetch.serviceName, rewritePath) });
    }
    reported.sort((a, b) => a.order - b.order);
    for (const { error } of reported) run.errors.push(error);
    if (!response.extensions?.ftv1) {
      const paths = response.errors.map((error) => ({ subgraph: fetch.serviceName, path: error.path }));
      const metrics = requestContext.metrics;
      if (metrics) metrics.nonFtv1ErrorPaths = [...(metrics.nonFtv1ErrorPaths ?? []), ...paths];
    }
  }
  return response.data;
}

/** `__schema` / `__type`: executed by graphql-js against the API schema, as @apollo/gateway does. */
function introspect(shape: OperationShape, field: FieldShape, variables: Obj): unknown {
  if (!field.introspection) return null;
  const { data, errors } = executeSync({
    schema: shape.schema,
    document: {
      kind: Kind.DOCUMENT,
      definitions: [
        { kind: Kind.OPERATION_DEFINITION, operation: OperationTypeNode.QUERY, variableDefinitions: shape.operation.variableDefinitions, selectionSet: { kind: Kind.SELECTION_SET, selections: [field.introspection] } },
        ...shape.fragments,
      ],
    },
    rootValue: {},
    variableValues: variables,
  });
  if (errors?.length || !data) throw new Error(`Introspection failed: ${errors?.map((e) => e.message).join('; ') ?? 'no data'}`);
  return Object.hasOwn(data, field.responseName) ? data[field.responseName] : null;
}
