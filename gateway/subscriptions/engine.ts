/**
 * Federated subscriptions. `@apollo/gateway` cannot execute them,
 * so the gateway plans the operation with the query planner, runs the plan's `primary` fetch on the
 * owning subgraph over graphql-ws, and for every event executes `Sequence[primary, rest]` with
 * the gateway's plan executor, answering `primary` from the event so fields owned by other
 * subgraphs are filled in. A document is planned once per supergraph, however many subscribe. Identical subscriptions (same document, variables and auth) share one upstream and
 * one per-event execution. Client iterators are written by hand so `return()` releases upstream at
 * once.
 */
import { GraphQLError, Kind, buildSchema, getOperationAST, parse, print, type DocumentNode, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema, type SelectionSetNode } from 'graphql';
import { Supergraph, operationFromDocument, printSchema as printFederationSchema, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type QueryPlan } from '@apollo/query-planner';
import type { GraphQLDataSource, ServiceMap } from '@apollo/gateway';
import { buildOperationContext } from '@apollo/gateway/dist/operationContext.js';
import { inEventSpan } from './trace-event.ts';
import { Pacer } from './pacer.ts';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { AuthContext } from '../../kernel/context.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { UpstreamPool } from './upstream.ts';
import { outsideRequestContext } from '../executor/index.ts';

export interface EngineContext {
  auth: AuthContext;
  signed?: Promise<string>;
}

export interface SubscriptionEngineOptions {
  supergraphSdl: string;
  upstream: UpstreamPool;
  /** The gateway's data sources (they sign the internal context per fetch). */
  dataSourceFor(name: string): GraphQLDataSource<EngineContext>;
  signContext(ctx: EngineContext): Promise<string>;
  /** Formats errors exactly like GraphQL over HTTP does (codes kept, unknown errors masked). */
  formatError(error: GraphQLFormattedError): GraphQLFormattedError;
  logger: Logger;
  /**
   * Root subscription fields that are never shared between clients (`@exclusive` in the SDL):
   * each subscription starts work or replays history (a generation, a replay from a given
   * point), so a second client joining would share that work and miss the events already sent.
   */
  exclusiveFields?: ReadonlySet<string>;
  /**
   * Executes an event's plan: the lean executor's (gateway/executor/), which compiles the
   * operation once instead of rebuilding it against the schema on every event, or
   * @apollo/gateway's `executeQueryPlan` with `GATEWAY_EXECUTOR=apollo`.
   */
  executePlan: PlanExecutor;
}

/** What @apollo/gateway's `buildOperationContext` returns (the type is not exported by name). */
type OperationContext = ReturnType<typeof buildOperationContext>;

export type PlanExecutor = (
  queryPlan: QueryPlan,
  serviceMap: ServiceMap,
  requestContext: GatewayGraphQLRequestContext<EngineContext>,
  operationContext: OperationContext,
  supergraphSchema: GraphQLSchema,
  apiSchema: Schema,
) => Promise<GatewayExecutionResult>;

/** How long subscription set-up runs before the event loop gets a turn (pacer.ts). */
const SET_UP_SLICE_MS = 10;

/**
 * One supergraph as the engine plans with it. A subscription keeps the schema it started on:
 * after a reload (gateway/supergraph.ts) its events still execute with its own plan.
 */
interface EngineSchema {
  /** Tells the topics of one supergraph from those of the next, so new clients never join an old plan. */
  generation: number;
  apiSchema: GraphQLSchema;
  fedApiSchema: Schema;
  supergraphSchema: GraphQLSchema;
  planner: QueryPlanner;
  exclusiveFields: ReadonlySet<string>;
  /**
   * Planned subscriptions by document and operation name: subscribers send the same few documents
   * (ws-server.ts shares one DocumentNode per distinct text), and planning one is milliseconds of
   * CPU, which a burst of thousands of subscriptions would otherwise pay each time.
   */
  prepared: WeakMap<DocumentNode, Map<string | null, Prepared>>;
}

function engineSchemaOf(supergraphSdl: string, exclusiveFields: ReadonlySet<string>, generation: number): EngineSchema {
  // Without locations: the SDL was validated before it got here (gateway/supergraph.ts), and the
  // schema would otherwise keep a location and its tokens for every node of it.
  const supergraph = Supergraph.build(parse(supergraphSdl, { noLocation: true }));
  const fedApiSchema = supergraph.apiSchema();
  return {
    generation,
    fedApiSchema,
    // Built with this module's graphql: under a bundler the CommonJS copy used by federation
    // packages and the ESM copy imported here are different realms, and validate() refuses mixes.
    apiSchema: buildSchema(printFederationSchema(fedApiSchema)),
    supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
    planner: new QueryPlanner(supergraph),
    exclusiveFields,
    prepared: new WeakMap(),
  };
}

