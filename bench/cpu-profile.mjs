/**
 * `node --import ./bench/cpu-profile.mjs`: a V8 CPU profile of the whole process, written to
 * $BENCH_CPU_PROF_DIR/<pid>.cpuprofile when it exits. Node 20 refuses `--cpu-prof` in NODE_OPTIONS,
 * and the benchmarks start subgraphs through the CLI, so this is how they profile them.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // The main thread's inspector session answers synchronously, so this completes inside 'exit'.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
