/**
 * The one-statement heartbeat commits asynchronously, and only itself: it turns
 * `synchronous_commit` off for its own transaction and the connection keeps `on` for every
 * statement after it (embedded PostgreSQL, whose pool has one connection, so "after" is certain).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../kernel/config.ts';
import { closeEmbeddedPostgres, createOrm, type MikroORM } from '../../kernel/db.ts';
import { createLogger } from '../../kernel/logger.ts';
import { live } from './index.ts';
import { creditHeartbeat } from './session.store.ts';

let orm: MikroORM;
const period = new Date(Date.UTC(2026, 11, 1));

beforeAll(async () => {
  const config = loadConfig({ NODE_ENV: 'test', XENTREE_PGLITE: 'memory' });
  orm = await createOrm(config, { schema: 'live', entities: live.entities, migrations: live.migrations }, createLogger('silent'));
});

afterAll(async () => {
  await orm?.close(true);
  await closeEmbeddedPostgres();
});

/** An active session whose last heartbeat was `secondsAgo` before `now`, with its month's usage row. */
async function activeSession(now: Date, secondsAgo: number): Promise<{ id: string; userId: string }> {
  const id = randomUUID();
  const userId = randomUUID();
  const last = new Date(now.getTime() - secondsAgo * 1000);
  const em = orm.em.fork();
  await em.execute(`insert into "live"."sessions" ("id", "user_id", "session_type", "plan", "started_at", "last_heartbeat_at") values (?, ?, 'voice', 'free', ?, ?)`, [id, userId, last, last]);
  await em.execute(`insert into "live"."usage" ("user_id", "period_start", "used_seconds") values (?, ?, 100)`, [userId, period]);
  return { id, userId };
}

const setting = async (em: ReturnType<MikroORM['em']['fork']>): Promise<string> =>
  (await em.execute<{ v: string }[]>(`select current_setting('synchronous_commit') as "v"`))[0]?.v ?? '';

describe('creditHeartbeat', () => {
  it('turns synchronous_commit off for its own transaction only', async () => {
    const now = new Date(Date.UTC(2026, 11, 6, 12));
    const inside = await activeSession(now, 5);
    // Inside an explicit transaction the setting it made is visible until that transaction ends…
    const seen = await orm.em.fork().transactional(async (tx) => {
      const credit = await creditHeartbeat(tx, inside.userId, inside.id, now, period, 1800, now);
      expect(credit?.credited).toBe(5);
      return setting(tx);
    });
    expect(seen).toBe('off');
    // …and autocommitted, as the service runs it, the next statement on the connection has it on.
    const em = orm.em.fork();
    const alone = await activeSession(now, 7);
    const credit = await creditHeartbeat(em, alone.userId, alone.id, now, period, 1800, now);
    expect(credit).toMatchObject({ usedBefore: 100, credited: 7 });
    expect(credit?.session.billedSeconds).toBe(7);
    expect(await setting(em)).toBe('on');
  });
});
