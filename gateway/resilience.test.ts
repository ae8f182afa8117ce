/**
 * The subgraph call policy (gateway/resilience.ts) on a fake clock: breaker transitions, the retry
 * budget, which calls are retried (real network errors: subgraph-poster.test.ts).
 */
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../kernel/config.ts';
import { loadSupergraph } from '../schema/compose.ts';
import { loadPolicies } from './policies.ts';
import {
  CircuitBreaker,
  RetryBudget,
  SubgraphGuard,
  SubgraphUnavailableError,
  callDeadlineMs,
  operationKindOf,
  rootFieldsOf,
  subgraphTimeoutOf,
  unavailableErrors,
  type BreakerState,
  type GuardOptions,
  type OperationKind,
} from './resilience.ts';

let now = 0;
const clock = (): number => now;

function breaker(overrides: Partial<ConstructorParameters<typeof CircuitBreaker>[0]> = {}): { b: CircuitBreaker; states: BreakerState[] } {
  const states: BreakerState[] = [];
  const b = new CircuitBreaker({ failureThreshold: 3, failureRatio: 0.5, minimumCalls: 100, windowMs: 10_000, cooldownMs: 1_000, now: clock, onStateChange: (s) => states.push(s), ...overrides });
  return { b, states };
}

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, fails fast during the cooldown, then lets exactly one probe through', () => {
    now = 0;
    const { b, states } = breaker();
    for (let i = 0; i < 2; i++) {
      expect(b.tryAcquire()).toBe(true);
      b.failure();
    }
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    now = 999;
    expect(b.tryAcquire()).toBe(false);
    now = 1_000;
    expect(b.tryAcquire()).toBe(true);
    expect(b.state).toBe('half_open');
    expect(b.tryAcquire()).toBe(false); // the probe is in flight
    b.success();
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
    expect(states).toEqual(['open', 'half_open', 'closed']);
  });

  it('a failed probe reopens the circuit for a fresh cooldown', () => {
    now = 0;
    const { b, states } = breaker({ failureThreshold: 1 });
    b.tryAcquire();
    b.failure();
    now = 1_000;
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    now = 1_999;
    expect(b.tryAcquire()).toBe(false);
    now = 2_000;
    expect(b.tryAcquire()).toBe(true);
    expect(states).toEqual(['open', 'half_open', 'open', 'half_open']);
  });

  it('a released probe frees the slot without changing state', () => {
    now = 0;
    const { b } = breaker({ failureThreshold: 1 });
    b.tryAcquire();
    b.failure();
    now = 1_000;
    expect(b.tryAcquire()).toBe(true);
    b.release();
    expect(b.state).toBe('half_open');
    expect(b.tryAcquire()).toBe(true);
  });

  it('a success resets the consecutive count', () => {
    now = 0;
    const { b } = breaker();
    for (const outcome of ['f', 'f', 's', 'f', 'f', 's', 'f', 'f']) {
      b.tryAcquire();
      if (outcome === 'f') b.failure();
      else b.success();
    }
    expect(b.state).toBe('closed');
  });

  it('opens on the failure ratio once the window holds the minimum number of calls', () => {
    now = 0;
    const { b } = breaker({ failureThreshold: 100, minimumCalls: 10 });
    for (let i = 0; i < 9; i++) {
      b.tryAcquire();
      if (i % 2 === 0) b.failure();
      else b.success();
    }
    expect(b.state).toBe('closed'); // 5 of 9 failed, below the minimum number of calls
    b.tryAcquire();
    b.success();
    expect(b.state).toBe('closed'); // 10 calls, 5 failures: the check runs on failures only
    b.tryAcquire();
    b.failure();
    expect(b.state).toBe('open'); // 6 of 11
  });

  it('forgets failures that slid out of the window', () => {
    now = 0;
    const { b } = breaker({ failureThreshold: 100, minimumCalls: 4 });
    for (let i = 0; i < 3; i++) {
      b.tryAcquire();
      b.failure();
    }
    now = 20_000;
    for (let i = 0; i < 3; i++) {
      b.tryAcquire();
      b.success();
    }
    b.tryAcquire();
    b.failure();
    expect(b.state).toBe('closed'); // 1 of 4 in the window
  });
});

describe('RetryBudget', () => {
  it('allows retries up to the ratio of requests in the window', () => {
    now = 0;
    const budget = new RetryBudget({ ratio: 0.1, minRetries: 0, windowMs: 10_000, now: clock });
    expect(budget.tryRetry()).toBe(false);
    for (let i = 0; i < 100; i++) budget.recordRequest();
    const granted = Array.from({ length: 20 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(10);
  });

  it('always allows the minimum, and refills as the window slides', () => {
    now = 0;
    const budget = new RetryBudget({ ratio: 0.1, minRetries: 2, windowMs: 10_000, now: clock });
    budget.recordRequest();
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, true, false]);
    now = 10_000;
    expect(budget.tryRetry()).toBe(true);
  });
});

