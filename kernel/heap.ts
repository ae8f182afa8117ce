/**
 * Returning start-up's memory. Starting a process (composing or loading the supergraph, building
 * query plans, running migrations) allocates fast, so V8 grows the young generation to its most:
 * 32 MB on Node 20, about 64 MB on Node 22 and later. V8 shrinks it again only at a collection
 * that sees little allocation, and an idle process collects nothing, so those pages stayed
 * resident: a gateway on Node 26 idled at about 180 MB, 60 MB of them an empty young generation.
 *
 * One last-resort collection (the one V8 runs before giving up on memory: it shrinks the young
 * generation and compacts) once the process serves returns them. It takes tens of milliseconds,
 * once. Under load the young generation grows back as V8 needs it.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

interface GcOptions {
  type: 'major';
  execution: 'sync';
  /** Newer V8 (Node 22 and later); older versions ignore it and run a plain full collection. */
  flavor: 'last-resort';
}

export function releaseStartupMemory(): void {
  // V8's `gc` extension is installed in contexts created while --expose-gc is set: take it from a
  // fresh one and unset the flag again, so no other context gets a global `gc`.
  v8.setFlagsFromString('--expose-gc');
  let gc: (options: GcOptions) => void;
  try {
    gc = vm.runInNewContext('gc') as typeof gc;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
