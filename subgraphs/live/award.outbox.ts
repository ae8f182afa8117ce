/**
 * Delivers the outbox of awards (`live_session` XP at each end, `live_credit` seconds credited)
 * to learning's idempotent `award`, with retries. A pass claims due records for a short lease in
 * its own statement (`skip locked`, so processes never claim the same record at once), sealing
 * each session's open credit record on the way (session.store.ts: the credits since the last pass
 * become one award), calls learning with no transaction open (different users' records side by
 * side), then marks the delivered ones in one statement and schedules each failed one's retry
 * with a growing delay. Learning records an award once by (source, sourceId), so a record
 * delivered twice (a process dying after the call) still counts once.
 *
 * Passes run every `intervalMs` and right after a session ends (nudge), not after each credit:
 * a running session's credits add up in one record that falls due `liveCreditDeliveryMs` after
 * its first credit, so learning gets one award per session and delay instead of one per
 * heartbeat, and the `live_minutes` quest lags by at most that delay plus one interval.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { TRPCClient } from '@trpc/client';
import { callInternal } from '../../kernel/trpc.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { LearningRouter } from '../learning/router.ts';
import { SEALED_ID, type AwardRecord } from './session.store.ts';

const BATCH = 50;

interface OutboxRow {
  id: string;
  payload: AwardRecord;
  attempts: number;
}
/** A claimed record is not claimed again for this long (the calls of one pass fit well within it). */
const CLAIM_MS = 30_000;
const MAX_BACKOFF_MS = 5 * 60_000;

export class AwardOutbox {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly learning: TRPCClient<LearningRouter>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.nudge();
    this.timer = setInterval(() => this.nudge(), this.intervalMs);
    this.timer.unref();
  }

  /** Starts a pass now (or right after the one running). */
  nudge(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: unknown) => this.logger.warn({ err }, 'delivering live awards failed'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  /** Delivers every due record, batch by batch. */
  private async drain(): Promise<void> {
    for (;;) {
      const claimed = await this.claim();
      if (claimed.length === 0) return;
      await this.deliver(claimed);
    }
  }

  private async claim(): Promise<OutboxRow[]> {
    const now = new Date();
    const rows = await this.orm.em.fork().execute<{ id: string; payload: AwardRecord | string; attempts: number }[]>(
      `update "live"."xp_outbox" set "next_attempt_at" = ?, "id" = ${SEALED_ID}
       where "id" in (select "id" from "live"."xp_outbox" where "delivered_at" is null and "next_attempt_at" <= ? order by "next_attempt_at", "id" limit ? for update skip locked)
       returning "id", "payload", "attempts"`,
      [new Date(now.getTime() + CLAIM_MS), now, BATCH],
    );
    return rows.map((r) => ({ id: r.id, attempts: Number(r.attempts), payload: typeof r.payload === 'string' ? (JSON.parse(r.payload) as AwardRecord) : r.payload }));
  }

  /**
   * Calls learning for a claimed batch: users side by side (their calls share HTTP requests), each
   * user's records one after another in the order claimed. Then marks the delivered records in one
   * statement and schedules a retry, with a growing delay, for each that failed.
   */
  private async deliver(rows: OutboxRow[]): Promise<void> {
    const byUser = new Map<string, OutboxRow[]>();
    for (const row of rows) byUser.set(row.payload.userId, [...(byUser.get(row.payload.userId) ?? []), row]);
    const delivered: string[] = [];
    const failed: OutboxRow[] = [];
    await Promise.all(
      [...byUser.values()].map(async (mine) => {
        for (const row of mine) {
          try {
            await callInternal(this.learning.award.mutate(row.payload));
            delivered.push(row.id);
          } catch (err) {
            this.logger.debug({ err, award: row.id, attempts: row.attempts + 1 }, 'live award not delivered; will retry');
            failed.push(row);
          }
        }
      }),
    );
    const em = this.orm.em.fork();
    if (delivered.length > 0) {
      await em.execute(`update "live"."xp_outbox" set "delivered_at" = ?, "attempts" = "attempts" + 1 where "id" in (?)`, [new Date(), delivered], 'run');
    }
    for (const row of failed) {
      const delay = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** Math.min(row.attempts, 10));
      await em.execute(`update "live"."xp_outbox" set "attempts" = "attempts" + 1, "next_attempt_at" = ? where "id" = ?`, [new Date(Date.now() + delay), row.id], 'run');
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.again = false;
    await this.running;
  }
}
