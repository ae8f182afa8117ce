/**
 * CPU time of this process and of its child processes (the topology a benchmark started), from
 * Linux /proc, so a benchmark can print which process the CPU went to while it measured.
 */
import { readdirSync, readFileSync } from 'node:fs';

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

/** A child's name: what follows the CLI's script in its command line (`subgraph live`, `gateway`). */
function nameOf(pid: number): string {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const script = args.findIndex((a) => a.endsWith('xentree.ts') || a.endsWith('xentree.js'));
  return script >= 0 ? args.slice(script + 1).join(' ') : `pid ${pid}`;
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
      seconds.set(nameOf(pid), cpuSecondsOf(pid));
    } catch {
      // The child exited between listing and reading.
    }
  }
  return { at: performance.now(), seconds };
}

/** Each process's CPU use between two snapshots, in percent of one core, busiest first. */
export function cpuUse(from: CpuSnapshot, to: CpuSnapshot): { name: string; percent: number }[] {
  const wall = (to.at - from.at) / 1000;
  return [...to.seconds]
    .map(([name, s]) => ({ name, percent: (100 * (s - (from.seconds.get(name) ?? 0))) / wall }))
    .sort((a, b) => b.percent - a.percent);
}

/**
 * With BENCH_CPU_PROF_DIR=dir set, the environment that makes each process a benchmark starts
 * write a V8 CPU profile there when it exits (bench/cpu-profile.mjs); otherwise nothing.
 */
export function profilingEnv(): Record<string, string> {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  return dir ? { BENCH_CPU_PROF_DIR: dir, NODE_OPTIONS: `--import ${new URL('./cpu-profile.mjs', import.meta.url).pathname}` } : {};
}
