import v8 from 'node:v8';
import vm from 'node:vm';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { limitHeapGrowth, releaseStartupMemory } from './heap.ts';

const youngGenerationMb = (): number => (v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? Number.NaN) / 2 ** 20;

/** Allocates as start-up does: many short-lived objects, so V8 grows the young generation. */
function churn(): number {
  let kept: { i: number; s: string }[] = [];
  for (let i = 0; i < 1_000_000; i += 1) {
    kept.push({ i, s: `item ${i}` });
    if (kept.length > 50_000) kept = [];
  }
  return kept.length;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('releaseStartupMemory', () => {
  it('leaves no global gc behind, in this context or in new ones', () => {
    churn();
    releaseStartupMemory();
    releaseStartupMemory();
    expect('gc' in globalThis).toBe(false);
    expect(vm.runInNewContext('typeof gc')).toBe('undefined');
  });

  it('returns quietly where the runtime gives no gc', () => {
    const run = vi.spyOn(vm, 'runInNewContext').mockReturnValue(undefined);
    expect(() => releaseStartupMemory()).not.toThrow();
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('runs a full collection on every runtime (Node 20 took the options object as "minor only")', async () => {
    const kinds: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) kinds.push(entry.detail?.kind ?? -1);
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      releaseStartupMemory();
      // GC entries are delivered after the collection, from the event loop.
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      observer.disconnect();
    }
    expect(kinds).toContain(constants.NODE_PERFORMANCE_GC_MAJOR);
  });

  // Node 20's V8 has no last-resort flavour for its `gc` extension: there it is a plain full collection
  // (checked on Node 20 and 26, which CI runs).
  it.runIf(Number(process.versions.node.split('.')[0]) >= 26)('shrinks the young generation that allocation grew', () => {
    churn();
    expect(youngGenerationMb()).toBeGreaterThan(8);
    releaseStartupMemory();
    expect(youngGenerationMb()).toBeLessThan(2);
  });
});

describe('limitHeapGrowth', () => {
  it("sets V8's heap growing percent", () => {
    const set = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => {});
    limitHeapGrowth(50);
    expect(set.mock.calls).toEqual([['--heap-growing-percent=50']]);
  });

  it("leaves V8's own factor at 0", () => {
    const set = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => {});
    limitHeapGrowth(0);
    expect(set).not.toHaveBeenCalled();
  });

  it('refuses what is not a whole percentage, before touching V8', () => {
    const set = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => {});
    for (const bad of [-1, 1.5, Number.NaN]) expect(() => limitHeapGrowth(bad)).toThrow(RangeError);
    expect(set).not.toHaveBeenCalled();
  });
});
