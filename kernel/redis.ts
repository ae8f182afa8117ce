/**
 * A Redis connection for the parts that share state across replicas (PubSub, rate limits, APQ).
 * ioredis is loaded on the first connection, so a process without `REDIS_URL` never holds its
 * code (about 2 MB of heap in the gateway).
 */
import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';

const load = createRequire(import.meta.url);

export function connectRedis(url: string, options: IORedis.RedisOptions): IORedis.Redis {
  const ioredis = load('ioredis') as typeof IORedis;
  return new ioredis.Redis(url, options);
}
