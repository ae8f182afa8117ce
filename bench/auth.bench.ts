/**
 * `npm run bench -- auth [clients] [--pg]`: `/api/health` latency while many clients register and
 * log in at once (argon2id hashing is CPU-bound; the target is health p99 ≤ 100 ms on a 2-core
 * machine). The whole stack runs in this process as `npm start` runs it, on embedded PostgreSQL,
 * or with `--pg` on the real PostgreSQL and Redis of the services suite
 * (`DATABASE_URL_SERVICES`, `REDIS_URL_SERVICES`).
 *
 * 1. Baseline: 200 health checks, one at a time, on the idle stack.
 * 2. Load: `clients` (default 200) clients each register and log in through REST, all at once,
 *    while a prober asks `/api/health` every 20 ms (one at a time) until they are done.
 * Prints health p50/p99 idle and under load, their ratio, and the auth throughput.
 */
import { percentile } from './distributed.ts';

const args = process.argv.slice(3);
const CLIENTS = Number(args.find((a) => /^\d+$/.test(a)) ?? 200);
if (args.includes('--pg')) process.env.XENTREE_TEST_SERVICES = '1';
const { newUser, startTestStack } = await import('../test/harness.ts');

async function timed(url: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`health answered ${res.status}`);
  return performance.now() - start;
}

const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

export async function run(): Promise<void> {
  const t = await startTestStack();
  try {
    const health = `${t.url}/api/health`;
    console.log(`auth bench: whole stack in one process (${process.env.XENTREE_TEST_SERVICES === '1' ? 'PostgreSQL + Redis' : 'embedded PostgreSQL'}); ${CLIENTS} clients register and log in at once`);
    for (let i = 0; i < 20; i++) await timed(health); // warm-up
    const idle: number[] = [];
    for (let i = 0; i < 200; i++) idle.push(await timed(health));

    let done = false;
    const underLoad: number[] = [];
    const prober = (async () => {
      while (!done) {
        underLoad.push(await timed(health));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const started = performance.now();
    const failures: number[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const u = newUser(`ab${i}`);
        const reg = await t.rest('POST', '/api/auth/register', { json: u });
        const login = await t.rest('POST', '/api/auth/login', { form: { username: u.username, password: u.password } });
        if (reg.status !== 201) failures.push(reg.status);
        if (login.status !== 200) failures.push(login.status);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    done = true;
    await prober;

    const idleP99 = percentile(idle, 99);
    const loadP99 = percentile(underLoad, 99);
    console.log(`register + login: ${CLIENTS} clients in ${seconds.toFixed(1)} s (${((CLIENTS * 2) / seconds).toFixed(1)} auth requests/s), ${failures.length} failed${failures.length ? ` (${[...new Set(failures)].join(', ')})` : ''}`);
    console.log(`/api/health idle:       p50 ${fmt(percentile(idle, 50))}  p99 ${fmt(idleP99)}  (${idle.length} requests)`);
    console.log(`/api/health under load: p50 ${fmt(percentile(underLoad, 50))}  p99 ${fmt(loadP99)}  (${underLoad.length} requests)`);
    console.log(`under load / idle: p99 ×${(loadP99 / idleP99).toFixed(1)}; target p99 ≤ 100 ms: ${loadP99 <= 100 ? 'met' : 'NOT met'}`);
  } finally {
    await t.close();
  }
}
