/**
 * `npm run bench -- gateways [--duration S=20] [--warmup S=10] [--connections N=16] [--only a,b] [--json FILE]`:
 * the public federation benchmark's heavy query (four in-memory subgraphs, an ~88 KB answer)
 * through this project's gateway and its JavaScript peers (stock @apollo/gateway + @apollo/server,
 * @graphql-hive/gateway-runtime, and the same with @graphql-hive/router-runtime's Rust planner),
 * each in its own process, one after another, with the same load generator. Every request has a
 * unique credential the gateway must pass on, and every answer is compared byte for byte with a
 * direct execution of the query. Setup and what each gateway runs with: bench/GATEWAYS.md.
 * BENCH_CPU_PROF_DIR=dir writes a CPU profile of each gateway process there.
 */
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { benchNodeLabel } from './compiled.ts';
import { HEAVY_BODY } from './gateways/graph.ts';
import { canPin, cpuMs, heavyQuery, isReference, peakRssMb, pin, startGateway, startSetup, type BenchSetup } from './gateways/processes.ts';
import { GATEWAYS, type GatewayName } from './gateways/serve.ts';

interface Options {
  duration: number;
  warmup: number;
  connections: number;
  only: GatewayName[];
  json: string | null;
}

/** Side figures printed but not in the JSON: the subgraphs' own CPU, to show they are not the cap. */
const subgraphCpuMsPer1k = new Map<GatewayName, number>();

export interface Figures {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  cpuMsPer1k: number;
  peakRssMb: number;
}

