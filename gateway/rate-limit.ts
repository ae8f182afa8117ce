/**
 * Rate limiting (§1.9): fixed windows aligned to multiples of the window length
 * since the Unix epoch, one counter per (policy, bucket, window). Counters live in memory for one
 * process, or in Redis when replicas must share them.
 *
 * REST applies a route's `policy` after credentials (§1.5 step 3); GraphQL over HTTP maps the
 * operation's root fields to a policy through their `@rateLimit` directives (gateway/policies.ts)
 * once the operation is known.
 * Operations the REST layer runs in-process are not counted twice: only requests that arrived as
 * GraphQL over HTTP (`viaHttp`) are limited by the GraphQL plugin.
 */
import { Redis } from 'ioredis';
import { GraphQLError, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import type { AuthContext } from '../kernel/context.ts';
import type { RateLimit, RateLimitPolicy } from '../kernel/config.ts';
import type { Logger } from '../kernel/logger.ts';
import { policyOf, rootFieldsOfOperation, type PolicyTable } from './policies.ts';

/** Where counters are kept. */
export interface RateLimitStore {
  readonly kind: 'memory' | 'redis';
  /** Counts one hit on `key` and returns the number of hits so far; the key lives at least `ttlMs`. */
  increment(key: string, ttlMs: number): Promise<number>;
  close(): Promise<void>;
}

/** The outcome of counting one request, with everything the headers need. */
export interface RateLimitDecision {
  policy: RateLimitPolicy;
  limit: number;
  windowSeconds: number;
  remaining: number;
  /** Unix seconds at the end of the current window. */
  reset: number;
  /** Whole seconds until the window ends (≥ 1). */
  secondsToReset: number;
  allowed: boolean;
}

export interface RateLimiter {
  /**
   * Counts the request against `policy`. Resolves to null when the store is unreachable: the API
   * stays available (fail open) rather than refusing every request because Redis is down.
   */
  check(policy: RateLimitPolicy, auth: AuthContext): Promise<RateLimitDecision | null>;
  close(): Promise<void>;
}

/** In-process counters; expired windows are swept at most once a minute. */
export function createMemoryRateLimitStore(now: () => number = Date.now): RateLimitStore {
  const counters = new Map<string, { count: number; expiresAt: number }>();
  let nextSweep = now() + 60_000;
  return {
    kind: 'memory',
    async increment(key, ttlMs) {
      const t = now();
      if (t >= nextSweep) {
        for (const [k, c] of counters) if (c.expiresAt <= t) counters.delete(k);
        nextSweep = t + 60_000;
      }
      const current = counters.get(key);
      if (current && current.expiresAt > t) {
        current.count += 1;
        return current.count;
      }
      counters.set(key, { count: 1, expiresAt: t + ttlMs });
      return 1;
    },
    async close() {
      counters.clear();
    },
  };
}

/** Redis counters shared by every replica: INCR and PEXPIRE in one MULTI, so no key outlives its window. */
export function createRedisRateLimitStore(url: string): RateLimitStore {
  // A limiter must not stall requests while Redis is away: one retry, then the caller fails open.
  const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1_000 });
  redis.on('error', () => {}); // reported through failed commands; ioredis reconnects by itself
  return {
    kind: 'redis',
    async increment(key, ttlMs) {
      const results = await redis.multi().incr(key).pexpire(key, ttlMs).exec();
      const [incr] = results ?? [];
      if (!incr || incr[0]) throw incr?.[0] ?? new Error('rate-limit transaction aborted');
      return Number(incr[1]);
    },
    async close() {
      redis.disconnect();
    },
  };
}

/**
 * The bucket a request counts in (§1.9): `auth` and `public` per client IP; the others per
 * principal — user (bearer), API key, acting user (internal) — or the client IP when anonymous.
 */
export function bucketOf(policy: RateLimitPolicy, auth: AuthContext): string {
  const ip = `ip:${auth.clientIp ?? 'unknown'}`;
  if (policy === 'auth' || policy === 'public') return ip;
  switch (auth.mode) {
    case 'bearer':
    case 'internal':
      return auth.userId ? `user:${auth.userId}` : ip;
    case 'api_key':
      return auth.apiKeyId ? `key:${auth.apiKeyId}` : ip;
    case 'anonymous':
      return ip;
  }
}

