/**
 * How the gateway calls subgraphs: a timeout per call, at most one retry and only for
 * queries (a mutation that may have run must never run twice), retries capped by a budget so a
 * struggling subgraph does not get a retry storm on top of its load, a circuit breaker per
 * subgraph so a dead one costs nothing but a fast error, and pooled keep-alive connections.
 *
 * A call that fails for any of these reasons becomes a `SERVICE_UNAVAILABLE` GraphQL error naming
 * the subgraph, so the gateway still answers the fields other subgraphs own (partial data).
 *
 * Each call carries a deadline (kernel/deadline.ts) derived from the work it asks for: the
 * subgraph's timeout, or the budget of the AI call or ingestion it runs when that is longer. The
 * subgraph stops at that deadline; the gateway waits a margin longer, so it never reports a
 * failure for a call that then completes.
 */
import { Kind, parse, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import type { Config, SubgraphResilience } from '../kernel/config.ts';
import type { CallBudget } from '../kernel/policy.ts';
import { policyOf, rootFieldsOfOperation, type PolicyTable } from './policies.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';
export type OperationKind = 'query' | 'mutation' | 'subscription';
/** Why a subgraph call failed; `circuit_open` calls were never sent. */
export type FailureReason = 'timeout' | 'connection' | 'http_5xx' | 'bad_response' | 'circuit_open';

type Clock = () => number;

/** Counts two things (e.g. calls and failures) over a sliding window made of fixed buckets. */
class WindowCounter {
  readonly #bucketMs: number;
  readonly #buckets: { index: number; a: number; b: number }[];

  constructor(windowMs: number, readonly now: Clock, buckets = 10) {
    this.#bucketMs = Math.max(1, windowMs / buckets);
    this.#buckets = Array.from({ length: buckets }, () => ({ index: -1, a: 0, b: 0 }));
  }

  add(a: number, b: number): void {
    const index = Math.floor(this.now() / this.#bucketMs);
    const bucket = this.#buckets[index % this.#buckets.length];
    if (!bucket) return;
    if (bucket.index !== index) Object.assign(bucket, { index, a: 0, b: 0 });
    bucket.a += a;
    bucket.b += b;
  }

  totals(): { a: number; b: number } {
    const current = Math.floor(this.now() / this.#bucketMs);
    let a = 0;
    let b = 0;
    for (const bucket of this.#buckets) {
      if (bucket.index > current - this.#buckets.length) {
        a += bucket.a;
        b += bucket.b;
      }
    }
    return { a, b };
  }

  reset(): void {
    for (const bucket of this.#buckets) Object.assign(bucket, { index: -1, a: 0, b: 0 });
  }
}

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** Failure ratio over `windowMs` that opens the circuit once `minimumCalls` calls were seen. */
  failureRatio: number;
  minimumCalls: number;
  windowMs: number;
  /** Time an open circuit fails fast before it lets one probe through (half-open). */
  cooldownMs: number;
  now?: Clock;
  onStateChange?: (state: BreakerState) => void;
}

/**
 * closed → open after `failureThreshold` consecutive failures or a failure ratio over the window;
 * open → half_open after `cooldownMs`, letting exactly one probe through; the probe's success
 * closes the circuit, its failure opens it for another cooldown.
 */
export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #openedAt = 0;
  #consecutive = 0;
  #probing = false;
  readonly #window: WindowCounter;
  readonly #now: Clock;

  constructor(readonly options: BreakerOptions) {
    this.#now = options.now ?? Date.now;
    this.#window = new WindowCounter(options.windowMs, this.#now);
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Whether a call may be sent now; when true, report its outcome with `success`/`failure`/`release`. */
  tryAcquire(): boolean {
    if (this.#state === 'open') {
      if (this.#now() - this.#openedAt < this.options.cooldownMs) return false;
      this.#transition('half_open');
    }
    if (this.#state === 'half_open') {
      if (this.#probing) return false;
      this.#probing = true;
    }
    return true;
  }

  /** The subgraph answered. */
  success(): void {
    this.#consecutive = 0;
    this.#window.add(1, 0);
    if (this.#state === 'half_open') {
      this.#probing = false;
      this.#window.reset();
      this.#transition('closed');
    }
  }

  /** The subgraph did not answer usefully (timeout, connection error, 5xx). */
  failure(): void {
    this.#consecutive += 1;
    this.#window.add(1, 1);
    if (this.#state === 'half_open') {
      this.#probing = false;
      this.#open();
      return;
    }
    const { a: calls, b: failures } = this.#window.totals();
    const ratioTripped = calls >= this.options.minimumCalls && failures / calls >= this.options.failureRatio;
    if (this.#state === 'closed' && (this.#consecutive >= this.options.failureThreshold || ratioTripped)) this.#open();
  }

  /** The call ended without telling anything about the subgraph's health; frees a probe slot. */
  release(): void {
    this.#probing = false;
  }

  #open(): void {
    this.#openedAt = this.#now();
    this.#window.reset();
    this.#transition('open');
  }

  #transition(state: BreakerState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.options.onStateChange?.(state);
  }
}

export interface RetryBudgetOptions {
  /** Retries allowed as a fraction of the requests seen in the window, e.g. 0.1. */
  ratio: number;
  /** Retries always allowed per window, so a quiet gateway can still retry at all. */
  minRetries: number;
  windowMs: number;
  now?: Clock;
}

/** Caps retries at `max(minRetries, ratio × requests)` over a sliding window. */
export class RetryBudget {
  readonly #window: WindowCounter;

  constructor(readonly options: RetryBudgetOptions) {
    this.#window = new WindowCounter(options.windowMs, options.now ?? Date.now);
  }

  recordRequest(): void {
    this.#window.add(1, 0);
  }

  /** Takes one retry from the budget if there is one left. */
  tryRetry(): boolean {
    const { a: requests, b: retries } = this.#window.totals();
    if (retries >= Math.max(this.options.minRetries, Math.floor(this.options.ratio * requests))) return false;
    this.#window.add(0, 1);
    return true;
  }
}

/** A subgraph call that failed or was refused by the breaker. */
export class SubgraphUnavailableError extends Error {
  constructor(readonly subgraph: string, readonly reason: FailureReason, options?: { cause?: unknown }) {
    super(`Subgraph "${subgraph}" is unavailable`, options);
    this.name = 'SubgraphUnavailableError';
  }
}

interface Classified {
  reason: Exclude<FailureReason, 'circuit_open'>;
  retryable: boolean;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);

function codeOf(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function statusOf(err: unknown): number | undefined {
  // RemoteGraphQLDataSource reports a non-2xx answer as a GraphQLError with extensions.response.status.
  const ext = typeof err === 'object' && err !== null && 'extensions' in err ? err.extensions : undefined;
  const response = typeof ext === 'object' && ext !== null && 'response' in ext ? ext.response : undefined;
  const status = typeof response === 'object' && response !== null && 'status' in response ? response.status : undefined;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Sorts an error from one attempt. `null`: the subgraph answered (e.g. a 4xx) or the error is ours,
 * so it says nothing about the subgraph's health and is passed on unchanged. Timeouts are not
 * retried: a subgraph that is slow under load only gets slower with a second copy of the work.
 */
export function classifyFailure(err: unknown): Classified | null {
  if (err instanceof Error && err.name === 'TimeoutError') return { reason: 'timeout', retryable: false };
  const status = statusOf(err);
  if (status !== undefined) return status >= 500 ? { reason: 'http_5xx', retryable: status === 502 || status === 503 || status === 504 } : null;
  const cause = err instanceof Error ? err.cause : undefined;
  const code = codeOf(err) ?? codeOf(cause);
  if ((err instanceof TypeError && err.message === 'fetch failed') || (code && (CONNECTION_CODES.has(code) || code.startsWith('UND_ERR_')))) {
    if (cause instanceof Error && cause.name === 'TimeoutError') return { reason: 'timeout', retryable: false };
    return { reason: 'connection', retryable: true };
  }
  if (err instanceof Error && err.message.startsWith('Expected JSON response body')) return { reason: 'bad_response', retryable: false };
  return null;
}

/** Reports what a guard sees, for metrics. */
export interface GuardObserver {
  /** One attempt sent to the subgraph, with how it ended. */
  attempt?(subgraph: string, outcome: 'ok' | Exclude<FailureReason, 'circuit_open'>, seconds: number): void;
  /** A call refused without being sent. */
  refused?(subgraph: string): void;
  retry?(subgraph: string): void;
  state?(subgraph: string, state: BreakerState): void;
}

export interface GuardOptions {
  breaker: Omit<BreakerOptions, 'now' | 'onStateChange'>;
  retry: Omit<RetryBudgetOptions, 'now'>;
  /** Base delay before the retry; the actual delay is 50–150 % of it. */
  backoffMs: number;
  now?: Clock;
  sleep?: (ms: number) => Promise<void>;
  observer?: GuardObserver;
}

/** The breaker, retry budget and retry policy of one subgraph. */
export class SubgraphGuard {
  readonly breaker: CircuitBreaker;
  readonly budget: RetryBudget;
  readonly #now: Clock;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(readonly subgraph: string, readonly options: GuardOptions) {
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.breaker = new CircuitBreaker({ ...options.breaker, now: options.now, onStateChange: (s) => options.observer?.state?.(subgraph, s) });
    this.budget = new RetryBudget({ ...options.retry, now: options.now });
  }

  /**
   * Runs `attempt` under the breaker, retrying once (queries only, within the budget) after a
   * connection error or a 502/503/504.
   * @throws SubgraphUnavailableError when the call failed or the circuit is open; any other error
   * from `attempt` unchanged.
   */
  async run<T>(kind: OperationKind, attempt: () => Promise<T>): Promise<T> {
    const observer = this.options.observer;
    this.budget.recordRequest();
    for (let n = 0; ; n++) {
      if (!this.breaker.tryAcquire()) {
        observer?.refused?.(this.subgraph);
        throw new SubgraphUnavailableError(this.subgraph, 'circuit_open');
      }
      const started = this.#now();
      try {
        const result = await attempt();
        observer?.attempt?.(this.subgraph, 'ok', (this.#now() - started) / 1000);
        this.breaker.success();
        return result;
      } catch (err) {
        const failure = classifyFailure(err);
        if (!failure) {
          // A 4xx means the subgraph is up; anything else is not about the subgraph at all.
          if (statusOf(err) !== undefined) this.breaker.success();
          else this.breaker.release();
          throw err;
        }
        observer?.attempt?.(this.subgraph, failure.reason, (this.#now() - started) / 1000);
        // Only connection failures and 5xx say the subgraph is unwell. A timeout says a call ran
        // long (its own deadline, which the subgraph enforces, decides that): counting it would let
        // one user's slow calls open the circuit for everyone.
        if (failure.reason === 'timeout') this.breaker.release();
        else this.breaker.failure();
        if (n === 0 && kind === 'query' && failure.retryable && this.budget.tryRetry()) {
          observer?.retry?.(this.subgraph);
          await this.#sleep(this.options.backoffMs * (0.5 + Math.random()));
          continue;
        }
        throw new SubgraphUnavailableError(this.subgraph, failure.reason, { cause: err });
      }
    }
  }
}

/** The kind of a subgraph fetch, from its parsed document or, failing that, its text. */
export function operationKindOf(document: DocumentNode | undefined, query: string | undefined): OperationKind {
  const op = document?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (op && op.kind === Kind.OPERATION_DEFINITION) return op.operation as OperationKind;
  const word = /^\s*(query|mutation|subscription)\b/.exec(query ?? '')?.[1];
  return word === 'mutation' || word === 'subscription' ? word : 'query';
}

/**
 * The GraphQL errors the data source answers with instead of throwing: the gateway then adds
 * `serviceName`, leaves only this subgraph's fields null and keeps the rest of the data (a thrown
 * error would reach the client masked as INTERNAL, without the subgraph's name).
 */
export function unavailableErrors(err: SubgraphUnavailableError): GraphQLFormattedError[] {
  return [{ message: err.message, extensions: { code: 'SERVICE_UNAVAILABLE', status: 503 } }];
}

/** Window over which failure ratios and the retry budget are measured. */
const WINDOW_MS = 10_000;

/** One guard per subgraph, created on first use, with the configured breaker and budget. */
export function createSubgraphGuards(settings: SubgraphResilience, observer?: GuardObserver): (subgraph: string) => SubgraphGuard {
  const guards = new Map<string, SubgraphGuard>();
  return (subgraph) => {
    let guard = guards.get(subgraph);
    if (!guard) {
      guard = new SubgraphGuard(subgraph, {
        // The ratio rule catches a subgraph that fails often without failing `breakerFailures` times in a row.
        breaker: { failureThreshold: settings.breakerFailures, failureRatio: 0.5, minimumCalls: 20, windowMs: WINDOW_MS, cooldownMs: settings.breakerCooldownMs },
        retry: { ratio: settings.retryBudget, minRetries: 3, windowMs: WINDOW_MS },
        backoffMs: 50,
        observer,
      });
      guards.set(subgraph, guard);
    }
    return guard;
  };
}

/** A per-subgraph setting of `subgraph` (any name: one the configuration does not know has none). */
function settingOf<T>(settings: Partial<Record<string, T>>, subgraph: string): T | undefined {
  return Object.entries(settings).find(([name]) => name === subgraph)?.[1];
}

/** The call timeout of one subgraph: `SUBGRAPH_<NAME>_TIMEOUT_MS`, else `SUBGRAPH_TIMEOUT_MS`. */
export function subgraphTimeoutOf(config: Config, subgraph: string): number {
  return settingOf(config.subgraphResilience.timeouts, subgraph) ?? config.subgraphTimeoutMs;
}

/** How many queries may be in flight on one connection to `subgraph`: `SUBGRAPH_<NAME>_PIPELINING`, else 1. */
export function subgraphPipeliningOf(config: Config, subgraph: string): number {
  return settingOf(config.subgraphResilience.pipelining, subgraph) ?? 1;
}

/** How long the work of `budget` may take: an AI call after its grounding look-up, or one ingestion. */
export function budgetMsOf(config: Config, budget: CallBudget): number {
  switch (budget) {
    case 'ai':
      return config.ai.timeoutMs + config.trpcTimeoutMs;
    case 'ingestion':
      return config.subgraphResilience.ingestionTimeoutMs;
    default: {
      const never: never = budget;
      throw new Error(`Unknown budget ${String(never)}`);
    }
  }
}

/** `Type.field` of each root field a subgraph operation selects (each fragment visited once). */
export function rootFieldsOf(document: DocumentNode | undefined, query: string | undefined): readonly string[] {
  if (document) return rootFieldsOfDocument(document);
  if (!query) return [];
  // The executor hands data sources the fetch's text only, so it would be parsed on every call.
  let fields = rootFieldsByQuery.get(query);
  if (!fields) {
    let doc: DocumentNode | undefined;
    try {
      doc = parse(query);
    } catch {
      doc = undefined;
    }
    fields = doc ? rootFieldsOfDocument(doc) : [];
    if (rootFieldsByQuery.size >= ROOT_FIELDS_MAX) rootFieldsByQuery.clear();
    rootFieldsByQuery.set(query, fields);
  }
  return fields;
}

/** Root fields by subgraph operation text: a query plan's fetches are a bounded set of texts. */
const rootFieldsByQuery = new Map<string, readonly string[]>();
const ROOT_FIELDS_MAX = 1024;

function rootFieldsOfDocument(doc: DocumentNode): readonly string[] {
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!op || op.kind !== Kind.OPERATION_DEFINITION) return [];
  return rootFieldsOfOperation(op, doc);
}

/**
 * The deadline of one call to `subgraph` (ms, sent in `x-xentree-deadline-ms`): its timeout, or
 * the longest `@budget` among the root fields it runs when that is longer. The gateway waits this
 * plus `deadlineMarginMs`.
 */
export function callDeadlineMs(config: Config, subgraph: string, document: DocumentNode | undefined, query: string | undefined, policies: PolicyTable): number {
  let ms = subgraphTimeoutOf(config, subgraph);
  for (const field of rootFieldsOf(document, query)) {
    const budget = policyOf(policies, field)?.budget;
    if (budget) ms = Math.max(ms, budgetMsOf(config, budget));
  }
  return ms;
}