function connectionRefused(): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
}
function httpError(status: number): Error {
  return Object.assign(new Error(`${status}: status`), { extensions: { response: { status } } });
}

function guard(overrides: Partial<GuardOptions> = {}): { g: SubgraphGuard; events: string[] } {
  const events: string[] = [];
  const g = new SubgraphGuard('colours', {
    breaker: { failureThreshold: 3, failureRatio: 0.5, minimumCalls: 100, windowMs: 10_000, cooldownMs: 1_000 },
    retry: { ratio: 0.1, minRetries: 5, windowMs: 10_000 },
    backoffMs: 50,
    now: clock,
    sleep: async (ms) => void events.push(`sleep ${ms >= 25 && ms <= 75 ? 'ok' : ms}`),
    observer: {
      attempt: (s, outcome) => void events.push(`${s} ${outcome}`),
      refused: (s) => void events.push(`${s} refused`),
      retry: (s) => void events.push(`${s} retry`),
      state: (s, state) => void events.push(`${s} ${state}`),
    },
    ...overrides,
  });
  return { g, events };
}

/** An attempt function that fails with `errors` in turn, then answers `ok`. */
function failing(...errors: unknown[]): { fn: () => Promise<string>; calls: () => number } {
  let n = 0;
  return {
    fn: async () => {
      const err = errors[n++];
      if (err) throw err;
      return 'ok';
    },
    calls: () => n,
  };
}

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof SubgraphUnavailableError ? `${err.subgraph}: ${err.reason}` : `other: ${String(err)}`;
  }
}

describe('SubgraphGuard', () => {
  it('retries a query once after a connection error, with a small backoff', async () => {
    now = 0;
    const { g, events } = guard();
    const a = failing(connectionRefused());
    await expect(g.run('query', a.fn)).resolves.toBe('ok');
    expect(a.calls()).toBe(2);
    expect(events).toEqual(['colours connection', 'colours retry', 'sleep ok', 'colours ok']);
  });

  it('never retries a mutation', async () => {
    now = 0;
    const { g, events } = guard();
    const a = failing(connectionRefused());
    expect(await reasonOf(g.run('mutation', a.fn))).toBe('colours: connection');
    expect(a.calls()).toBe(1);
    expect(events).toEqual(['colours connection']);
  });

  it('retries at most once per request', async () => {
    now = 0;
    const { g } = guard();
    const a = failing(connectionRefused(), httpError(503), connectionRefused());
    expect(await reasonOf(g.run('query', a.fn))).toBe('colours: http_5xx');
    expect(a.calls()).toBe(2);
  });

  it('retries 502/503/504 but neither a 500 nor a timeout', async () => {
    for (const [err, calls, result] of [
      [httpError(503), 2, 'resolved'],
      [httpError(504), 2, 'resolved'],
      [httpError(500), 1, 'colours: http_5xx'],
      [new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 1, 'colours: timeout'],
    ] as const) {
      now = 0;
      const { g } = guard();
      const a = failing(err);
      expect(await reasonOf(g.run('query', a.fn))).toBe(result);
      expect(a.calls()).toBe(calls);
    }
  });

  it('passes a 4xx through unchanged and counts it as the subgraph being up', async () => {
    now = 0;
    const { g, events } = guard();
    const err = httpError(400);
    for (let i = 0; i < 5; i++) await expect(g.run('query', failing(err).fn)).rejects.toBe(err);
    expect(g.breaker.state).toBe('closed');
    expect(events).toEqual([]);
  });

  it('passes other errors through without touching the breaker', async () => {
    now = 0;
    const { g } = guard();
    const err = new Error('signing failed');
    for (let i = 0; i < 5; i++) await expect(g.run('query', failing(err).fn)).rejects.toBe(err);
    expect(g.breaker.state).toBe('closed');
  });

  it('fails fast while open and recovers through a half-open probe', async () => {
    now = 0;
    const { g, events } = guard({ retry: { ratio: 0, minRetries: 0, windowMs: 10_000 } });
    for (let i = 0; i < 3; i++) await reasonOf(g.run('mutation', failing(connectionRefused()).fn));
    expect(g.breaker.state).toBe('open');
    const refused = failing();
    expect(await reasonOf(g.run('query', refused.fn))).toBe('colours: circuit_open');
    expect(refused.calls()).toBe(0);
    now = 1_000;
    await expect(g.run('query', failing().fn)).resolves.toBe('ok');
    expect(g.breaker.state).toBe('closed');
    expect(events).toEqual([
      'colours connection',
      'colours connection',
      'colours connection',
      'colours open',
      'colours refused',
      'colours half_open',
      'colours ok',
      'colours closed',
    ]);
  });

  it('never opens the circuit for timeouts: a slow call says nothing about the subgraph', async () => {
    now = 0;
    const { g, events } = guard();
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    for (let i = 0; i < 10; i++) expect(await reasonOf(g.run('mutation', failing(timeout).fn))).toBe('colours: timeout');
    expect(g.breaker.state).toBe('closed');
    await expect(g.run('query', failing().fn)).resolves.toBe('ok');
    expect(events).toEqual([...Array.from({ length: 10 }, () => 'colours timeout'), 'colours ok']);
  });

  it('does not retry when the budget is spent', async () => {
    now = 0;
    const { g } = guard({ retry: { ratio: 0.1, minRetries: 1, windowMs: 10_000 } });
    const first = failing(connectionRefused());
    await g.run('query', first.fn);
    expect(first.calls()).toBe(2);
    const second = failing(connectionRefused());
    expect(await reasonOf(g.run('query', second.fn))).toBe('colours: connection');
    expect(second.calls()).toBe(1);
  });
});

