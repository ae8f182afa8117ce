/**
 * V8 heap settings of the project's processes: how far the gateway's old generation may grow
 * (limitHeapGrowth), and returning what start-up used (releaseStartupMemory).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

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
export function limitHeapGrowth(percent: number): void {
  if (!Number.isSafeInteger(percent) || percent < 0) throw new RangeError(`heap growth must be a whole percentage, not ${percent}`);
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/** The options of V8's `gc` extension this module uses (V8 12 and later read them). */
interface GcOptions {
  type: 'major';
  execution: 'sync';
  /** Newer V8 (Node 26's has it); where it is unknown, a plain full collection runs. */
  flavor: 'last-resort';
}

/**
 * Whether this V8 reads the `gc` extension's options. V8 11 (Node 20) takes any argument as the
 * old boolean "minor collection" switch: `gc({ type: 'major' })` there runs only a scavenge, and a
 * full collection is `gc()` without arguments.
 */
const GC_READS_OPTIONS = Number(process.versions.v8.split('.')[0]) >= 12;

/**
 * Returning start-up's memory. Starting a process (composing or loading the supergraph, building
 * query plans, running migrations) allocates fast, so V8 grows the young generation to its most:
 * 32 MB on Node 20, about 64 MB on Node 26. V8 shrinks it again only at a collection
 * that sees little allocation, and an idle process collects nothing, so those pages stayed
 * resident: a gateway on Node 26 idled at about 180 MB, 60 MB of them an empty young generation.
 *
 * One last-resort collection (the one V8 runs before giving up on memory: it shrinks the young
 * generation and compacts) once the process serves returns them. It takes tens of milliseconds,
 * once. Under load the young generation grows back as V8 needs it.
 */
export function releaseStartupMemory(): void {
  // V8's `gc` extension is installed in contexts created while --expose-gc is set: take it from a
  // fresh one and unset the flag again, so no other context gets a global `gc`.
  v8.setFlagsFromString('--expose-gc');
  let gc: unknown;
  try {
    gc = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
  // A runtime that gives no `gc` this way keeps its memory: the process serves all the same.
  if (!isGc(gc)) return;
  if (GC_READS_OPTIONS) gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  else gc();
}

function isGc(x: unknown): x is (options?: GcOptions) => void {
  return typeof x === 'function';
}
