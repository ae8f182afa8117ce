/** The in-process APQ cache: bounded by characters, least recently used out first, entries expire after their ttl. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryKeyValueCache } from './apq-cache.ts';

describe('MemoryKeyValueCache', () => {
  afterEach(() => vi.useRealTimers());

  it('keeps at most its bound in characters, dropping the least recently used first', async () => {
    const cache = new MemoryKeyValueCache(30); // three entries of 2 + 8 characters
    for (const key of ['k1', 'k2', 'k3']) await cache.set(key, 'x'.repeat(8));
    expect(await cache.get('k1')).toBe('xxxxxxxx'); // k1 is now the most recently used
    await cache.set('k4', 'y'.repeat(8));
    expect([await cache.get('k1'), await cache.get('k2'), await cache.get('k3'), await cache.get('k4')]).toEqual(['xxxxxxxx', undefined, 'xxxxxxxx', 'yyyyyyyy']);
    // Replacing a value counts it once.
    await cache.set('k4', 'z'.repeat(8));
    expect(await cache.get('k1')).toBe('xxxxxxxx');
    expect(await cache.delete('k4')).toBe(true);
    expect(await cache.delete('k4')).toBe(false);
  });

  it('forgets an entry once its ttl has passed, and keeps one set without a ttl', async () => {
    vi.useFakeTimers({ now: 0 });
    const cache = new MemoryKeyValueCache();
    await cache.set('short', 'a', { ttl: 10 });
    await cache.set('forever', 'b', { ttl: null });
    vi.setSystemTime(9_999);
    expect(await cache.get('short')).toBe('a');
    vi.setSystemTime(10_000);
    expect(await cache.get('short')).toBeUndefined();
    vi.setSystemTime(10_000_000_000);
    expect(await cache.get('forever')).toBe('b');
  });
});