describe('subgraphTimeoutOf', () => {
  it('uses SUBGRAPH_<NAME>_TIMEOUT_MS where set, else SUBGRAPH_TIMEOUT_MS', () => {
    const config = loadConfig({ INTERNAL_SERVICE_KEY: 'k'.repeat(32), ENCRYPTION_KEY: 'e'.repeat(32), SUBGRAPH_TIMEOUT_MS: '2000', SUBGRAPH_CHAT_TIMEOUT_MS: '30000' });
    expect([subgraphTimeoutOf(config, 'chat'), subgraphTimeoutOf(config, 'identity'), subgraphTimeoutOf(config, 'colours')]).toEqual([30_000, 2_000, 2_000]);
  });
});

describe('call deadlines', () => {
  const config = loadConfig({
    INTERNAL_SERVICE_KEY: 'k'.repeat(32),
    ENCRYPTION_KEY: 'e'.repeat(32),
    SUBGRAPH_TIMEOUT_MS: '2000',
    AI_TIMEOUT_MS: '30000',
    TRPC_TIMEOUT_MS: '1000',
    INGESTION_TIMEOUT_MS: '90000',
    SUBGRAPH_KNOWLEDGE_TIMEOUT_MS: '3000',
  });

  it('reads the root fields of a subgraph operation, through fragments, or from its text', () => {
    expect(rootFieldsOf(parse('mutation M($i: ChatInput!) { chat(input: $i) { content } ...F } fragment F on Mutation { x: ragQuery { answer } }'), undefined)).toEqual(['Mutation.chat', 'Mutation.ragQuery']);
    expect(rootFieldsOf(undefined, '{ conversations { items { id } } }')).toEqual(['Query.conversations']);
    expect(rootFieldsOf(undefined, 'not graphql {')).toEqual([]);
  });

  it("is the operation's own budget when it is longer than the subgraph's timeout", () => {
    // The `@budget` directives of the committed supergraph.
    const policies = loadPolicies(loadSupergraph());
    const of = (subgraph: string, query: string): number => callDeadlineMs(config, subgraph, parse(query), undefined, policies);
    expect([
      of('chat', 'mutation { chat(input: {message: "hi"}) { content } }'),
      of('knowledge', 'mutation { ragQuery(input: {query: "q"}) { answer } }'),
      of('knowledge', 'mutation { uploadKnowledgeDocument(input: {}) { document { id } } }'),
      of('chat', '{ conversations { total } }'),
      of('knowledge', '{ knowledgeDocuments { total } }'),
      of('identity', 'mutation { login(username: "a", password: "b") { accessToken } }'),
    ]).toEqual([31_000, 31_000, 90_000, 2_000, 3_000, 2_000]);
  });
});

describe('operationKindOf and unavailableErrors', () => {
  it('reads the kind from the document, else from the text', () => {
    const kinds: OperationKind[] = [
      operationKindOf(parse('mutation M { x }'), undefined),
      operationKindOf(parse('{ x }'), undefined),
      operationKindOf(undefined, '  mutation Paint__colours__0 { paint }'),
      operationKindOf(undefined, 'query($representations:[_Any!]!){_entities(representations:$representations){__typename}}'),
      operationKindOf(undefined, '{ x }'),
    ];
    expect(kinds).toEqual(['mutation', 'query', 'mutation', 'query', 'query']);
  });

  it('renders SERVICE_UNAVAILABLE naming the subgraph', () => {
    expect(unavailableErrors(new SubgraphUnavailableError('colours', 'circuit_open'))).toEqual([
      { message: 'Subgraph "colours" is unavailable', extensions: { code: 'SERVICE_UNAVAILABLE', status: 503 } },
    ]);
  });
});