function options(argv: string[]): Options {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = value('--only')?.split(',').filter(Boolean) ?? [...GATEWAYS];
  const unknown = only.filter((g) => !(GATEWAYS as readonly string[]).includes(g));
  if (unknown.length > 0) throw new Error(`unknown gateway(s) ${unknown.join(', ')} (known: ${GATEWAYS.join(', ')})`);
  return {
    duration: Number(value('--duration') ?? process.env.BENCH_DURATION ?? 20),
    warmup: Number(value('--warmup') ?? 10),
    connections: Number(value('--connections') ?? process.env.BENCH_CONNECTIONS ?? 16),
    only: only as GatewayName[],
    json: value('--json') ?? null,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** One load run: every request carries a fresh `authorization` / `x-request-id`, every body must equal `expected`. */
async function load(url: string, seconds: number, connections: number, expected: string) {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        connections,
        duration: seconds,
        // A slow gateway at many connections queues for seconds; that is latency, not a failure.
        timeout: 60,
        // autocannon replaces `[<id>]` with a fresh id on every request.
        idReplacement: true,
        headers: { 'content-type': 'application/json', authorization: 'bench-[<id>]', 'x-request-id': 'bench-[<id>]' },
        body: HEAVY_BODY,
        expectBody: expected,
      },
      (err, res) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  latencies.sort((a, b) => a - b);
  return { result, latencies };
}

async function measure(name: GatewayName, setup: BenchSetup, opts: Options, gatewayCpu: number | null): Promise<Figures> {
  const { url, proc } = await startGateway(name, setup, gatewayCpu);
  try {
    // Correctness first: a gateway that answers anything else is not measured.
    let expected = '';
    for (let i = 0; i < 3; i++) {
      const { status, body } = await heavyQuery(url);
      if (status !== 200 || !isReference(body, setup.reference)) throw new Error(`wrong answer (HTTP ${status}): ${body.slice(0, 300)}`);
      expected = body;
    }
    if (opts.warmup > 0) await load(url, opts.warmup, opts.connections, expected);
    const cpuBefore = cpuMs(proc.pid);
    const subgraphCpuBefore = cpuMs(setup.subgraphs.pid);
    const { result, latencies } = await load(url, opts.duration, opts.connections, expected);
    const cpu = cpuMs(proc.pid) - cpuBefore;
    subgraphCpuMsPer1k.set(name, ((cpuMs(setup.subgraphs.pid) - subgraphCpuBefore) / Math.max(1, result.requests.total)) * 1000);
    const failed = result.errors + result.timeouts + result.non2xx + result.mismatches;
    if (failed > 0) throw new Error(`${failed} of ${result.requests.total} responses failed (errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}, wrong body ${result.mismatches})`);
    return {
      rps: result.requests.total / opts.duration,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      cpuMsPer1k: (cpu / result.requests.total) * 1000,
      peakRssMb: peakRssMb(proc.pid),
    };
  } finally {
    await proc.stop();
  }
}

const fixed = (n: number, d = 1) => n.toFixed(d);

function printTable(rows: [GatewayName, Figures][]): void {
  console.log(`\n${'gateway'.padEnd(16)}${'RPS'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'CPU s/1k req'.padStart(14)}${'peak RSS MB'.padStart(13)}`);
  for (const [name, f] of rows) {
    console.log(`${name.padEnd(16)}${fixed(f.rps).padStart(9)}${fixed(f.p50).padStart(9)}${fixed(f.p95).padStart(9)}${fixed(f.p99).padStart(9)}${fixed(f.cpuMsPer1k / 1000, 2).padStart(14)}${fixed(f.peakRssMb, 0).padStart(13)}`);
  }
  if (rows.length < 2) return;
  const metrics: [string, (f: Figures) => number, string][] = [
    ['RPS', (f) => f.rps, 'higher is better'],
    ['CPU per request', (f) => f.cpuMsPer1k, 'lower is better'],
    ['peak RSS', (f) => f.peakRssMb, 'lower is better'],
  ];
  for (const [label, get, sense] of metrics) {
    console.log(`\n${label} ratio, row / column (${sense}):`);
    console.log(`${''.padEnd(16)}${rows.map(([n]) => n.padStart(16)).join('')}`);
    for (const [name, f] of rows) console.log(`${name.padEnd(16)}${rows.map(([, g]) => `${fixed(get(f) / get(g), 2)}x`.padStart(16)).join('')}`);
  }
}

export async function run(): Promise<void> {
  const opts = options(process.argv.slice(3));
  // Gateway on core 0; the load generator (this process) and the subgraphs share core 1.
  const pinned = canPin && availableParallelism() >= 2;
  const [gatewayCpu, loadCpu] = pinned ? [0, 1] : [null, null];
  if (pinned) pin(process.pid, loadCpu);
  console.log(`gateways bench (${benchNodeLabel()}): heavy query (~88 KB answer), ${opts.connections} connections, ${opts.warmup} s warm-up + ${opts.duration} s per gateway`);
  console.log(pinned ? 'CPU pinning: gateway on CPU 0, load generator and subgraphs on CPU 1 (taskset)' : 'CPU pinning: none (no taskset or a single CPU)');
  const setup = await startSetup(loadCpu);
  const rows: [GatewayName, Figures][] = [];
  const failures: string[] = [];
  try {
    for (const name of opts.only) {
      process.stdout.write(`  ${name}: `);
      try {
        const f = await measure(name, setup, opts, gatewayCpu);
        rows.push([name, f]);
        console.log(`${fixed(f.rps)} req/s, every response correct (subgraphs' CPU ${fixed((subgraphCpuMsPer1k.get(name) ?? 0) / 1000, 2)} s / 1k req)`);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        failures.push(`${name}: ${message}`);
        console.log(`FAILED: ${message}`);
      }
    }
  } finally {
    await setup.close();
  }
  printTable(rows);
  if (failures.length > 0) console.log(`\nnot measured:\n${failures.map((f) => `  ${f}`).join('\n')}`);
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify(Object.fromEntries(rows.map(([n, f]) => [n, f])), null, 2)}\n`);
    console.log(`\nwrote ${opts.json}`);
  }
  if (failures.length > 0) process.exitCode = 1;
}
