/**
 * `startGatewayRole` (bin/gateway.ts), the gateway command's start as a library call (the gateway
 * benchmark's), and `createGateway` under it, on Redis: a gateway that cannot start closes what it
 * opened, whose sockets (PubSub, the rate-limit store, the APQ cache) would otherwise keep the
 * calling process alive.
 */
import { createServer, type Server } from 'node:net';
import v8 from 'node:v8';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger, loadConfig, startGatewayRole } from '../bin/gateway.ts';
import { connectPubSub } from '../kernel/pubsub.ts';
import { createGateway } from '../gateway/server.ts';
import { SERVICES_REDIS_URL, testEnv } from './harness.ts';

/** How many active handles and requests of each kind the process holds (timers, sockets, servers). */
function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

let taken: Server;
let port: number;
beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  port = (taken.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
});

/**
 * The kinds of which the process holds more than in `before`, once they had a second to go: the
 * test runner's own handles come and go, and a socket's close may take a turn or two of the loop.
 */
async function leftOver(before: Map<string, number>): Promise<[string, number][]> {
  const extra = () => [...resourceCounts()].filter(([kind, n]) => n > (before.get(kind) ?? 0));
  for (let wait = 0; wait < 20 && extra().length > 0; wait += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  return extra();
}

describe('startGatewayRole', () => {
  it('closes every socket, server and timer it opened when the gateway cannot start (its port taken)', async () => {
    const config = loadConfig(testEnv({ HOST: '127.0.0.1', PORT: String(port), REDIS_URL: SERVICES_REDIS_URL }));
    const before = resourceCounts();
    await expect(startGatewayRole(config, createLogger('silent'), { port, host: '127.0.0.1' })).rejects.toThrow(/EADDRINUSE/);
    expect(await leftOver(before)).toEqual([]);
  });

  it('keeps WebAssembly on V8\'s baseline compiler (--liftoff-only) from its start', async () => {
    // Asked of V8, not applied here: this process runs embedded PostgreSQL, which needs TurboFan.
    const flags = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => {});
    try {
      const config = loadConfig(testEnv({ HOST: '127.0.0.1', PORT: String(port), REDIS_URL: SERVICES_REDIS_URL }));
      await expect(startGatewayRole(config, createLogger('silent'), { port, host: '127.0.0.1' })).rejects.toThrow(/EADDRINUSE/);
      expect(flags.mock.calls[0]).toEqual(['--liftoff-only']);
    } finally {
      flags.mockRestore();
    }
  });
});

describe('createGateway', () => {
  it('closes what it started when a plugin fails to register, before the gateway listens', async () => {
    const config = loadConfig(testEnv({ HOST: '127.0.0.1', REDIS_URL: SERVICES_REDIS_URL }));
    const pubsub = await connectPubSub(config.redisUrl);
    try {
      const before = resourceCounts();
      const failing = {
        name: 'failing',
        register() {
          throw new Error('the plugin could not register');
        },
      };
      await expect(createGateway({ config, logger: createLogger('silent'), pubsub, port: 0, host: '127.0.0.1', plugins: [failing] })).rejects.toThrow('the plugin could not register');
      expect(await leftOver(before)).toEqual([]);
    } finally {
      await pubsub.close();
    }
  });
});
