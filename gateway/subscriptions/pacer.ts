/**
 * Runs synchronous set-up work (planning a subscription, joining its topic) in slices of the
 * event loop. A burst of tens of thousands of subscriptions would otherwise be worked through in
 * one turn of the loop: the gateway would answer nothing else for seconds, among it the subgraphs'
 * WebSocket pings, and a subgraph that gets no pong in time drops the upstream subscription and
 * every subscriber on it. Between slices the loop polls I/O (pongs go out, events come in).
 *
 * Work runs at once while the current slice has time and nothing is waiting, so a gateway that is
 * not in a burst pays one comparison per subscription; in a burst, work waits its turn in order.
 */
export class Pacer {
  private readonly queue: (() => void)[] = [];
  /** When the current slice began (performance.now()), or null when no slice is open. */
  private sliceStart: number | null = null;

  constructor(private readonly sliceMs: number) {}

  run<T>(work: () => T): Promise<T> {
    if (this.queue.length === 0 && this.hasTime()) {
      try {
        return Promise.resolve(work());
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => {
        try {
          resolve(work());
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }

  /** Whether the open slice has time left; opens one (closed at the next turn of the loop) when none is. */
  private hasTime(): boolean {
    const now = performance.now();
    if (this.sliceStart === null) {
      this.sliceStart = now;
      setImmediate(this.nextSlice);
      return true;
    }
    return now - this.sliceStart < this.sliceMs;
  }

  /** A turn of the loop later (I/O has been polled since): a new slice for what waits. */
  private readonly nextSlice = (): void => {
    const start = performance.now();
    this.sliceStart = start;
    while (this.queue.length > 0 && performance.now() - start < this.sliceMs) this.queue.shift()?.();
    if (this.queue.length > 0) setImmediate(this.nextSlice);
    else this.sliceStart = null;
  };
}
