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
 * that no source address runs out of ephemeral ports. BENCH_FANOUT_BURST=1 sends each step's
 * subscriptions all at once rather than paced behind requests to the gateway.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { benchUser, percentile, rssMb, startDistributed } from './distributed.ts';
import { benchNodeLabel } from './compiled.ts';
import { profilingEnv } from './process-cpu.ts';

/** A process's user + system CPU so far, in ms (Linux /proc; clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const USER_ROLE = Buffer.from('"role":"USER"', 'utf8');
const NEXT_HEAD = Buffer.from('{"id"', 'utf8');
const NEXT_TYPE = Buffer.from('"type":"next"', 'utf8');
const ERRORS = Buffer.from('"errors"', 'utf8');

const STEPS = (process.env.BENCH_FANOUT_STEPS ?? '100,1000,10000,50000').split(',').map(Number).filter((n) => n > 0);
const MAX_SOCKETS = Number(process.env.BENCH_FANOUT_MAX_SOCKETS ?? 12_000);
const SOURCES = Number(process.env.BENCH_FANOUT_SOURCES ?? 4);
const BURST = process.env.BENCH_FANOUT_BURST === '1';
const TARGETS: Record<number, { fromRequest: number; spread?: number; rssMb?: number }> = { 10_000: { fromRequest: 250, spread: 150 }, 50_000: { fromRequest: 1000, rssMb: 1024 } };

/**
 * A minimal graphql-transport-ws client (connection_init, subscribe, then only `next` frames
 * looked at as text): the graphql-ws client parses and validates every message, and with 10,000
 * subscribers in this one process its own work would be most of the measured spread.
 */
class Connection {
  private nextId = 0;

  private constructor(readonly ws: WebSocket) {}

  static open(url: string, localAddress: string, authorization: string, onNext: (frame: Buffer, at: number) => void): Promise<Connection> {
    // No UTF-8 validation of received frames: the bench's own receiving is not what it measures.
    const ws = new WebSocket(url, 'graphql-transport-ws', { localAddress, handshakeTimeout: 60_000, skipUTF8Validation: true, perMessageDeflate: false });
    const conn = new Connection(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization } })));
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`closed with ${code} before connection_ack`)));
      ws.on('message', (data: Buffer) => {
        // The arrival time first, before this process does anything with the frame.
        const at = performance.now();
        if (data.subarray(0, NEXT_HEAD.length).equals(NEXT_HEAD)) return onNext(data, at);
        const type = (JSON.parse(data.toString('utf8')) as { type?: string }).type;
        if (type === 'connection_ack') {
          ws.removeAllListeners('close');
          ws.removeAllListeners('error');
          ws.on('error', (err) => console.error(`  connection error: ${err.message}`));
          ws.on('close', (code) => code !== 1000 && console.error(`  connection closed with ${code}`));
          resolve(conn);
        } else if (type === 'ping') ws.send('{"type":"pong"}');
      });
    });
  }

  subscribe(query: string, variables: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ id: String(++this.nextId), type: 'subscribe', payload: { query, variables } }));
  }
}

export async function run(): Promise<void> {
  // BENCH_CPU_PROF_DIR=dir: a V8 CPU profile of every process of the topology (bench/cpu-profile.mjs).
  const profiling = profilingEnv();
  const sys = await startDistributed(profiling);
  const clients: Connection[] = [];
  try {
    const user = await benchUser(sys.gateway);
    const conv = await fetch(`${sys.gateway}/api/core/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ title: 'fanout' }),
    });
    const { id: conversationId } = (await conv.json()) as { id: string };
    const wsUrl = `${sys.gateway.replace('http', 'ws')}/graphql`;
    console.log(`fanout bench (${benchNodeLabel()}): messageAdded subscriptions of one conversation; at most ${MAX_SOCKETS} connections from ${SOURCES} source addresses; gateway RSS idle ${rssMb(sys.gatewayPid)} MB`);
    let largest = 0;
    // Shared by every subscriber's callback across steps (subscribers outlive the step that opened them).
    const arrivals: number[] = [];
    let waiting: (() => void) | null = null;
    let target = 0;
    let subscribers = 0;
    const onNext = (frame: Buffer, at: number): void => {
      // The USER message of each round (the assistant's reply follows it).
      if (frame.includes(USER_ROLE)) {
        arrivals.push(at);
        if (arrivals.length === target) waiting?.();
      } else if (!frame.includes(NEXT_TYPE) || frame.includes(ERRORS)) console.error(`  subscription failed: ${frame.toString('utf8', 0, 300)}`);
    };
    const connect = async (): Promise<void> => {
      clients.push(await Connection.open(wsUrl, `127.0.0.${(clients.length % SOURCES) + 1}`, `Bearer ${user.token}`, onNext));
    };
    const query = 'subscription($c: ID!) { messageAdded(conversationId: $c) { id role } }';
    for (const n of STEPS) {
      target = n;
      const socketsWanted = Math.min(n, MAX_SOCKETS);
      // Top up to the connections wanted, then spread the subscriptions over them round-robin.
      while (clients.length < socketsWanted) {
        const batch = Math.min(500, socketsWanted - clients.length);
        await Promise.all(Array.from({ length: batch }, connect));
        if (clients.length % 2000 === 0) console.log(`    ${clients.length} connections open`);
      }
      while (subscribers < n) {
        const batch = Math.min(500, n - subscribers);
        for (let i = 0; i < batch; i++) {
          clients[subscribers % clients.length]?.subscribe(query, { c: conversationId });
          subscribers += 1;
        }
        // Let the gateway take them in before the next batch: a request behind them on its event
        // loop answers once it has. BENCH_FANOUT_BURST=1 sends them all at once instead, as a
        // test of the gateway's own pacing: a backlog of many seconds used to delay its pongs to
        // the subgraph, which then dropped the upstream subscription and every subscriber with it.
        if (BURST) await new Promise((r) => setImmediate(r));
        else await fetch(`${sys.gateway}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' }).then((r) => r.text());
        if (subscribers % 5000 === 0) console.log(`    ${subscribers} subscriptions sent`);
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
        await Promise.race([all, new Promise((r) => setTimeout(r, label !== 'warm-up' ? 30_000 : BURST ? 10_000 : 120_000))]);
        return started;
      };
      await round('warm-up');
      console.log(`    warm-up event reached ${arrivals.length}/${n} subscribers`);
      // After a burst the gateway may still be taking subscriptions in (paced): warm up again until
      // one event reaches them all (an upstream lost in the burst would show here as errors).
      for (let again = 0; BURST && arrivals.length < n && again < 12; again++) {
        await round('warm-up');
        console.log(`    warm-up event reached ${arrivals.length}/${n} subscribers`);
      }
      // CPU of the gateway and of this (receiving) process over the measured round: whether the
      // spread is the gateway's writing or this process's reading of N frames.
      const cpuBefore = { gateway: cpuMsOf(sys.gatewayPid), bench: process.cpuUsage() };
      const started = await round('measured');
      const benchCpu = process.cpuUsage(cpuBefore.bench);
      const cpu = { gateway: cpuMsOf(sys.gatewayPid) - cpuBefore.gateway, bench: Math.round((benchCpu.user + benchCpu.system) / 1000) };
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
      console.log(`           CPU over the round (request to last arrival or timeout): gateway ${cpu.gateway} ms, this receiving process ${cpu.bench} ms`);
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
    for (const c of clients) {
      // Closed by this bench now (1006 on terminate): not worth a line each.
      c.ws.removeAllListeners('close');
      c.ws.terminate();
    }
    await sys.stop();
  }
}