/** A subscription's plan and what each of its events is executed with, all computed once per document. */
interface EventPlan {
  primary: FetchNode;
  schema: EngineSchema;
  /** `Sequence[primary, rest]`: `primary` answered from the event, `rest` fetched from the other subgraphs. */
  queryPlan: QueryPlan;
  operationContext: OperationContext;
  /** The document as text (the topic key and the request context of each event). */
  source: string;
  exclusive: boolean;
}

type Prepared = EventPlan | { errors: Result };

/** What clients receive; errors are already formatted (codes kept, unknown errors masked). */
export type Result = ExecutionResult<Record<string, unknown>, Record<string, unknown>>;

/** Wraps formatted errors back into GraphQLErrors (graphql-ws serialises them with toJSON). */
function asErrors(errors: readonly GraphQLFormattedError[]): GraphQLError[] {
  return errors.map((e) => new GraphQLError(e.message, { path: e.path, extensions: e.extensions }));
}

/**
 * One event's result as every subscriber of a topic receives it, serialised at most once: the
 * `payload` of graphql-ws's `next` message, byte for byte what graphql-ws would write.
 */
export class EventResult {
  private json: string | undefined;
  private utf8: Buffer | undefined;

  constructor(readonly result: Result) {}

  /** The payload as JSON (errors as their `toJSON()`, after the other fields, as graphql-ws writes them). */
  get payloadJson(): string {
    if (this.json === undefined) {
      const { errors, ...rest } = this.result;
      this.json = JSON.stringify(errors ? { ...rest, errors: errors.map((e) => e.toJSON()) } : rest);
    }
    return this.json;
  }

  /** {@link payloadJson} in UTF-8. */
  get payloadBytes(): Buffer {
    this.utf8 ??= Buffer.from(this.payloadJson, 'utf8');
    return this.utf8;
  }
}

/**
 * Takes a subscriber's events straight to its transport (the WebSocket server writes each as a
 * frame), instead of handing them out one by one through the iterator: one serialisation per
 * event for all subscribers, and no promise or message object per subscriber and event.
 */
export type Deliver = (event: EventResult) => void;

/**
 * A client's view of a shared upstream subscription: a hand-written async iterator. With a
 * {@link Deliver}, events go there and the iterator only tells when the stream has ended.
 */
class ClientStream implements AsyncIterableIterator<Result> {
  private readonly queue: Result[] = [];
  private waiting: ((r: IteratorResult<Result>) => void) | null = null;
  private done = false;

  constructor(
    private readonly onReturn: (s: ClientStream) => void,
    private readonly deliver?: Deliver,
  ) {}

