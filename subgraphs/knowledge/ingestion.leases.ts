/**
 * Leases on documents being ingested (kernel/lease.ts). A document is written invisible
 * (`ready = false`) with a lease its process renews until it is made visible; one whose lease lapsed
 * (its process died mid-ingestion) is deleted, its chunks and words with it, by any knowledge
 * process, and its upload id may be used again. Whoever still follows that upload gets FAILED.
 */
import { raw, type MikroORM } from '@mikro-orm/postgresql';
import { ERROR_REGISTRY } from '../../kernel/errors.ts';
import { LeaseKeeper } from '../../kernel/lease.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import { ingestionChannel, ingestionEvent } from './ingestion.events.ts';

const SQL = {
  /** Params: lease (ms), ids as a JSON array. */
  renew: `update "knowledge"."documents" set "lease_until" = now() + ? * interval '1 millisecond'
    where "id" in (select x::uuid from jsonb_array_elements_text(?::jsonb) as x) and not "ready"`,
  /** Chunks and words go with the document (on delete cascade). */
  sweep: `delete from "knowledge"."documents" where not "ready" and "lease_until" < now()
    returning "id", "owner_id", "upload_id"`,
  /** Params: owner id, upload id. */
  reclaim: `delete from "knowledge"."documents" where "owner_id" = ? and "upload_id" = ? and not "ready" and "lease_until" < now()
    returning "id", "owner_id", "upload_id"`,
};

interface Dropped {
  id: string;
  owner_id: string;
  upload_id: string | null;
}

export class IngestionLeases {
  private readonly leases: LeaseKeeper;

  constructor(
    private readonly orm: MikroORM,
    private readonly pubsub: PubSub,
    private readonly leaseMs: number,
    private readonly logger: Logger,
  ) {
    this.leases = new LeaseKeeper({ name: 'ingestion', leaseMs, logger, renew: (ids) => this.renew(ids), sweep: () => this.sweep() });
  }

  /** Removes what crashed processes left half-written, then keeps this process's leases and sweeps. */
  start(): void {
    this.leases.start();
  }

  async close(): Promise<void> {
    await this.leases.close();
  }

  /**
   * The `lease_until` a new invisible document is inserted with: now + lease by the database's
   * clock (an SQL fragment where the insert expects a Date).
   */
  fresh(): Date {
    return raw(`now() + ? * interval '1 millisecond'`, [this.leaseMs]);
  }

  /** This process writes document `id`: its lease is renewed until `release`. */
  hold(id: string): void {
    this.leases.hold(id);
  }

  release(id: string): void {
    this.leases.release(id);
  }

  /** Frees `uploadId` of `ownerId` if the ingestion that used it died (its lease lapsed). */
  async reclaim(ownerId: string, uploadId: string): Promise<void> {
    await this.dropped(await this.orm.em.fork().execute<Dropped[]>(SQL.reclaim, [ownerId, uploadId]));
  }

  private async renew(ids: readonly string[]): Promise<void> {
    await this.orm.em.fork().execute(SQL.renew, [this.leaseMs, JSON.stringify(ids)], 'run');
  }

  private async sweep(): Promise<void> {
    await this.dropped(await this.orm.em.fork().execute<Dropped[]>(SQL.sweep));
  }

  private async dropped(rows: Dropped[]): Promise<void> {
    if (rows.length === 0) return;
    this.logger.warn({ documentIds: rows.map((r) => r.id) }, 'removed documents whose ingestion stopped renewing its lease');
    const failed = { errorCode: ERROR_REGISTRY.INTERNAL.rest ?? 'internal_error', message: ERROR_REGISTRY.INTERNAL.message };
    for (const r of rows) if (r.upload_id) await this.pubsub.publish(ingestionChannel(r.owner_id, r.upload_id), ingestionEvent(r.upload_id, 'FAILED', failed));
  }
}
