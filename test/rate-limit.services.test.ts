/**
 * Rate limits shared by gateway replicas through Redis (§1.9): identity and two
 * gateway processes on the real PostgreSQL and Redis with RATE_LIMIT_AUTH=4/60. Requests
 * alternating between the gateways count in one bucket, so the 5th is refused on either.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { SERVICES_REDIS_URL } from './harness.ts';
import { useTopology } from './topology.ts';

const PREFIX = `xentree:test:${randomBytes(6).toString('hex')}:rl:`;
const topology = useTopology({ name: 'rate-limit', subgraphs: ['identity', 'live'], env: { RATE_LIMIT_AUTH: '4/60', RATE_LIMIT_KEY_PREFIX: PREFIX } });

async function badLogin(gateway: string): Promise<{ status: number; body: unknown; remaining: string | null; reset: string | null; retryAfter: string | null }> {
  const res = await fetch(`${gateway}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'nobody', password: 'wrong password' }).toString(),
  });
  return { status: res.status, body: await res.json(), remaining: res.headers.get('x-ratelimit-remaining'), reset: res.headers.get('x-ratelimit-reset'), retryAfter: res.headers.get('retry-after') };
}

describe('two gateway replicas sharing Redis', () => {
  it('count one `auth` bucket: requests alternate A, B, A, B, then the 5th is 429 on either', async () => {
    // Stay inside one 60 s window for the whole sequence.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 15_000) await new Promise((r) => setTimeout(r, left + 50));
    const [a = '', b = ''] = topology.gateways;
    const invalid = { detail: { error: 'invalid_credentials', message: 'Incorrect username or password' } };
    const seen: { status: number; body: unknown; remaining: string | null; retryAfter: string | null }[] = [];
    const resets = new Set<string | null>();
    for (const gateway of [a, b, a, b]) {
      const { reset, ...res } = await badLogin(gateway);
      seen.push(res);
      resets.add(reset);
    }
    expect(seen).toEqual(['3', '2', '1', '0'].map((remaining) => ({ status: 401, body: invalid, remaining, retryAfter: null })));
    // Both replicas report the same window.
    expect(resets.size).toBe(1);

    for (const gateway of [a, b]) {
      const res = await badLogin(gateway);
      const retry = Number(res.retryAfter);
      expect({ status: res.status, body: res.body, remaining: res.remaining }).toEqual({
        status: 429,
        body: { detail: { error: 'rate_limited', message: 'Too many requests', retry_after: retry } },
        remaining: '0',
      });
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(60);
    }
  });

  it('keeps the counter in Redis under the configured prefix, expiring with its window', async () => {
    const redis = new Redis(SERVICES_REDIS_URL);
    try {
      const keys = await redis.keys(`${PREFIX}*`);
      expect(keys).toHaveLength(1);
      const key = keys[0] ?? '';
      const windowStart = Number(/^.*auth:ip:127\.0\.0\.1:(\d+)$/.exec(key)?.[1]);
      expect(windowStart % 60).toBe(0);
      expect(await redis.get(key)).toBe('6');
      const asked = Date.now();
      const ttl = await redis.pttl(key);
      // At most: window end minus now, plus one second of slack (a few ms for clock granularity).
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual((windowStart + 60) * 1000 - asked + 1000 + 5);
    } finally {
      redis.disconnect();
    }
  });
});
