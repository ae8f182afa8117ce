/**
 * `npm run bench -- learning [requests]`: XP reads against the size of a user's ledger. The whole
 * stack runs in this process (embedded PostgreSQL, or the server of `DATABASE_URL` when set).
 * Two users: one with 1 000 ledger rows and one with 100 000 (spread over three years, with one
 * ended session per ten rows). For each, `requests` (default 300) sequential calls of XP-1
 * (profile), XP-5 (the 365-day pulse) and XP-7 (learning time over 366 days) through REST:
 * p50/p99, the 100k/1k ratio (target ≤ 2×: aggregates in SQL over indexes, not rows summed in
 * JavaScript), and the SQL statements the learning subgraph ran per request (target: the same
 * for both users).
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import { startTestStack, type TestStack } from '../test/harness.ts';
import { learner } from '../test/learning-fixtures.ts';
import { percentile } from './distributed.ts';

const DAYS = 1095;

/** `n` ledger rows over the last three years and one ended session per ten rows, as awards would leave them. */
async function seed(orm: MikroORM, userId: string, n: number): Promise<void> {
  const conn = orm.em.fork().getConnection();
  await conn.execute(
    `insert into "learning"."ledger" ("id", "user_id", "source", "source_id", "base_xp", "multiplier", "xp", "local_date", "recorded_at")
     select gen_random_uuid(), ?::uuid, (array['xel_task', 'chat_session', 'xel_session', 'live_session', 'quest'])[1 + i % 5], ? || '-' || i, 5, 1, 5,
       current_date - (i % ${DAYS}), now() - make_interval(days => i % ${DAYS})
     from generate_series(1, ?::int) i`,
    [userId, `seed-${userId}`, n],
  );
  await conn.execute(
    `insert into "learning"."sessions" ("source", "source_id", "user_id", "started_at", "seconds", "start_date", "end_date")
     select (array['chat', 'xel', 'live'])[1 + i % 3], ? || '-' || i, ?::uuid, now() - make_interval(days => i % ${DAYS}), 300, current_date - (i % ${DAYS}), current_date - (i % ${DAYS})
     from generate_series(1, ?::int) i`,
    [`seed-${userId}`, userId, Math.floor(n / 10)],
  );
  await conn.execute(`insert into "learning"."profiles" ("user_id", "xp") values (?, ?) on conflict ("user_id") do update set "xp" = excluded."xp"`, [userId, n * 5]);
  await conn.execute(`analyze "learning"."ledger"`);
  await conn.execute(`analyze "learning"."sessions"`);
}

export async function run(): Promise<void> {
  const requests = Number(process.argv[3] ?? 300);
  let counting = false;
  let statements = 0;
  const t: TestStack = await startTestStack({
    env: { LOG_LEVEL: 'warn', RATE_LIMIT_DEFAULT: '100000000/60', ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}) },
    onQuery: (subgraph) => {
      if (counting && subgraph === 'learning') statements += 1;
    },
  });
  const orm = t.stack.subgraphs.find((s) => s.name === 'learning')?.orm;
  const seeded: string[] = [];
  try {
    if (!orm) throw new Error('learning is not running');
    const small = await learner(t);
    const large = await learner(t);
    seeded.push(small.id, large.id);
    const started = Date.now();
    await seed(orm, small.id, 1_000);
    await seed(orm, large.id, 100_000);
    console.log(`learning bench: ${process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : 'embedded PostgreSQL'}; seeded 1 000 and 100 000 ledger rows in ${((Date.now() - started) / 1000).toFixed(1)} s; ${requests} requests per figure`);

    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 365 * 86_400_000).toISOString().slice(0, 10);
    const endpoints: [string, string][] = [
      ['XP-1 profile', '/api/xp/profile'],
      ['XP-5 pulse (365 days)', '/api/xp/learning-pulse'],
      ['XP-7 learning time (366 days)', `/api/xp/learning-time?start_date=${from}&end_date=${today}`],
    ];
    /** SQL statements learning runs for one request. */
    const count = async (headers: Record<string, string>, path: string): Promise<number> => {
      counting = true;
      statements = 0;
      const res = await t.rest('GET', path, { headers });
      counting = false;
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text.slice(0, 200)}`);
      return statements;
    };
    const ms = (x: number) => `${x.toFixed(2)} ms`.padStart(10);
    const ratio = (x: number) => `${x.toFixed(2)}×`.padStart(9);
    console.log(`${'endpoint'.padEnd(32)}${'1k p50'.padStart(10)}${'1k p99'.padStart(10)}${'100k p50'.padStart(10)}${'100k p99'.padStart(10)}  ratio p50  ratio p99  SQL/request (1k, 100k)`);
    for (const [name, path] of endpoints) {
      // Interleaved, so both users meet the same machine load.
      const times: [number[], number[]] = [[], []];
      for (let i = 0; i < requests + 20; i++) {
        for (const [j, user] of [small, large].entries()) {
          const t0 = performance.now();
          await t.rest('GET', path, { headers: user.headers });
          if (i >= 20) times[j]!.push(performance.now() - t0); // the first 20 warm up
        }
      }
      const sql = [await count(small.headers, path), await count(large.headers, path)];
      const [a, b] = times.map((x) => ({ p50: percentile(x, 50), p99: percentile(x, 99) })) as [{ p50: number; p99: number }, { p50: number; p99: number }];
      console.log(`${name.padEnd(32)}${ms(a.p50)}${ms(a.p99)}${ms(b.p50)}${ms(b.p99)}  ${ratio(b.p50 / a.p50)}  ${ratio(b.p99 / a.p99)}  ${sql[0]}, ${sql[1]}`);
    }
  } finally {
    // On a server of its own (DATABASE_URL), the bench takes its rows away again.
    const conn = orm?.em.fork().getConnection();
    for (const table of ['ledger', 'sessions', 'daily_xp', 'daily_learning', 'profiles']) {
      if (conn && seeded.length > 0) await conn.execute(`delete from "learning"."${table}" where "user_id" in (?, ?)`, seeded);
    }
    await t.close();
  }
}
