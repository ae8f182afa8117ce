/**
 * `startGatewayRole` (bin/gateway.ts), the gateway command's start as a library call (the gateway
 * benchmark's): a gateway that cannot start leaves nothing open behind it.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as PubSubModule from '../kernel/pubsub.ts';
import type { PubSub } from '../kernel/pubsub.ts';
import { testEnv } from './harness.ts';

/** Every PubSub the role opened, with how often its `close` was called. */
const opened = vi.hoisted(() => [] as { closes: number }[]);
vi.mock('../kernel/pubsub.ts', async (importOriginal) => {
  const original = await importOriginal<typeof PubSubModule>();
  return {
    ...original,
    connectPubSub: async (url: string | null): Promise<PubSub> => {
      const pubsub = await original.connectPubSub(url);
      const record = { closes: 0 };
      opened.push(record);
      const close = pubsub.close.bind(pubsub);
      pubsub.close = async () => {
        record.closes += 1;
        await close();
      };
      return pubsub;
    },
  };
});

const { createLogger, loadConfig, startGatewayRole } = await import('../bin/gateway.ts');

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

describe('startGatewayRole', () => {
  it('closes everything it opened when the gateway cannot start (its port taken): the PubSub, servers, sockets and timers', async () => {
    const config = loadConfig(testEnv({ HOST: '127.0.0.1', PORT: String(port) }));
    const before = resourceCounts();
    await expect(startGatewayRole(config, createLogger('silent'), { port, host: '127.0.0.1' })).rejects.toThrow(/EADDRINUSE/);
    expect(opened).toEqual([{ closes: 1 }]);
    // Nor did the gateway leave a timer, socket or server of its own behind.
    await new Promise((resolve) => setImmediate(resolve));
    // (The test runner's own come and go: only more of a kind than before would be the gateway's.)
    const after = resourceCounts();
    expect([...after].filter(([kind, n]) => n > (before.get(kind) ?? 0))).toEqual([]);
  });
});