  push(event: EventResult): void {
    if (this.done) return;
    if (this.deliver) return this.deliver(event);
    const result = event.result;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: result, done: false });
    } else this.queue.push(result);
  }

  /** Ends the stream after everything queued has been read. */
  end(): void {
    if (this.done) return;
    this.done = true;
    if (this.waiting && this.queue.length === 0) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<Result>> {
    const value = this.queue.shift();
    if (value) return Promise.resolve({ value, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<Result>> {
    this.queue.length = 0;
    this.end();
    this.onReturn(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Result> {
    return this;
  }
}

/** One upstream subscription and its subscribers. */
class Topic {
  readonly streams = new Set<ClientStream>();
  private release: (() => void) | null = null;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly engine: SubscriptionEngine,
    private readonly key: string,
    private readonly plan: EventPlan,
    private readonly request: { document: DocumentNode; operationName: string | undefined; variables: Record<string, unknown>; context: EngineContext },
  ) {}

  async start(): Promise<void> {
    const { primary } = this.plan;
    const variables = Object.fromEntries((primary.variableUsages ?? []).map((v) => [v, this.request.variables[v]]));
    const signed = await this.engine.options.signContext(this.request.context);
    if (this.closed) return;
    this.release = this.engine.options.upstream.subscribe(primary.serviceName, primary.operation, variables, signed, {
      // Events are executed one after another so clients see them in upstream order.
      next: (event) => {
        this.chain = this.chain.then(() => this.onEvent(event)).catch((err: unknown) => this.engine.options.logger.error({ err }, 'subscription event failed'));
      },
      error: (err) => {
        this.chain = this.chain.then(() => this.fail(err));
      },
      complete: () => {
        this.chain = this.chain.then(() => this.finish());
      },
    });
  }

  add(stream: ClientStream): void {
    this.streams.add(stream);
  }

  remove(stream: ClientStream): void {
    this.streams.delete(stream);
    if (this.streams.size === 0) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.engine.topics.delete(this.key);
    this.release?.();
  }

  private async onEvent(event: ExecutionResult): Promise<void> {
    if (this.closed) return;
    const result = new EventResult(await inEventSpan(this.plan.primary.serviceName, event, () => this.engine.executeEvent(this.plan, this.request, event)));
    for (const s of this.streams) s.push(result);
  }

  private fail(err: unknown): void {
    const serviceName = this.plan.primary.serviceName;
    const upstreamErrors = Array.isArray(err) ? (err as GraphQLFormattedError[]) : null;
    const errors = upstreamErrors
      ? upstreamErrors.map((e) => this.engine.options.formatError({ ...e, extensions: { ...e.extensions, serviceName } }))
      : [{ message: `Subscription source "${serviceName}" is unavailable`, extensions: { code: 'SERVICE_UNAVAILABLE', status: 503, serviceName } }];
    const result = new EventResult({ errors: asErrors(errors) });
    for (const s of this.streams) {
      s.push(result);
      s.end();
    }
    this.close();
  }

  private finish(): void {
    for (const s of this.streams) s.end();
    this.close();
  }
}

/**
 * The {@link EngineSchema} of one supergraph, built when it is first needed (the first subscription
 * on it) rather than when the supergraph loads: a gateway serving no subscription does not hold a
 * second planner and copy of the supergraph beside @apollo/gateway's, nor pay for building them at
 * start-up (`npm run bench -- footprint`). Once built, a subscription started on it keeps it.
 */
class PendingEngineSchema {
  #built: EngineSchema | undefined;

  constructor(
    private readonly supergraphSdl: string,
    private readonly exclusiveFields: ReadonlySet<string>,
    readonly generation: number,
  ) {}

  get(): EngineSchema {
    this.#built ??= engineSchemaOf(this.supergraphSdl, this.exclusiveFields, this.generation);
    return this.#built;
  }
}

export class SubscriptionEngine {
  readonly topics = new Map<string, Topic>();
  private exclusiveCount = 0;
  private current: PendingEngineSchema;
  private readonly executePlan: PlanExecutor;
  /** Paces subscription set-up (here and in ws-server.ts) so a burst leaves the event loop turns for I/O. */
  readonly pacer = new Pacer(SET_UP_SLICE_MS);

  constructor(readonly options: SubscriptionEngineOptions) {
    this.current = new PendingEngineSchema(options.supergraphSdl, options.exclusiveFields ?? new Set(), 0);
    this.executePlan = options.executePlan;
  }

  private get schema(): EngineSchema {
    return this.current.get();
  }

  /** The client-facing schema new subscriptions are validated against. */
  get apiSchema(): GraphQLSchema {
    return this.schema.apiSchema;
  }

  /**
   * Plans with a new supergraph from now on (built on the first subscription that needs it, like
   * the first one: the supergraph runtime has validated it, and @apollo/gateway builds its own
   * planner from it in the same reload); the returned function makes the switch. Open
   * subscriptions keep streaming on the plan they started with.
   */
  prepareSupergraph(supergraphSdl: string, exclusiveFields: ReadonlySet<string>): () => void {
    const next = new PendingEngineSchema(supergraphSdl, exclusiveFields, this.current.generation + 1);
    return () => {
      this.current = next;
    };
  }

  /** Open client subscriptions (all topics). */
  get clientCount(): number {
    let n = 0;
    for (const t of this.topics.values()) n += t.streams.size;
    return n;
  }

  /**
   * Starts (or joins) the subscription for a validated subscription document.
   * Returns an async iterator of results, or a result with errors when it cannot be planned. With
   * `deliver`, events go there and the iterator yields none: it ends when the stream does.
   */
  async subscribe(document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>, context: EngineContext, deliver?: Deliver): Promise<AsyncIterableIterator<Result> | Result> {
    const plan = await this.pacer.run(() => this.prepare(document, operationName));
    if ('errors' in plan) return plan.errors;
    const key = plan.exclusive ? `exclusive:${++this.exclusiveCount}` : JSON.stringify([plan.schema.generation, identityOf(context.auth), plan.source, operationName ?? null, variables]);
    let topic = this.topics.get(key);
    const stream = new ClientStream((s) => this.topics.get(key)?.remove(s), deliver);
    if (!topic) {
      topic = new Topic(this, key, plan, { document, operationName, variables, context });
      this.topics.set(key, topic);
      topic.add(stream);
      await topic.start();
    } else {
      topic.add(stream);
    }
    return stream;
  }

  /** The plan of a subscription document on the current schema, planned on its first use. */
  private prepare(document: DocumentNode, operationName: string | undefined): Prepared {
    const schema = this.schema;
    let byName = schema.prepared.get(document);
    if (!byName) {
      byName = new Map();
      schema.prepared.set(document, byName);
    }
    let prepared = byName.get(operationName ?? null);
    if (!prepared) {
      prepared = this.plan(schema, document, operationName);
      byName.set(operationName ?? null, prepared);
    }
    return prepared;
  }

  private plan(schema: EngineSchema, document: DocumentNode, operationName: string | undefined): Prepared {
    let plan: QueryPlan;
    try {
      plan = schema.planner.buildQueryPlan(operationFromDocument(schema.fedApiSchema, document, { operationName }));
    } catch (err) {
      return { errors: { errors: asErrors([this.options.formatError({ message: err instanceof Error ? err.message : 'Cannot plan subscription', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]) } };
    }
    const node = plan.node;
    if (node?.kind !== 'Subscription') {
      return { errors: { errors: asErrors([{ message: 'Not a subscription operation', extensions: { code: 'BAD_REQUEST' } }]) } };
    }
    const { primary, rest } = node;
    return {
      primary,
      schema,
      queryPlan: { kind: 'QueryPlan', node: rest ? { kind: 'Sequence', nodes: [primary, rest] } : primary },
      operationContext: buildOperationContext({ schema: schema.apiSchema, operationDocument: document, operationName }),
      source: print(document),
      exclusive: rootFields(document, operationName).some((f) => schema.exclusiveFields.has(f)),
    };
  }

  /** Executes `Sequence[primary, rest]` for one event, answering `primary` from the event. */
  async executeEvent(
    plan: EventPlan,
    request: { document: DocumentNode; operationName: string | undefined; variables: Record<string, unknown>; context: EngineContext },
    event: ExecutionResult,
  ): Promise<Result> {
    const { primary, schema, queryPlan, operationContext, source } = plan;
    let answered = false;
    const real = this.options.dataSourceFor(primary.serviceName);
    const fromEvent: GraphQLDataSource<EngineContext> = {
      process: (options) => {
        if (!answered && options.request.query === primary.operation) {
          answered = true;
          return Promise.resolve({ data: event.data ?? null, errors: event.errors ? [...event.errors] : undefined } as never);
        }
        return real.process(options);
      },
    };
    const serviceMap: ServiceMap = new Proxy({} as ServiceMap, {
      get: (_t, name: string) => (name === primary.serviceName ? fromEvent : this.options.dataSourceFor(name)),
    });
    const requestContext = outsideRequestContext<EngineContext>({
      source,
      document: request.document,
      operation: operationContext.operation,
      operationName: request.operationName,
      variables: request.variables,
      schema: schema.apiSchema,
      // A fresh context per event: the signed internal context lives 60 s, a subscription longer.
      context: { auth: request.context.auth },
      logger: this.options.logger,
    });
    const result = await this.executePlan(queryPlan, serviceMap, requestContext, operationContext, schema.supergraphSchema, schema.fedApiSchema);
    const data = (result.data ?? null) as Record<string, unknown> | null;
    if (!result.errors?.length) return { data };
    return { data, errors: asErrors(result.errors.map((e) => this.options.formatError(e.toJSON()))) };
  }

  async close(): Promise<void> {
    for (const topic of [...this.topics.values()]) for (const s of [...topic.streams]) await s.return();
    await this.options.upstream.close();
  }
}

/** The root field names of the operation (through fragments). */
function rootFields(document: DocumentNode, operationName: string | undefined): string[] {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])));
  const names = (set: SelectionSetNode | undefined): string[] =>
    (set?.selections ?? []).flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : s.kind === Kind.INLINE_FRAGMENT ? names(s.selectionSet) : names(fragments.get(s.name.value))));
  return names(getOperationAST(document, operationName)?.selectionSet);
}

/** The parts of the auth context that decide what a subscription may see (not the request id). */
function identityOf(auth: AuthContext): unknown[] {
  return [auth.mode, auth.userId, auth.sessionId, auth.apiKeyId, auth.tenantId, [...auth.scopes].sort(), auth.role, auth.plan, auth.timezone];
}
