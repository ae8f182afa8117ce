/**
 * PubSub: in-memory within one process, Redis across processes. Payloads are JSON.
 * A small implementation over ioredis (graphql-redis-subscriptions would bring a second ioredis): one connection publishes, one subscribes.
 * With tracing on, a message carries its publisher's trace context (kernel/trace-pubsub.ts).
 */
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { reasonOf, redactUrl, StartupError } from './startup.ts';
import { deliver, tracedPublish } from './trace-pubsub.ts';

export type Handler = (payload: unknown) => void;

export interface PubSub {
  /** Delivers `payload` to every subscriber of `channel` (in this process or, with Redis, any). */
  publish(channel: string, payload: unknown): Promise<void>;
  /** Registers a handler; resolves once the subscription is active; returns an unsubscribe function. */
  subscribe(channel: string, handler: Handler): Promise<() => void>;
  /** Liveness check for /api/health/detailed. */
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly kind: 'memory' | 'redis';
}

/** In-process PubSub; delivery is synchronous with `publish`, so ordering is preserved. */
export function createMemoryPubSub(): PubSub {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    kind: 'memory',
    async publish(channel, payload) {
      // Round-trip through JSON so in-memory and Redis deliveries look the same to handlers.
      await tracedPublish('memory', channel, payload, async (message) => void emitter.emit(channel, JSON.parse(JSON.stringify(message))));
    },
    async subscribe(channel, handler) {
      const received = (message: unknown) => deliver('memory', channel, message, handler);
      emitter.on(channel, received);
      return () => emitter.off(channel, received);
    },
    async ping() {},
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/** Redis-backed PubSub with reference-counted channel subscriptions. */
export function createRedisPubSub(url: string, prefix = 'xentree:'): PubSub {
  return redisPubSub(url, prefix).pubsub;
}

function redisPubSub(url: string, prefix: string): { pubsub: PubSub; lastError(): unknown } {
  const pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  const sub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  const handlers = new Map<string, Set<Handler>>();
  sub.on('message', (channel: string, message: string) => {
    const set = handlers.get(channel);
    if (!set) return;
    let payload: unknown;
    try {
      payload = JSON.parse(message);
    } catch {
      return;
    }
    for (const h of set) deliver('redis', channel.slice(prefix.length), payload, h);
  });
  // Errors are surfaced through ping(); ioredis reconnects by itself.
  let lastError: unknown = null;
  pub.on('error', (err: unknown) => (lastError = err));
  sub.on('error', () => {});
  const pubsub: PubSub = {
    kind: 'redis',
    async publish(channel, payload) {
      await tracedPublish('redis', channel, payload, async (message) => void (await pub.publish(prefix + channel, JSON.stringify(message))));
    },
    async subscribe(channel, handler) {
      const full = prefix + channel;
      let set = handlers.get(full);
      if (!set) {
        set = new Set();
        handlers.set(full, set);
        await sub.subscribe(full);
      }
      set.add(handler);
      return () => {
        const s = handlers.get(full);
        if (!s) return;
        s.delete(handler);
        if (s.size === 0) {
          handlers.delete(full);
          void sub.unsubscribe(full).catch(() => {});
        }
      };
    },
    async ping() {
      await pub.ping();
    },
    async close() {
      handlers.clear();
      pub.disconnect();
      sub.disconnect();
    },
  };
  return { pubsub, lastError: () => lastError };
}

export function createPubSub(redisUrl: string | null): PubSub {
  return redisUrl ? createRedisPubSub(redisUrl) : createMemoryPubSub();
}

/**
 * createPubSub for a process that is starting: with Redis, waits for it to answer, so that a Redis
 * that cannot be reached stops the start with one line instead of every subscription failing later.
 * @throws StartupError naming REDIS_URL.
 */
export async function connectPubSub(redisUrl: string | null): Promise<PubSub> {
  if (!redisUrl) return createMemoryPubSub();
  const { pubsub, lastError } = redisPubSub(redisUrl, 'xentree:');
  try {
    await pubsub.ping();
  } catch (err) {
    await pubsub.close();
    throw new StartupError(
      `REDIS_URL: cannot connect to Redis at ${redactUrl(redisUrl)} (${reasonOf(lastError() ?? err)}); start it or fix REDIS_URL, or unset REDIS_URL to use the in-memory PubSub (one process only)`,
      { cause: err },
    );
  }
  return pubsub;
}
