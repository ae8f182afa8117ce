/**
 * CPU time of this process and of its child processes (the topology a benchmark started), from
 * Linux /proc, so a benchmark can print which process the CPU went to while it measured.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

/** /proc reports utime and stime in clock ticks; Linux's USER_HZ is 100 on every common build. */
const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  at: number;
  /** CPU seconds used so far, by process name. */
  seconds: Map<string, number>;
}

/** The child processes' pids (every thread's children). */
function childPids(): number[] {
  const pids = new Set<number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const text = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
    for (const pid of text ? text.split(/\s+/) : []) pids.add(Number(pid));
  }
  return [...pids];
}

/**
 * A child's name: what follows the CLI's script in its command line (`subgraph live`, `gateway`),
 * or for another script its file's name (`bare-proxy`).
 */
function nameOf(pid: number): string {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const script = args.findIndex((a) => a.endsWith('xentree.ts') || a.endsWith('xentree.js'));
  if (script >= 0) return args.slice(script + 1).join(' ');
  // The last script named: an `--import`ed one (a profiler) comes before it.
  const other = args.slice(1).findLast((a) => /\.[cm]?[jt]s$/.test(a));
  return other ? path.basename(other).replace(/\.[cm]?[jt]s$/, '') : `pid ${pid}`;
}

function cpuSecondsOf(pid: number): number {
  // Fields after the parenthesised command: utime and stime are the 14th and 15th of the line.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

export function cpuSnapshot(): CpuSnapshot {
  const seconds = new Map<string, number>();
  const own = process.cpuUsage();
  seconds.set('load generator', (own.user + own.system) / 1e6);
  for (const pid of childPids()) {
    try {
      // Processes of one name (a benchmark's several gateways) add up.
      const name = nameOf(pid);
      seconds.set(name, (seconds.get(name) ?? 0) + cpuSecondsOf(pid));
    } catch {
      // The child exited between listing and reading.
    }
  }
  return { at: performance.now(), seconds };
}

/**
 * CPU seconds used so far by the PostgreSQL backends serving `url`'s database (null without one,
 * on PGlite): on PostgreSQL the statements' work happens there, outside the processes
 * `cpuSnapshot` sees.
 */
async function postgresCpuSeconds(url: string | null): Promise<Map<number, number> | null> {
  if (!url) return null;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    const seconds = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        seconds.set(pid, cpuSecondsOf(pid));
      } catch {
        // A backend that ended meanwhile.
      }
    }
    return seconds;
  } finally {
    await c.end();
  }
}

/** CPU seconds one process (or the PostgreSQL backends together) used while a meter ran. */
export interface CpuUsed {
  name: string;
  seconds: number;
}

/**
 * Starts counting CPU: this process (`load generator`), its children by name and, given a
 * PostgreSQL URL, the backends serving that database (`PostgreSQL backends`). The function it
 * returns gives each one's CPU seconds since, busiest first. A backend opened meanwhile counts
 * whole and one closed meanwhile is missed.
 */
export async function cpuMeter(databaseUrl: string | null): Promise<() => Promise<CpuUsed[]>> {
  const from = cpuSnapshot();
  const pgFrom = await postgresCpuSeconds(databaseUrl);
  return async () => {
    const to = cpuSnapshot();
    const pgTo = await postgresCpuSeconds(databaseUrl);
    const used = [...to.seconds].map(([name, s]) => ({ name, seconds: s - (from.seconds.get(name) ?? 0) }));
    if (pgFrom && pgTo) used.push({ name: 'PostgreSQL backends', seconds: [...pgTo].reduce((n, [pid, s]) => n + s - (pgFrom.get(pid) ?? 0), 0) });
    return used.sort((a, b) => b.seconds - a.seconds);
  };
}

/** "name 0.12, name 0.08; total 0.20": each process's CPU milliseconds per `count` (requests, heartbeats), those under 0.01 left out. */
export function perUnit(used: readonly CpuUsed[], count: number): string {
  const ms = (u: CpuUsed) => (1000 * u.seconds) / Math.max(1, count);
  const shown = used.filter((u) => ms(u) >= 0.01);
  return `${shown.map((u) => `${u.name} ${ms(u).toFixed(2)}`).join(', ')}; total ${used.reduce((n, u) => n + ms(u), 0).toFixed(2)}`;
}

/**
 * With BENCH_CPU_PROF_DIR=dir set, the environment that makes each process a benchmark starts
 * write a V8 CPU profile there when it exits (bench/cpu-profile.mjs); otherwise nothing.
 */
export function profilingEnv(): Record<string, string> {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  return dir ? { BENCH_CPU_PROF_DIR: dir, NODE_OPTIONS: `--import ${new URL('./cpu-profile.mjs', import.meta.url).pathname}` } : {};
}
