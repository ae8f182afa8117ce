/**
 * Idempotent retries (the `Idempotency-Key` header of CONV-2 and KB-3, the `idempotencyKey`
 * argument of the matching mutations; README "Idempotent retries"). A key is claimed in the
 * owning subgraph's PostgreSQL schema before the work starts and completed in the same transaction
 * as the work's write, so across every replica a key runs its work at most once per 24 h and its
 * retries get the first result back. Only successes are kept: a failed call frees its key.
 *
 * Keys belong to a principal (a user's bearer tokens share one space, each API key has its own)
 * and an operation. The same key with another request body is IDEMPOTENCY_KEY_REUSED; while the
 * first call still runs, IDEMPOTENCY_KEY_IN_PROGRESS (both 409, decided).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from './errors.ts';
import { parseInput } from './input.ts';
import type { UserContext } from './authz.ts';

/** How long a completed key answers with its first result. */
export const IDEMPOTENCY_TTL_HOURS = 24;

/** A key: 1..255 printable ASCII characters without spaces (as the IETF draft's examples). */
export const IDEMPOTENCY_KEY = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'String should match pattern');

/** The statements of the migration that creates a subgraph's key table in `schema`. */
export function idempotencyTableSql(schema: string): string[] {
  return [
    `create table "${schema}"."idempotency_keys" (
      "principal" varchar(80) not null,
      "operation" varchar(50) not null,
      "key" varchar(255) not null,
      "fingerprint" char(64) not null,
      "state" varchar(8) not null check ("state" in ('running','done')),
      "result" jsonb null,
      "locked_until" timestamptz(3) not null,
      "created_at" timestamptz(3) not null,
      primary key ("principal", "operation", "key")
    )`,
    `create index "idempotency_keys_created_idx" on "${schema}"."idempotency_keys" ("created_at")`,
  ];
}

/** How a call that writes is bounded and deduplicated (a chat reply, a document upload). */
export interface IdempotentCallOptions {
  /** Aborts at the caller's deadline: the call then stores nothing (DEADLINE_EXCEEDED). */
  signal?: AbortSignal;
  /** A retry with the same key (same principal, same input) within 24 h gets the first result. */
  idempotencyKey?: string | null;
}

/** One keyed call: who, which operation, which key, and a digest of what was asked. */
export interface IdempotentCall {
  principal: string;
  operation: string;
  key: string;
  fingerprint: string;
}

/** Stores the call's result inside the caller's transaction (the one that writes its effect). */
export type RecordResult<T> = (tx: EntityManager, result: T) => Promise<void>;

/** JSON with object keys sorted, so equal requests give equal digests whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v ?? null)).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export class IdempotencyStore {
  readonly #table: string;
  #nextSweep = 0;

  /**
   * @param schema the owning subgraph's PostgreSQL schema (its migration created the table).
   * @param leaseMs how long a running claim blocks retries: past it the claimant has passed its
   *   deadline and stopped, so a retry may take the key over (a process that died mid-call).
   */
  constructor(schema: string, private readonly leaseMs: number) {
    this.#table = `"${schema}"."idempotency_keys"`;
  }

  /**
   * The keyed call for `request`, or null without a key.
   * @throws BAD_USER_INPUT (loc `idempotencyKey`) for a malformed key.
   */
  callOf(auth: UserContext, operation: string, key: string | null | undefined, request: unknown): IdempotentCall | null {
    if (key === null || key === undefined) return null;
    const valid = parseInput(IDEMPOTENCY_KEY, key, 'idempotencyKey');
    const principal = auth.mode === 'api_key' && auth.apiKeyId ? `api_key:${auth.apiKeyId}` : `user:${auth.userId}`;
    return { principal, operation, key: valid, fingerprint: createHash('sha256').update(canonical(request)).digest('hex') };
  }

  /**
   * Runs `work` once per key. `work` calls `record` inside the transaction that stores its effect;
   * work that stores nothing may skip it and is recorded when it returns. A replay gets the first
   * result through `revive` (from its JSON form).
   * @throws IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_KEY_IN_PROGRESS; whatever `work` throws (the key is then freed).
   */
  async run<T>(em: EntityManager, call: IdempotentCall | null, work: (record: RecordResult<T>) => Promise<T>, revive: (stored: unknown) => T): Promise<T> {
    if (!call) return work(async () => {});
    const replay = await this.claim(em, call);
    if (replay !== undefined) return revive(replay);
    let recorded = false;
    try {
      const result = await work(async (tx, r) => {
        await this.complete(tx, call, r);
        recorded = true;
      });
      if (!recorded) await this.complete(em.fork(), call, result);
      return result;
    } catch (err) {
      // Only a running claim is freed: a result already recorded stays the key's answer.
      await em
        .fork()
        .execute(`delete from ${this.#table} where "principal" = ? and "operation" = ? and "key" = ? and "state" = 'running'`, [call.principal, call.operation, call.key])
        .catch(() => {}); // a claim left behind frees itself when its lease runs out
      throw err;
    }
  }

  /** Claims the key; returns the stored result of a completed call with it, else undefined. */
  private async claim(em: EntityManager, call: IdempotentCall): Promise<unknown> {
    const conn = em.fork();
    if (Date.now() >= this.#nextSweep) {
      this.#nextSweep = Date.now() + 60_000;
      await conn.execute(`delete from ${this.#table} where "created_at" < now() - interval '${IDEMPOTENCY_TTL_HOURS} hours'`);
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      // New, expired, or abandoned by a claimant whose lease ran out: the key is ours.
      const claimed = await conn.execute(
        `insert into ${this.#table} as k ("principal", "operation", "key", "fingerprint", "state", "result", "locked_until", "created_at")
         values (?, ?, ?, ?, 'running', null, now() + ?::double precision * interval '1 millisecond', now())
         on conflict ("principal", "operation", "key") do update
           set "fingerprint" = excluded."fingerprint", "state" = 'running', "result" = null, "locked_until" = excluded."locked_until", "created_at" = excluded."created_at"
           where k."created_at" < now() - interval '${IDEMPOTENCY_TTL_HOURS} hours' or (k."state" = 'running' and k."locked_until" < now())
         returning "key"`,
        [call.principal, call.operation, call.key, call.fingerprint, this.leaseMs],
        'all',
      );
      if (claimed.length > 0) return undefined;
      const rows = await conn.execute<{ fingerprint: string; state: string; result: string | null }[]>(
        `select "fingerprint", "state", "result"::text as "result" from ${this.#table} where "principal" = ? and "operation" = ? and "key" = ?`,
        [call.principal, call.operation, call.key],
        'all',
      );
      const row = rows[0];
      if (!row) continue; // freed between the two statements: claim again
      if (row.fingerprint !== call.fingerprint) throw new AppError('IDEMPOTENCY_KEY_REUSED');
      if (row.state !== 'done') throw new AppError('IDEMPOTENCY_KEY_IN_PROGRESS');
      // Read as text and parsed here: drivers differ in whether they parse jsonb themselves.
      return JSON.parse(row.result ?? 'null') as unknown;
    }
    throw new AppError('IDEMPOTENCY_KEY_IN_PROGRESS');
  }

  private async complete(tx: EntityManager, call: IdempotentCall, result: unknown): Promise<void> {
    await tx.execute(
      `update ${this.#table} set "state" = 'done', "result" = ?::jsonb where "principal" = ? and "operation" = ? and "key" = ? and "fingerprint" = ?`,
      [JSON.stringify(result), call.principal, call.operation, call.key, call.fingerprint],
    );
  }
}
