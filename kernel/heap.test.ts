import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { releaseStartupMemory } from './heap.ts';

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

describe('releaseStartupMemory', () => {
  it('leaves no global gc behind, in this context or in new ones', async () => {
    churn();
    releaseStartupMemory();
    releaseStartupMemory();
    expect('gc' in globalThis).toBe(false);
    const vm = await import('node:vm');
    expect(vm.runInNewContext('typeof gc')).toBe('undefined');
  });

  // Node 20's V8 has no last-resort flavour for its `gc` extension: there it is a plain full collection.
  it.runIf(Number(process.versions.node.split('.')[0]) >= 22)('shrinks the young generation that allocation grew', () => {
    churn();
    expect(youngGenerationMb()).toBeGreaterThan(8);
    releaseStartupMemory();
    expect(youngGenerationMb()).toBeLessThan(2);
  });
});
