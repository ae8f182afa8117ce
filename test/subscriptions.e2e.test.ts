/**
 * Federated subscriptions through the gateway, with a small test subgraph (`ticker`) whose
 * subscription returns ticks that reference identity's `User`: each event's `user { username }`
 * is filled in by identity. Real graphql-ws clients, real sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { createLogger } from '../kernel/logger.ts';
import { createRouter } from '../kernel/trpc.ts';
import { AppError } from '../kernel/errors.ts';
import { subgraphSdl } from '../kernel/policy.ts';
import { createSubgraphServer, type StartedSubgraph, type SubgraphManifest } from '../kernel/server.ts';
import type { AuthContext } from '../kernel/context.ts';
import { composeSupergraph } from '../schema/compose.ts';
import { SUBGRAPHS } from '../subgraphs/index.ts';
import { createGateway, type StartedGateway } from '../gateway/server.ts';
import { restCompat } from '../rest-compat/plugin.ts';
import { registerAndLogin, startTestStack, type TestStack } from './harness.ts';
import { forgeAccessToken, claimsOf } from './token-forge.ts';

interface TickerCtx {
  auth: AuthContext | null;
}

let activeUpstream = 0;

/** A hand-written iterator so `return()` is observable (the upstream count drops at once). */
function ticks(count: number, intervalMs: number, userId: string, failAt: number | null): AsyncIterableIterator<{ ticks: { n: number; user: { id: string } } }> {
  activeUpstream += 1;
  let n = 0;
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      activeUpstream -= 1;
    }
  };
  return {
    async next() {
      if (done || n >= count) {
        finish();
        return { value: undefined, done: true };
      }
      await new Promise((r) => setTimeout(r, intervalMs));
      if (done) return { value: undefined, done: true };
      n += 1;
      if (failAt === n) {
        finish();
        throw new AppError('NOT_FOUND', { message: 'Tick not found' });
      }
      return { value: { ticks: { n, user: { id: userId } } }, done: false };
    },
    async return() {
      finish();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

const ticker: SubgraphManifest<TickerCtx> = {
  name: 'ticker' as SubgraphManifest<TickerCtx>['name'],
  typeDefs: subgraphSdl(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    """A Xentree account."""
    type User @key(fields: "id", resolvable: false) {
      "Account id (UUID v4)."
      id: ID!
    }
    "A tick."
    type Tick { "Sequence number." n: Int! "Who asked." user: User! }
    type Query { "Ticker status." tickerStatus: String @access(auth: "P") }
    type Subscription { "Counts to count." ticks(count: Int!, intervalMs: Int! = 20, failAt: Int): Tick! @access(auth: "P") }
  `),
  resolvers: {
    Query: { tickerStatus: () => 'ok' },
    Subscription: {
      ticks: {
        subscribe: (_: unknown, args: { count: number; intervalMs: number; failAt?: number | null }, ctx: TickerCtx) =>
          ticks(args.count, args.intervalMs, ctx.auth?.userId ?? 'anonymous', args.failAt ?? null),
      },
    },
  },
  entities: [],
  migrations: [],
  setup: () => ({ router: createRouter({}), requestContext: (auth) => ({ auth }) }),
};

let t: TestStack;
let tickerServer: StartedSubgraph;
let gateway: StartedGateway;
let wsUrl = '';
const clients: Client[] = [];

beforeAll(async () => {
  t = await startTestStack();
  const logger = createLogger('silent');
  tickerServer = await createSubgraphServer(ticker, { config: t.config, port: 0, host: '127.0.0.1', pubsub: t.stack.pubsub, logger });
  const { supergraph } = composeSupergraph([...SUBGRAPHS, { name: 'ticker', typeDefs: ticker.typeDefs }]);
  gateway = await createGateway({
    config: { ...t.config, wsMaxSubscriptionsPerConnection: 3 },
    logger,
    pubsub: t.stack.pubsub,
    port: 0,
    supergraphSdl: supergraph,
    subgraphUrls: { ...Object.fromEntries(t.stack.subgraphs.map((s) => [s.name, s.url])), ticker: tickerServer.url },
    plugins: [restCompat()],
  });
  wsUrl = `${gateway.url.replace('http', 'ws')}/graphql`;
});

afterAll(async () => {
  for (const c of clients) await c.dispose();
  await gateway?.close();
  await tickerServer?.close();
  await t?.close();
});

function client(connectionParams: Record<string, string>): Client {
  const c = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
  clients.push(c);
  return c;
}

async function collect(c: Client, query: string, variables: Record<string, unknown> = {}): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const result of c.iterate({ query, variables })) out.push(result);
  return out;
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Opens a raw socket and resolves with the close code. */
function closeCode(init: Record<string, unknown> | null): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
    ws.on('open', () => {
      if (init) ws.send(JSON.stringify({ type: 'connection_init', payload: init }));
    });
    ws.on('close', (code) => resolve(code));
  });
}

describe('federated subscriptions through the gateway', () => {
  it('streams events in order, filling in fields owned by another subgraph on each event', async () => {
    const u = await registerAndLogin(t, 'sub');
    const results = await collect(client({ authorization: `Bearer ${u.access}` }), 'subscription { ticks(count: 3) { n user { id username } } }');
    expect(results).toEqual([1, 2, 3].map((n) => ({ data: { ticks: { n, user: { id: u.id, username: u.user.username } } } })));
    await until(() => activeUpstream === 0);
  });

  it('shares one upstream subscription between identical subscriptions and releases it on unsubscribe', async () => {
    const u = await registerAndLogin(t, 'dedupe');
    const query = 'subscription { ticks(count: 1000, intervalMs: 30) { n } }';
    const a = client({ authorization: `Bearer ${u.access}` }).iterate({ query });
    const b = client({ authorization: `Bearer ${u.access}` }).iterate({ query });
    const first = await Promise.all([a.next(), b.next()]);
    expect(first.map((r) => r.done)).toEqual([false, false]);
    expect(activeUpstream).toBe(1);
    await a.return?.();
    expect((await b.next()).done).toBe(false);
    expect(activeUpstream).toBe(1);
    await b.return?.();
    await until(() => activeUpstream === 0);
  });

  it('passes subgraph errors through with their codes', async () => {
    const u = await registerAndLogin(t, 'suberr');
    const results = await collect(client({ authorization: `Bearer ${u.access}` }), 'subscription { ticks(count: 5, failAt: 2) { n } }').catch((err: unknown) => [err]);
    expect(results[0]).toEqual({ data: { ticks: { n: 1 } } });
    expect(results[1]).toEqual({ errors: [expect.objectContaining({ message: 'Tick not found', extensions: expect.objectContaining({ code: 'NOT_FOUND', serviceName: 'ticker' }) })] });
    expect(results).toHaveLength(2);
  });

  it('answers queries over the same WebSocket', async () => {
    const u = await registerAndLogin(t, 'wsq');
    const results = await collect(client({ authorization: `Bearer ${u.access}` }), '{ me { id } tickerStatus }');
    expect(results).toEqual([{ data: { me: { id: u.id }, tickerStatus: 'ok' } }]);
  });

  it('applies the operation limits of GraphQL over HTTP to WebSocket operations', async () => {
    const u = await registerAndLogin(t, 'wslimits');
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: n`).join(' ');
    const results = await collect(client({ authorization: `Bearer ${u.access}` }), `subscription { ticks(count: 1) { ${aliases} } }`).catch((err: unknown) => [err]);
    expect(results).toEqual([[expect.objectContaining({ extensions: expect.objectContaining({ code: 'TOO_MANY_ALIASES' }) })]]);
  });

  it('limits operations per connection', async () => {
    const u = await registerAndLogin(t, 'wsmax');
    const c = client({ authorization: `Bearer ${u.access}` });
    const open = [0, 1, 2].map((i) => c.iterate({ query: `subscription { ticks(count: 1000, intervalMs: ${50 + i}) { n } }` }));
    await Promise.all(open.map((it) => it.next()));
    const fourth = await collect(c, 'subscription { ticks(count: 1) { n } }').catch((err: unknown) => [err]);
    expect(fourth).toEqual([[expect.objectContaining({ message: 'At most 3 operations per connection', extensions: expect.objectContaining({ code: 'TOO_MANY_SUBSCRIPTIONS' }) })]]);
    await Promise.all(open.map((it) => it.return?.()));
    await until(() => activeUpstream === 0);
  });

  it('takes a burst of subscriptions in and delivers an event to every one of them', async () => {
    const u = await registerAndLogin(t, 'burst');
    // 15 connections (of the 20 a principal may open) × 3 subscriptions sent at once, each a distinct
    // document (its own plan and upstream subscription): more set-up than one slice of the event
    // loop, so most of it waits its turn.
    const connections = Array.from({ length: 15 }, () => client({ authorization: `Bearer ${u.access}` }));
    const subscriptions = connections.flatMap((c, i) => [0, 1, 2].map((j) => c.iterate({ query: `subscription { ticks(count: 1, intervalMs: ${300 + 3 * i + j}) { n } }` })));
    const first = await Promise.all(subscriptions.map((it) => it.next()));
    expect(first).toEqual(Array.from({ length: 45 }, () => ({ done: false, value: { data: { ticks: { n: 1 } } } })));
    const ends = await Promise.all(subscriptions.map((it) => it.next()));
    expect(ends.every((r) => r.done)).toBe(true);
    await until(() => activeUpstream === 0);
  });

  it('closes with 4408 when connection_init does not arrive within 3 s', async () => {
    expect(await closeCode(null)).toBe(4408);
  });

  it('closes with 4403 for a bad token', async () => {
    expect(await closeCode({ authorization: 'Bearer not-a-token' })).toBe(4403);
  });

  it('closes with 4403 when the token expires', async () => {
    const u = await registerAndLogin(t, 'expiring');
    const sid = String(claimsOf(u.access).sid);
    const token = await forgeAccessToken(t, { sub: u.id, sid, exp: Math.floor(Date.now() / 1000) + 2 });
    const opened = Date.now();
    expect(await closeCode({ authorization: `Bearer ${token}` })).toBe(4403);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(1_000);
  });

  it('answers subscriptions with another subgraph\'s fields, and queries, on @apollo/gateway\'s executor too (GATEWAY_EXECUTOR=apollo)', async () => {
    const { supergraph } = composeSupergraph([...SUBGRAPHS, { name: 'ticker', typeDefs: ticker.typeDefs }]);
    const stock = await createGateway({
      config: { ...t.config, gatewayExecutor: 'apollo' },
      logger: createLogger('silent'),
      pubsub: t.stack.pubsub,
      port: 0,
      supergraphSdl: supergraph,
      subgraphUrls: { ...Object.fromEntries(t.stack.subgraphs.map((s) => [s.name, s.url])), ticker: tickerServer.url },
      plugins: [restCompat()],
    });
    try {
      const u = await registerAndLogin(t, 'stock');
      const c = createClient({ url: `${stock.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${u.access}` }, retryAttempts: 0, lazy: true });
      clients.push(c);
      expect(await collect(c, 'subscription { ticks(count: 2) { n user { id username } } }')).toEqual(
        [1, 2].map((n) => ({ data: { ticks: { n, user: { id: u.id, username: u.user.username } } } })),
      );
      const res = await fetch(`${stock.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${u.access}` }, body: JSON.stringify({ query: '{ me { id username } }' }) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: { me: { id: u.id, username: u.user.username } } });
    } finally {
      await stock.close();
    }
  });

  it('ends the client subscription with an error when the upstream subgraph goes away', async () => {
    const u = await registerAndLogin(t, 'drop');
    const it = client({ authorization: `Bearer ${u.access}` }).iterate({ query: 'subscription { ticks(count: 1000, intervalMs: 30) { n } }' });
    expect((await it.next()).done).toBe(false);
    await tickerServer.close();
    const seen: unknown[] = [];
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      seen.push(r.value);
    }
    expect(seen.at(-1)).toEqual({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', serviceName: 'ticker' }) })] });
  });
});
