/**
 * V8 heap settings of the project's processes: how far the gateway's old generation may grow
 * (limitHeapGrowth), the gateway's WebAssembly on the baseline compiler (keepWebAssemblyOnBaseline),
 * and returning what start-up used (releaseStartupMemory).
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

/**
 * Keeps WebAssembly on V8's baseline compiler (Liftoff) in the gateway role (bin/gateway.ts, not
 * `xentree start`, which runs embedded PostgreSQL in the same process). Its one WebAssembly module
 * is undici's HTTP parser (llhttp), which reads every subgraph answer. V8 starts it on Liftoff and
 * recompiles its hot functions with TurboFan a moment after the first requests; on Node 20 that
 * compilation holds about 20 MB for some 100 ms, and it set the gateway's peak RSS under the heavy
 * benchmark query (132–146 MB, against 126–127 without it, at the same CPU per request within the
 * noise; bench/RESULTS.md). Call before the first subgraph request: V8 reads the flag as it
 * compiles a module. Not for a process that runs embedded PostgreSQL, a database engine in
 * WebAssembly that needs TurboFan.
 */
export function keepWebAssemblyOnBaseline(): void {
  v8.setFlagsFromString('--liftoff-only');
}

/** The options of V8's `gc` extension this module uses (Node 26's V8 reads them; Node 20's does not). */
interface GcOptions {
  type: 'major';
  execution: 'sync';
  /** Newer V8 (Node 26's has it); where it is unknown, a plain full collection runs. */
  flavor: 'last-resort';
}

/**
 * Returning start-up's memory. Starting a process (composing or loading the supergraph, building
 * query plans, running migrations) allocates fast, so V8 grows the young generation to its most:
 * 32 MB on Node 20, about 64 MB on Node 26. V8 shrinks it again only at a collection
 * that sees little allocation, and an idle process collects nothing, so those pages stayed
 * resident: a gateway on Node 26 idled at about 180 MB, 60 MB of them an empty young generation.
 *
 * A full collection, then a last-resort one (the one V8 runs before giving up on memory: it
 * shrinks the young generation and compacts), once the process serves, return them. They take
 * tens of milliseconds, once. Under load the young generation grows back as V8 needs it.
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
  // A full collection on every runtime: Node 20's V8 reads any argument as the old "minor only"
  // switch (`gc({ type: 'major' })` runs a scavenge there), so this call passes none.
  gc();
  // Where V8 reads the options (Node 26's does), the last-resort collection also shrinks the young
  // generation and compacts; on Node 20 it is one more scavenge.
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

function isGc(x: unknown): x is (options?: GcOptions) => void {
  return typeof x === 'function';
}
