import v8 from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { limitHeapGrowth } from './heap.ts';

afterEach(() => {
  vi.restoreAllMocks();
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