export function createRateLimiter(opts: {
  limits: Record<RateLimitPolicy, RateLimit>;
  store: RateLimitStore;
  prefix: string;
  logger: Logger;
  now?: () => number;
}): RateLimiter {
  const now = opts.now ?? Date.now;
  let lastWarning = 0;
  return {
    async check(policy, auth) {
      const { limit, windowSeconds } = opts.limits[policy];
      const t = now();
      const windowMs = windowSeconds * 1000;
      const windowStart = Math.floor(t / windowMs) * windowMs;
      const windowEnd = windowStart + windowMs;
      const key = `${opts.prefix}${policy}:${bucketOf(policy, auth)}:${windowStart / 1000}`;
      let count: number;
      try {
        // A second of slack keeps the counter alive across small clock differences between replicas.
        count = await opts.store.increment(key, windowEnd - t + 1000);
      } catch (err) {
        if (t - lastWarning > 30_000) {
          lastWarning = t;
          opts.logger.warn({ err, store: opts.store.kind }, 'rate-limit store unavailable; not limiting');
        }
        return null;
      }
      return {
        policy,
        limit,
        windowSeconds,
        remaining: Math.max(0, limit - count),
        reset: windowEnd / 1000,
        secondsToReset: Math.max(1, Math.ceil((windowEnd - t) / 1000)),
        allowed: count <= limit,
      };
    },
    close: () => opts.store.close(),
  };
}

/** The headers of §1.9 for a limited response (`Retry-After` only when refused). */
export function rateLimitHeaders(d: RateLimitDecision): [string, string][] {
  const headers: [string, string][] = [
    ['x-ratelimit-limit', String(d.limit)],
    ['x-ratelimit-remaining', String(d.remaining)],
    ['x-ratelimit-reset', String(d.reset)],
    ['ratelimit-policy', `"${d.policy}";q=${d.limit};w=${d.windowSeconds}`],
    ['ratelimit', `"${d.policy}";r=${d.remaining};t=${d.secondsToReset}`],
  ];
  if (!d.allowed) headers.push(['retry-after', String(d.secondsToReset)]);
  return headers;
}

/** When an operation touches several policies it counts once, against the strictest of them. */
const STRICTNESS: readonly RateLimitPolicy[] = ['auth', 'upload', 'ai', 'public', 'default'];

/** The policy of an operation: its strictest root field's `@rateLimit`, `default` when none declares one. */
export function graphqlPolicyOf(operation: OperationDefinitionNode, document: DocumentNode, policies: PolicyTable): RateLimitPolicy {
  const found = new Set<RateLimitPolicy>();
  for (const field of rootFieldsOfOperation(operation, document)) {
    const policy = policyOf(policies, field)?.rateLimit;
    if (policy) found.add(policy);
  }
  return STRICTNESS.find((p) => found.has(p)) ?? 'default';
}

/**
 * The GraphQL error of a refused operation: `RATE_LIMITED`, status 429 and `retryAfter` seconds in
 * `extensions` (graphql-ws has no headers), plus Apollo's `http` status and headers over HTTP.
 */
export function rateLimitError(decision: RateLimitDecision, http?: { status: number; headers: HeaderMap }): GraphQLError {
  return new GraphQLError('Too many requests', {
    extensions: { code: 'RATE_LIMITED', status: 429, retryAfter: decision.secondsToReset, ...(http ? { http } : {}) },
  });
}

/** The context the GraphQL plugin needs: who is calling, and whether this is GraphQL over HTTP. */
export interface RateLimitedContext extends BaseContext {
  auth: AuthContext;
  /** Set by the HTTP entry only; operations run in-process by REST were counted by their route. */
  viaHttp?: boolean;
}

/**
 * Limits GraphQL over HTTP once the operation is resolved (after credentials, before execution):
 * the §1.9 headers on every counted response, and HTTP 429 with `RATE_LIMITED` when over the limit.
 */
export function createRateLimitPlugin<TContext extends RateLimitedContext>(limiter: RateLimiter, policies: PolicyTable): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart(start) {
      if (!start.contextValue.viaHttp) return;
      return {
        async didResolveOperation(rc) {
          if (!rc.operation) return; // Apollo has already refused a document without one
          const decision = await limiter.check(graphqlPolicyOf(rc.operation, rc.document, policies), rc.contextValue.auth);
          if (!decision) return;
          for (const [name, value] of rateLimitHeaders(decision)) rc.response.http.headers.set(name, value);
          if (decision.allowed) return;
          throw rateLimitError(decision, { status: 429, headers: new HeaderMap([['retry-after', String(decision.secondsToReset)]]) });
        },
      };
    },
  };
}
