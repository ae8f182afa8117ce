/**
 * Admission of query and mutation executions while the gateway's event loop is saturated
 * (GATEWAY_BUSY_EXECUTIONS, docs/configuration.md).
 *
 * A gateway whose one JavaScript thread is already busy all the time gains no throughput from
 * starting more executions at once: it only interleaves them, so each stays in flight longer, and
 * what an execution holds (the subgraphs' answers, the merged result) lives long enough to be
 * promoted to V8's old generation and collected there by full collections. Under the benchmark's
 * heavy query that is most of the gateway's memory above its idle size (bench/RESULTS.md).
 *
 * So while the event loop is saturated, at most `limit` executions run; the others wait in order
 * and start as running ones finish. While it is not saturated (executions waiting on subgraphs,
 * say), every execution starts at once: the gate never holds work back from an idle thread, and
 * an execution waiting on another one cannot deadlock it (the loop goes idle and the waiter starts
 * at the next check).
 */
import { performance } from 'node:perf_hooks';

/** Whether the event loop counts as saturated now. */
export type SaturationProbe = () => boolean;

/**
 * A probe over the event loop's utilisation (the share of time it spent running code rather than
 * waiting for I/O), sampled over windows of `windowMs`: saturated when a window's utilisation was
 * at least `threshold`. Reading it more often than once a window returns the last window's answer.
 */
export function loopSaturation(threshold = 0.9, windowMs = 50): SaturationProbe {
  let last = performance.eventLoopUtilization();
  let at = performance.now();
  let saturated = false;
  return () => {
    const now = performance.now();
    if (now - at >= windowMs) {
      const current = performance.eventLoopUtilization();
      saturated = performance.eventLoopUtilization(current, last).utilization >= threshold;
      last = current;
      at = now;
    }
    return saturated;
  };
}

export interface AdmissionOptions {
  /** How many executions may run at once while the loop is saturated; 0 admits every execution at once. */
  limit: number;
  /** Default: `loopSaturation()`. */
  saturated?: SaturationProbe;
  /** How often waiting executions are checked again when none finishes, in ms (default 50). */
  recheckMs?: number;
  /** Called for each execution that has to wait (metrics). */
  onQueued?: () => void;
}

export interface ExecutionAdmission {
  /** Runs `task` now, or once it is admitted; its result, or its error, either way. */
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Executions running now (admitted, not finished). */
  readonly running: number;
  /** Executions waiting to be admitted. */
  readonly waiting: number;
}

export function createExecutionAdmission(options: AdmissionOptions): ExecutionAdmission {
  const { limit, recheckMs = 50 } = options;
  const saturated = options.saturated ?? loopSaturation();
  let running = 0;
  // Waiting executions' starters in order of arrival (a Set iterates in insertion order).
  const waiting = new Set<() => void>();
  let timer: NodeJS.Timeout | null = null;

  const mayStart = (): boolean => running < limit || !saturated();

  const admit = (): void => {
    for (const start of waiting) {
      if (!mayStart()) break;
      waiting.delete(start);
      running += 1;
      start();
    }
    if (waiting.size === 0) {
      if (timer) clearTimeout(timer);
      timer = null;
    } else if (!timer) {
      // Nothing may finish soon (every running execution waiting on a slow subgraph): look again
      // once the loop has had a window to show whether it is still saturated.
      timer = setTimeout(() => {
        timer = null;
        admit();
      }, recheckMs);
    }
  };

  const started = <T>(task: () => Promise<T>): Promise<T> => {
    let result: Promise<T>;
    try {
      result = task();
    } catch (err) {
      running -= 1;
      admit();
      return Promise.reject(err as Error);
    }
    return result.finally(() => {
      running -= 1;
      admit();
    });
  };

  return {
    run(task) {
      if (limit <= 0) return task();
      // Arrivals queue behind those already waiting: the order of arrival is the order of start.
      if (waiting.size === 0 && mayStart()) {
        running += 1;
        return started(task);
      }
      options.onQueued?.();
      return new Promise<void>((resolve) => {
        waiting.add(resolve);
        admit();
      }).then(() => started(task));
    },
    get running() {
      return running;
    },
    get waiting() {
      return waiting.size;
    },
  };
}
