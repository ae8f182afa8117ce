/**
 * Where automatic persisted queries (APQ) are kept: in Redis when `REDIS_URL` is set, so a query
 * registered through one gateway replica is found by every other, else in the process's memory
 * (bounded). Keys are `<APQ_KEY_PREFIX>apq:<sha256>` (Apollo Server adds `apq:`) and expire after
 * `APQ_TTL_SECONDS`. GraphQL over HTTP registers and looks them up through Apollo Server; graphql-ws
 * through `lookup`, on the same cache, so a query registered over one transport runs by its hash
 * over the other.
 */
import type { PersistedQueryOptions } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { Redis } from 'ioredis';
import type { Config } from '../kernel/config.ts';
import type { Logger } from '../kernel/logger.ts';
import { documentHash } from '../schema/persisted-documents.ts';

type KeyValueCache = NonNullable<PersistedQueryOptions['cache']>;

/** The query of an APQ request, with what registers it once the document is found valid; or why there is none. */
export type ApqLookup = { query: string; remember?: () => void } | GraphQLError;

export interface ApqCache {
  /** Apollo Server's `persistedQueries` option. */
  options: PersistedQueryOptions;
  kind: 'redis' | 'memory';
  /**
   * An APQ request made outside Apollo Server (graphql-ws), answered as Apollo Server answers one
   * over HTTP: the hash alone runs the query registered under it; the query with its hash runs it
   * and registers it (through `remember`, once its document has passed validation).
   */
  lookup(query: string | undefined, persistedQuery: unknown): Promise<ApqLookup>;
  close(): Promise<void>;
}

/** Apollo Server's prefix inside the APQ cache. */
const APQ_PREFIX = 'apq:';
/** The in-process cache's bound, in characters of keys and queries (about Apollo Server's own 30 MiB). */
const MEMORY_MAX_CHARS = 16 * 1024 * 1024;

/** A bounded in-process KeyValueCache: the least recently used entries go first; `ttl` in seconds. */
export class MemoryKeyValueCache implements KeyValueCache {
  private readonly entries = new Map<string, { value: string; until: number }>();
  private chars = 0;

  constructor(private readonly maxChars = MEMORY_MAX_CHARS) {}

  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= Date.now()) {
      this.drop(key, entry);
      return undefined;
    }
    // Most recently used last.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    const ttl = options?.ttl;
    this.entries.set(key, { value, until: ttl ? Date.now() + ttl * 1000 : Number.POSITIVE_INFINITY });
    this.chars += key.length + value.length;
    for (const [k, entry] of this.entries) {
      if (this.chars <= this.maxChars) break;
      this.drop(k, entry);
    }
  }

  async delete(key: string): Promise<boolean> {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.drop(key, entry);
    return true;
  }

  private drop(key: string, entry: { value: string }): void {
    this.entries.delete(key);
    this.chars -= key.length + entry.value.length;
  }
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
  if (!config.redisUrl) {
    const cache = new MemoryKeyValueCache();
    return { kind: 'memory', options: { ttl, cache }, lookup: apqLookup(cache, ttl, logger), close: async () => {} };
  }
  // Like the rate limiter: never stall a request on Redis; one retry, then a miss.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 1_000 });
  redis.on('error', () => {}); // reported through failed commands; ioredis reconnects by itself
  const cache = new RedisKeyValueCache(redis, config.trustedDocuments.apqKeyPrefix, logger);
  return {
    kind: 'redis',
    options: { ttl, cache },
    lookup: apqLookup(cache, ttl, logger),
    async close() {
      redis.disconnect();
    },
  };
}

/** Apollo Server's APQ step (requestPipeline.js) on `cache`, with its messages; codes as the gateway reports them. */
function apqLookup(cache: KeyValueCache, ttl: number | null | undefined, logger: Logger): ApqCache['lookup'] {
  return async (query, persistedQuery) => {
    const { version, sha256Hash } = (persistedQuery && typeof persistedQuery === 'object' ? persistedQuery : {}) as { version?: unknown; sha256Hash?: unknown };
    if (version !== 1) return new GraphQLError('Unsupported persisted query version', { extensions: { code: 'BAD_REQUEST' } });
    if (typeof sha256Hash !== 'string') return new GraphQLError('The persistedQuery extension needs a sha256Hash', { extensions: { code: 'BAD_REQUEST' } });
    if (query === undefined) {
      const found = await cache.get(APQ_PREFIX + sha256Hash);
      return found === undefined ? new GraphQLError('PersistedQueryNotFound', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }) : { query: found };
    }
    if (documentHash(query) !== sha256Hash) return new GraphQLError('provided sha does not match query', { extensions: { code: 'BAD_REQUEST' } });
    return {
      query,
      remember: () => {
        Promise.resolve(cache.set(APQ_PREFIX + sha256Hash, query, { ttl })).catch((err: unknown) => logger.warn({ err }, 'Could not register an automatic persisted query'));
      },
    };
  };
}
