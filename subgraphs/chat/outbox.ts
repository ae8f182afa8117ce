/**
 * The learning outbox: awards chat earns (a session's `chat_session` XP and learning time, a
 * CONV-2 call for the chat-messages quest) are rows of `chat.learning_outbox`, written in the same
 * transaction as what earned them. After commit they are sent to learning's `award` procedure;
 * one that fails (learning down, a deploy) stays and is retried with backoff by whichever chat
 * process drains next, so an award is never lost. Learning records each (source, source id) once,
 * so a delivery repeated after a crash between sending and marking counts once.
 *
 * Draining claims due rows by pushing their next attempt forward (`for update skip locked`), so
 * replicas never send the same row at the same time, and calls learning outside any transaction.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { TRPCClientError, type TRPCClient } from '@trpc/client';
import type { Logger } from '../../kernel/logger.ts';
import type { AwardRequest, LearningRouter } from '../learning/router.ts';

/** How long a claimed row is left to its claimer before another drain may send it again. */
const CLAIM_SECONDS = 30;
/** Retry backoff: 1 s doubling per attempt, at most this many seconds. */
const MAX_BACKOFF_SECONDS = 30;
const BATCH = 50;

const SQL = {
  insert: `insert into "chat"."learning_outbox" ("id", "payload") values (?, ?::jsonb)`,
  claim: `update "chat"."learning_outbox" set "next_attempt_at" = now() + interval '${CLAIM_SECONDS} seconds', "attempts" = "attempts" + 1
    where "id" in (
      select "id" from "chat"."learning_outbox"
       where "delivered_at" is null and "next_attempt_at" <= now() and (?::uuid[] is null or "id" = any(?::uuid[]))
       order by "created_at", "id" limit ${BATCH} for update skip locked)
    returning "id", "payload"::text as payload, "attempts"`,
  delivered: `update "chat"."learning_outbox" set "delivered_at" = now(), "last_error" = null where "id" = ?`,
  failed: `update "chat"."learning_outbox" set "next_attempt_at" = now() + make_interval(secs => ?), "last_error" = ? where "id" = ?`,
};

/** A refusal that no retry can change (as opposed to learning being unreachable or failing). */
function permanent(err: unknown): boolean {
  if (!(err instanceof TRPCClientError)) return false;
  const code: unknown = (err.data as { code?: unknown } | undefined)?.code;
  return code === 'NOT_FOUND' || code === 'BAD_REQUEST';
}

export class LearningOutbox {
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;

  constructor(
    private readonly orm: MikroORM,
    private readonly learning: TRPCClient<LearningRouter>,
    private readonly logger: Logger,
    private readonly pollMs: number,
  ) {}

  /** Writes an award in the caller's transaction; returns its row id (to send right after commit). */
  async enqueue(tx: EntityManager, award: AwardRequest): Promise<string> {
    const id = randomUUID();
    await tx.execute(SQL.insert, [id, JSON.stringify(award)]);
    return id;
  }

  /** Writes an award in a transaction of its own and sends it. */
  async record(award: AwardRequest): Promise<void> {
    const id = await this.orm.em.fork().transactional((tx) => this.enqueue(tx, award));
    void this.send([id]);
  }

  /** Sends the given rows now (after their transaction committed); a failure leaves them to the drain. */
  async send(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.drain(ids);
  }

  /** Drains due rows now and then every `pollMs`, on a timer that never keeps the process alive. */
  start(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.pollMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.draining;
  }

  private async tick(): Promise<void> {
    if (this.draining) return;
    this.draining = this.drain(null).finally(() => {
      this.draining = null;
    });
    await this.draining;
  }

  /** Claims due rows (all, or only `only`) and delivers each; never throws. */
  private async drain(only: readonly string[] | null): Promise<void> {
    try {
      const em = this.orm.em.fork();
      const ids = only ? `{${only.join(',')}}` : null;
      const rows = await em.execute<{ id: string; payload: string; attempts: number }[]>(SQL.claim, [ids, ids]);
      for (const row of rows) {
        try {
          await this.learning.award.mutate(JSON.parse(row.payload) as AwardRequest);
          await em.execute(SQL.delivered, [row.id]);
        } catch (err) {
          if (permanent(err)) {
            // Learning refused the award itself (its user no longer exists): retrying cannot help.
            this.logger.warn({ err, outboxId: row.id }, 'learning refused an award; dropped');
            await em.execute(SQL.delivered, [row.id]);
            continue;
          }
          const backoff = Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.max(0, row.attempts - 1));
          this.logger.warn({ err, outboxId: row.id, attempts: row.attempts, retryInSeconds: backoff }, 'learning award not delivered; will retry');
          await em.execute(SQL.failed, [backoff, err instanceof Error ? err.message.slice(0, 500) : 'unknown', row.id]);
        }
      }
    } catch (err) {
      this.logger.warn({ err }, 'learning outbox drain failed');
    }
  }
}
