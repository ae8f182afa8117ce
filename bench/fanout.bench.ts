/**
 * `npm run bench -- fanout`: N concurrent client subscriptions (`messageAdded` of one
 * conversation, same user) on one gateway process; one reply is stored and its events published
 * once. Prints, per N, the time until every subscriber has the event (p50/p99, measured from the
 * first subscriber's arrival — the spread — and from the publishing request) and the gateway's RSS.
 * Targets (issue 17): at 10,000 subscribers p99 ≤ 250 ms from the request and ≤ 150 ms spread; at
 * 50,000 on one gateway p99 ≤ 1 s within 1 GB of RSS.
 *
 * N steps: BENCH_FANOUT_STEPS (default 100,1000,10000,50000). Each subscriber is a subscription;
 * up to BENCH_FANOUT_MAX_SOCKETS (default 12,000) WebSocket connections carry them, one each while
 * N fits, else several per connection (graphql-ws multiplexes; the gateway allows
 * WS_MAX_SUBSCRIPTIONS_PER_CONNECTION), because one process here may hold at most 20,000 file
 * descriptors (`ulimit -Hn`) and neither the gateway nor this process can raise it. Connections
 * come from BENCH_FANOUT_SOURCES (default 4) loopback source addresses (127.0.0.1, .2, ...) so
 * that no source address runs out of ephemeral ports.
 */
import WebSocket, { type ClientOptions } from 'ws';
import type { ClientRequestArgs } from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import { benchUser, percentile, rssMb, startDistributed } from './distributed.ts';

const STEPS = (process.env.BENCH_FANOUT_STEPS ?? '100,1000,10000,50000').split(',').map(Number).filter((n) => n > 0);
const MAX_SOCKETS = Number(process.env.BENCH_FANOUT_MAX_SOCKETS ?? 12_000);
const SOURCES = Number(process.env.BENCH_FANOUT_SOURCES ?? 4);
const TARGETS: Record<number, { fromRequest: number; spread?: number; rssMb?: number }> = { 10_000: { fromRequest: 250, spread: 150 }, 50_000: { fromRequest: 1000, rssMb: 1024 } };

/** A `ws` WebSocket bound to one loopback source address. */
function socketFrom(localAddress: string) {
  return class extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[], options?: ClientOptions | ClientRequestArgs) {
      super(address, protocols, { ...options, localAddress });
    }
  };
}

export async function run(): Promise<void> {
  const sys = await startDistributed();
  const clients: Client[] = [];
  const stops: (() => void)[] = [];
  try {
    const user = await benchUser(sys.gateway);
    const conv = await fetch(`${sys.gateway}/api/core/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ title: 'fanout' }),
    });
    const { id: conversationId } = (await conv.json()) as { id: string };
    const wsUrl = `${sys.gateway.replace('http', 'ws')}/graphql`;
    const sockets = Array.from({ length: SOURCES }, (_, i) => socketFrom(`127.0.0.${i + 1}`));
    console.log(`fanout bench: messageAdded subscriptions of one conversation; at most ${MAX_SOCKETS} connections from ${SOURCES} source addresses; gateway RSS idle ${rssMb(sys.gatewayPid)} MB`);
    let largest = 0;
    // Shared by every subscriber's callback across steps (subscribers outlive the step that opened them).
    const arrivals: number[] = [];
    let waiting: (() => void) | null = null;
    let target = 0;
    let subscribers = 0;
    const connect = async (): Promise<Client> => {
      const c = createClient({ url: wsUrl, webSocketImpl: sockets[clients.length % SOURCES], connectionParams: { authorization: `Bearer ${user.token}` }, retryAttempts: 0, lazy: false, keepAlive: 0 });
      clients.push(c);
      await new Promise<void>((resolve, reject) => {
        c.on('connected', () => resolve());
        c.on('closed', () => reject(new Error('closed')));
      });
      return c;
    };
    /** Adds one subscriber on `c`. */
    const subscribe = (c: Client): void => {
      subscribers += 1;
      stops.push(
        c.subscribe(
          { query: 'subscription($c: ID!) { messageAdded(conversationId: $c) { id role } }', variables: { c: conversationId } },
          {
            next: (r) => {
              const data = r.data as { messageAdded?: { role?: string } } | undefined;
              if (data?.messageAdded?.role === 'USER') {
                arrivals.push(performance.now());
                if (arrivals.length === target) waiting?.();
              }
            },
            error: (err: unknown) => console.error('  subscription failed:', err instanceof Error ? err.message : JSON.stringify(err)),
            complete: () => {},
          },
        ),
      );
    };
    for (const n of STEPS) {
      target = n;
      const socketsWanted = Math.min(n, MAX_SOCKETS);
      // Top up to the connections wanted, then spread the subscriptions over them round-robin.
      while (clients.length < socketsWanted) {
        const batch = Math.min(500, socketsWanted - clients.length);
        await Promise.all(Array.from({ length: batch }, connect));
      }
      while (subscribers < n) {
        const batch = Math.min(500, n - subscribers);
        for (let i = 0; i < batch; i++) subscribe(clients[subscribers % clients.length] as Client);
        // Let the gateway take them in before the next batch.
        await new Promise((r) => setTimeout(r, 50));
      }
      // A warm-up reply first: once every subscriber has its event, all subscriptions are live.
      const round = async (label: string): Promise<number> => {
        arrivals.length = 0;
        const all = new Promise<void>((resolve) => (waiting = resolve));
        const started = performance.now();
        const res = await fetch(`${sys.gateway}/api/core/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
          body: JSON.stringify({ message: `fanout ${n} ${label}`, conversation_id: conversationId }),
        });
        await res.text();
        await Promise.race([all, new Promise((r) => setTimeout(r, label === 'warm-up' ? 120_000 : 30_000))]);
        return started;
      };
      await round('warm-up');
      const started = await round('measured');
      const first = Math.min(...arrivals);
      const spread = arrivals.map((t) => t - first);
      const fromRequest = arrivals.map((t) => t - started);
      const rss = rssMb(sys.gatewayPid);
      const p99 = { spread: percentile(spread, 99), fromRequest: percentile(fromRequest, 99) };
      console.log(
        `  N=${String(n).padStart(6)} on ${clients.length} connections  received ${arrivals.length}/${n}` +
          `  spread p50 ${percentile(spread, 50).toFixed(1)} ms  p99 ${p99.spread.toFixed(1)} ms` +
          `  from request p50 ${percentile(fromRequest, 50).toFixed(1)} ms  p99 ${p99.fromRequest.toFixed(1)} ms  gateway RSS ${rss} MB`,
      );
      const t = TARGETS[n];
      if (t) {
        const parts = [`from request p99 ${(p99.fromRequest / t.fromRequest).toFixed(2)}× of ${t.fromRequest} ms`];
        if (t.spread) parts.push(`spread p99 ${(p99.spread / t.spread).toFixed(2)}× of ${t.spread} ms`);
        if (t.rssMb) parts.push(`RSS ${(rss / t.rssMb).toFixed(2)}× of ${t.rssMb} MB`);
        console.log(`           against the targets (≤ 1.00× meets): ${parts.join(', ')}`);
      }
      if (arrivals.length === n) largest = n;
    }
    console.log(`largest N with every subscriber served: ${largest}`);
  } finally {
    for (const stop of stops) stop();
    await Promise.all(clients.map((c) => c.dispose()));
    await sys.stop();
  }
}
