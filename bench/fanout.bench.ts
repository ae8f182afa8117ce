/**
 * `npm run bench -- fanout`: N concurrent client subscriptions (`messageAdded` of one
 * conversation, same user) on one gateway process; one reply is stored and its events published
 * once. Prints, per N, the time until every client has the event (p50/p99, measured from the
 * first client's arrival and from the request) and the gateway's RSS. Targets (issue): p99 ≤ 250 ms
 * at 10 000 clients, RSS ≤ 1 GB. N steps: BENCH_FANOUT_STEPS (default 100,1000,10000).
 */
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { benchUser, percentile, rssMb, startDistributed } from './distributed.ts';

const STEPS = (process.env.BENCH_FANOUT_STEPS ?? '100,1000,10000').split(',').map(Number).filter((n) => n > 0);

export async function run(): Promise<void> {
  const sys = await startDistributed();
  const clients: Client[] = [];
  try {
    const user = await benchUser(sys.gateway);
    const conv = await fetch(`${sys.gateway}/api/core/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ title: 'fanout' }),
    });
    const { id: conversationId } = (await conv.json()) as { id: string };
    const wsUrl = `${sys.gateway.replace('http', 'ws')}/graphql`;
    console.log(`fanout bench: messageAdded subscriptions of one conversation; gateway RSS idle ${rssMb(sys.gatewayPid)} MB`);
    let largest = 0;
    // Shared by every client's callback across steps (clients outlive the step that opened them).
    const arrivals: number[] = [];
    let waiting: (() => void) | null = null;
    let target = 0;
    for (const n of STEPS) {
      target = n;
      // Top up to n clients (each its own WebSocket connection).
      while (clients.length < n) {
        const batch = Math.min(500, n - clients.length);
        await Promise.all(
          Array.from({ length: batch }, async () => {
            const c = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${user.token}` }, retryAttempts: 0, lazy: false });
            clients.push(c);
            await new Promise<void>((resolve, reject) => {
              c.on('connected', () => resolve());
              c.on('closed', () => reject(new Error('closed')));
            });
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
                error: () => {},
                complete: () => {},
              },
            );
          }),
        );
      }
      // A warm-up reply first: once every client has its event, all subscriptions are live.
      const round = async (label: string): Promise<number> => {
        arrivals.length = 0;
        const started = performance.now();
        const all = new Promise<void>((resolve) => (waiting = resolve));
        const res = await fetch(`${sys.gateway}/api/core/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
          body: JSON.stringify({ message: `fanout ${n} ${label}`, conversation_id: conversationId }),
        });
        await res.text();
        await Promise.race([all, new Promise((r) => setTimeout(r, 30_000))]);
        return started;
      };
      await round('warm-up');
      const started = await round('measured');
      const first = Math.min(...arrivals);
      const spread = arrivals.map((t) => t - first);
      const fromRequest = arrivals.map((t) => t - started);
      console.log(
        `  N=${String(n).padStart(6)}  received ${arrivals.length}/${n}  spread p50 ${percentile(spread, 50).toFixed(1)} ms  p99 ${percentile(spread, 99).toFixed(1)} ms` +
          `  from request p50 ${percentile(fromRequest, 50).toFixed(1)} ms  p99 ${percentile(fromRequest, 99).toFixed(1)} ms  gateway RSS ${rssMb(sys.gatewayPid)} MB`,
      );
      if (arrivals.length === n) largest = n;
    }
    console.log(`largest N with every client served: ${largest} (targets: p99 <= 250 ms at 10000, RSS <= 1024 MB)`);
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await sys.stop();
  }
}
