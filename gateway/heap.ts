/**
 * How far V8 lets the gateway's old generation grow past what survived its last full collection
 * (GATEWAY_HEAP_GROWTH_PERCENT, default 50). V8's own factor, up to 4× for a heap it collects
 * quickly, suits long-lived data; a gateway's old generation is mostly answers that were in flight
 * when a scavenge promoted them, dead soon after. Under the heavy benchmark query the default
 * factor let the heap reach about 190 MB over a live set of about 45 MB; at 50 % the process peaks
 * about 100 MB lower for a few percent more CPU (bench/RESULTS.md). 0 leaves V8's factor.
 *
 * The flag is process-wide and V8 reads it at each full collection, so setting it once the
 * process runs takes effect from the next one (`node --heap-growing-percent=N` does the same from
 * the start; NODE_OPTIONS does not accept it).
 */
import v8 from 'node:v8';

export function limitHeapGrowth(percent: number): void {
  if (!Number.isSafeInteger(percent) || percent < 0) throw new RangeError(`heap growth must be a whole percentage, not ${percent}`);
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
