/** The gateway's session-status cache and batcher: refresh ahead of expiry, never past it; background refreshes share calls. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SESSION_CACHE_MS, SessionCache, SessionStatusBatcher, type SessionStatus } from './session-status.ts';

afterEach(() => {
  vi.useRealTimers();
});

/** A lookup that answers `value-<n>` for the n-th call, recording whether each was a background one. */
function counting(opts: { fail?: () => boolean } = {}) {
  const calls: { id: string; background: boolean }[] = [];
  const lookup = async (id: string, background: boolean) => {
    calls.push({ id, background });
    if (opts.fail?.()) throw new Error('identity is down');
    return { value: `value-${calls.length}`, cache: true };
  };
  return { calls, lookup };
}

describe('SessionCache', () => {
  it('answers from memory, refreshes in the background from the drawn point on, and never serves an entry past its life', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const { calls, lookup } = counting();
    // random() = 0.5: the refresh point is at 0.7 of the life.
    const cache = new SessionCache(lookup, () => 0.5);
    const [a, b] = await Promise.all([cache.get('s1'), cache.get('s1')]);
    expect([a, b, calls]).toEqual(['value-1', 'value-1', [{ id: 's1', background: false }]]);
    vi.setSystemTime(SESSION_CACHE_MS * 0.69);
    expect([await cache.get('s1'), calls.length]).toEqual(['value-1', 1]);
    vi.setSystemTime(SESSION_CACHE_MS * 0.7);
    // Served from the cache while the refresh runs; the refresh's answer is served next.
    expect(await cache.get('s1')).toBe('value-1');
    expect(calls).toEqual([{ id: 's1', background: false }, { id: 's1', background: true }]);
    await vi.waitFor(() => expect(cache.get('s1')).resolves.toBe('value-2'));
    // Past its life an entry is looked up again, and the caller waits for it.
    vi.setSystemTime(SESSION_CACHE_MS * 0.7 + SESSION_CACHE_MS);
    expect(await cache.get('s1')).toBe('value-3');
    expect(calls.at(-1)).toEqual({ id: 's1', background: false });
  });

  it('draws each entry\'s refresh point between half and nine tenths of its life', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    for (const [random, due] of [[0, 0.5], [0.999, 0.8996]] as const) {
      vi.setSystemTime(0);
      const { calls, lookup } = counting();
      const cache = new SessionCache(lookup, () => random);
      await cache.get('s');
      vi.setSystemTime(Math.ceil(SESSION_CACHE_MS * due) - 1);
      await cache.get('s');
      expect(calls).toHaveLength(1);
      vi.setSystemTime(Math.ceil(SESSION_CACHE_MS * due));
      await cache.get('s');
      expect(calls).toHaveLength(2);
    }
  });

  it('keeps serving an entry whose refresh failed until its life ends, trying again a second later, not on every request', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    let down = false;
    const { calls, lookup } = counting({ fail: () => down });
    const cache = new SessionCache(lookup, () => 0);
    await cache.get('s');
    down = true;
    vi.setSystemTime(SESSION_CACHE_MS / 2);
    expect(await cache.get('s')).toBe('value-1');
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    await Promise.resolve();
    for (let i = 0; i < 5; i++) expect(await cache.get('s')).toBe('value-1');
    expect(calls).toHaveLength(2);
    vi.setSystemTime(SESSION_CACHE_MS / 2 + 1_000);
    await cache.get('s');
    expect(calls).toHaveLength(3);
    vi.setSystemTime(SESSION_CACHE_MS);
    await expect(cache.get('s')).rejects.toThrow('identity is down');
  });

  it('does not keep what the lookup says not to cache, and forgets a deleted entry', async () => {
    const calls: string[] = [];
    const cache = new SessionCache(async (id: string) => {
      calls.push(id);
      return { value: id, cache: id !== 'revoked' };
    });
    await cache.get('revoked');
    await cache.get('revoked');
    await cache.get('kept');
    await cache.get('kept');
    cache.delete('kept');
    await cache.get('kept');
    expect(calls).toEqual(['revoked', 'revoked', 'kept', 'kept']);
  });
});

describe('SessionStatusBatcher', () => {
  const status = (sessionId: string): SessionStatus => ({ sessionId, userId: null, revoked: false, userExists: true, role: 'user', plan: 'free', timezone: 'UTC' });

  it('sends background refreshes of one window in one call, and a waiting lookup takes them along at once', async () => {
    const calls: string[][] = [];
    const batcher = new SessionStatusBatcher(async (ids) => {
      calls.push(ids);
      return ids.map(status);
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate'] });
    const background = [batcher.load('a', true), batcher.load('b', true)];
    await vi.advanceTimersByTimeAsync(49);
    expect(calls).toEqual([]);
    const third = batcher.load('c', true);
    // The window ends at 50 ms; the batch leaves on the next turn of the loop.
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([['a', 'b', 'c']]);
    expect((await Promise.all([...background, third])).map((s) => s?.sessionId)).toEqual(['a', 'b', 'c']);
    vi.useRealTimers();

    const later = batcher.load('d', true);
    const now = batcher.load('e');
    expect([(await now)?.sessionId, (await later)?.sessionId]).toEqual(['e', 'd']);
    expect(calls).toEqual([['a', 'b', 'c'], ['d', 'e']]);
  });
});
