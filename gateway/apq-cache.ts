/**
 * Where Apollo Server keeps automatic persisted queries (APQ): in Redis when `REDIS_URL` is set,
 * so a query registered through one gateway replica is found by every other, else in the process's
 * memory (Apollo Server's own bounded cache). Keys are `<APQ_KEY_PREFIX>apq:<sha256>` (Apollo adds
 * `apq:`) and expire after `APQ_TTL_SECONDS`.
 */
import type { PersistedQueryOptions } from '@apollo/server';
import { Redis } from 'ioredis';
import type { Config } from '../kernel/config.ts';
import type { Logger } from '../kernel/logger.ts';

type KeyValueCache = NonNullable<PersistedQueryOptions['cache']>;

export interface ApqCache {
  /** Apollo Server's `persistedQueries` option. */
  options: PersistedQueryOptions;
  kind: 'redis' | 'memory';
  close(): Promise<void>;
}

/**
 * Apollo's KeyValueCache on ioredis. A lookup that fails (Redis away) is a miss, so the client
 * sends its query again instead of getting a 500; a failed write is logged by Apollo Server.
 */
class RedisKeyValueCache implements KeyValueCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(this.prefix + key)) ?? undefined;
    } catch (err) {
      this.logger.warn({ err }, 'APQ cache lookup failed');
      return undefined;
    }
  }

  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    const ttl = options?.ttl;
    if (ttl) await this.redis.set(this.prefix + key, value, 'EX', ttl);
    else await this.redis.set(this.prefix + key, value);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.del(this.prefix + key)) > 0;
  }
}

export function createApqCache(config: Config, logger: Logger): ApqCache {
  const ttl = config.trustedDocuments.apqTtlSeconds;
  if (!config.redisUrl) return { kind: 'memory', options: { ttl }, close: async () => {} };
  // Like the rate limiter: never stall a request on Redis; one retry, then a miss.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 1_000 });
  redis.on('error', () => {}); // reported through failed commands; ioredis reconnects by itself
  return {
    kind: 'redis',
    options: { ttl, cache: new RedisKeyValueCache(redis, config.trustedDocuments.apqKeyPrefix, logger) },
    async close() {
      redis.disconnect();
    },
  };
}
