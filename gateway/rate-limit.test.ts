import { describe, expect, it } from 'vitest';
import { parse, type OperationDefinitionNode } from 'graphql';
import { anonymousContext, type AuthContext } from '../kernel/context.ts';
import { DEFAULT_RATE_LIMITS } from '../kernel/config.ts';
import { createLogger } from '../kernel/logger.ts';
import { bucketOf, createMemoryRateLimitStore, createRateLimiter, graphqlPolicyOf, rateLimitHeaders, type RateLimitStore } from './rate-limit.ts';
import { loadPolicies } from './policies.ts';
import { loadSupergraph } from '../schema/compose.ts';

const logger = createLogger('silent');
const anon = anonymousContext('req', '10.0.0.1');
const bearer: AuthContext = { ...anon, mode: 'bearer', userId: 'u1', sessionId: 's1' };
const apiKey: AuthContext = { ...anon, mode: 'api_key', userId: 'u1', apiKeyId: 'k1' };
const internal: AuthContext = { ...anon, mode: 'internal', userId: 'u2' };

function limiterAt(clock: { t: number }, store: RateLimitStore = createMemoryRateLimitStore(() => clock.t)) {
  return createRateLimiter({ limits: { ...DEFAULT_RATE_LIMITS, default: { limit: 3, windowSeconds: 60 } }, store, prefix: 't:', logger, now: () => clock.t });
}

describe('fixed windows', () => {
  it('counts within a window aligned to the epoch and starts again at the boundary', async () => {
    const clock = { t: 1_800_000_030_500 }; // 30.5 s into a minute
    const limiter = limiterAt(clock);
    const first = await limiter.check('default', bearer);
    expect(first).toEqual({ policy: 'default', limit: 3, windowSeconds: 60, remaining: 2, reset: 1_800_000_060, secondsToReset: 30, allowed: true });
    await limiter.check('default', bearer);
    clock.t = 1_800_000_059_999;
    expect(await limiter.check('default', bearer)).toMatchObject({ remaining: 0, allowed: true, secondsToReset: 1 });
    expect(await limiter.check('default', bearer)).toMatchObject({ remaining: 0, allowed: false, secondsToReset: 1 });
    clock.t = 1_800_000_060_000;
    expect(await limiter.check('default', bearer)).toEqual({ policy: 'default', limit: 3, windowSeconds: 60, remaining: 2, reset: 1_800_000_120, secondsToReset: 60, allowed: true });
  });

  it('keeps policies and principals apart', async () => {
    const limiter = limiterAt({ t: 1_800_000_000_000 });
    for (let i = 0; i < 3; i++) await limiter.check('default', bearer);
    expect(await limiter.check('default', bearer)).toMatchObject({ allowed: false });
    expect(await limiter.check('default', internal)).toMatchObject({ remaining: 2 });
    expect(await limiter.check('default', apiKey)).toMatchObject({ remaining: 2 });
    expect(await limiter.check('auth', bearer)).toMatchObject({ limit: 10, remaining: 9 });
  });

  it('fails open (null) when the store is unreachable', async () => {
    const broken: RateLimitStore = { kind: 'redis', increment: () => Promise.reject(new Error('ECONNREFUSED')), close: async () => {} };
    expect(await limiterAt({ t: 0 }, broken).check('default', bearer)).toBeNull();
  });
});

describe('bucketOf', () => {
  it('uses the IP for auth and public, the principal otherwise', () => {
    expect(bucketOf('auth', bearer)).toBe('ip:10.0.0.1');
    expect(bucketOf('public', apiKey)).toBe('ip:10.0.0.1');
    expect(bucketOf('default', bearer)).toBe('user:u1');
    expect(bucketOf('ai', apiKey)).toBe('key:k1');
    expect(bucketOf('upload', internal)).toBe('user:u2');
    expect(bucketOf('default', anon)).toBe('ip:10.0.0.1');
    expect(bucketOf('default', anonymousContext('r'))).toBe('ip:unknown');
  });
});

describe('rateLimitHeaders', () => {
  it('renders §1.9, with Retry-After only when refused', () => {
    const d = { policy: 'auth' as const, limit: 10, windowSeconds: 60, remaining: 0, reset: 1_800_000_060, secondsToReset: 17, allowed: true };
    expect(rateLimitHeaders(d)).toEqual([
      ['x-ratelimit-limit', '10'],
      ['x-ratelimit-remaining', '0'],
      ['x-ratelimit-reset', '1800000060'],
      ['ratelimit-policy', '"auth";q=10;w=60'],
      ['ratelimit', '"auth";r=0;t=17'],
    ]);
    expect(rateLimitHeaders({ ...d, allowed: false }).at(-1)).toEqual(['retry-after', '17']);
  });
});

describe('graphqlPolicyOf', () => {
  // The `@rateLimit` directives of the committed supergraph.
  const policies = loadPolicies(loadSupergraph());
  const policy = (query: string, name?: string) => {
    const doc = parse(query);
    const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && (!name || d.name?.value === name));
    if (!op) throw new Error('no operation');
    return graphqlPolicyOf(op, doc, policies);
  };

  it('maps login, register and refreshToken to auth, the rest to default', () => {
    expect(policy('mutation { login(input: {}) { accessToken } }')).toBe('auth');
    expect(policy('mutation { register(input: {}) { user { id } } }')).toBe('auth');
    expect(policy('mutation { refreshToken(input: {}) { accessToken } }')).toBe('auth');
    expect(policy('mutation { logout { message } }')).toBe('default');
    expect(policy('{ me { id } }')).toBe('default');
    // A query root field with the same name is not the mutation.
    expect(policy('{ login }')).toBe('default');
  });

  it('uses the strictest policy of all root fields, through fragments', () => {
    expect(policy('mutation M { logout { message } ...F } fragment F on Mutation { a: login(input: {}) { accessToken } }')).toBe('auth');
    expect(policy('mutation A { logout { message } } mutation B { login(input: {}) { accessToken } }', 'A')).toBe('default');
  });
});
