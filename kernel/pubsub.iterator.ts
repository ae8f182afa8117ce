/** A PubSub channel as a hand-written async iterator (its `return()` unsubscribes at once). */
import type { PubSub } from './pubsub.ts';

export class PubSubIterator<T = Record<string, unknown>> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private wake: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  private done = false;

  constructor(
    private readonly pubsub: PubSub,
    private readonly channel: string,
  ) {}

  async open(): Promise<void> {
    this.unsubscribe = await this.pubsub.subscribe(this.channel, (payload) => {
      this.queue.push(payload as T);
      this.wake?.();
    });
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.done) return { value: undefined, done: true };
      const value = this.queue.shift();
      if (value !== undefined) return { value, done: false };
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.done = true;
    this.unsubscribe?.();
    this.wake?.();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
