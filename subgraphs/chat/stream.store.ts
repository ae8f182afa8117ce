/**
 * The writes of generation streams, under a lease (kernel/lease.ts). The process that runs a
 * generation holds its stream and renews the lease; a stream whose lease lapsed (its process died
 * mid-generation: kill -9, out of memory, a lost machine) is ended by any chat process, marked
 * `error` with a last `error` event, stored then published, so every reader (SSE or graphql-ws,
 * on any replica) ends instead of receiving pings forever.
 *
 * The owner writes an event only while its stream is still `running`, holding the stream row while
 * it does: a sweep waits for that event and numbers its own after it, and an event that comes after
 * a sweep finds the stream ended and is not written. So a stream never gets two terminal events.
 */
import { raw, type MikroORM } from '@mikro-orm/postgresql';
import { ERROR_REGISTRY } from '../../kernel/errors.ts';
import { LeaseKeeper } from '../../kernel/lease.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import { ChatStreamSchema, type ChatStream, type StreamEventType } from './stream.entity.ts';
import { streamChannel, type StreamFailure } from './stream.reader.ts';

const SQL = {
  /** Params: lease (ms), ids as a JSON array. */
  renew: `update "chat"."streams" set "lease_until" = now() + ? * interval '1 millisecond'
    where "id" in (select x::uuid from jsonb_array_elements_text(?::jsonb) as x) and "status" = 'running'`,
  /** Params: seq, type, data (JSON), stream id. `for share` holds the stream row until the event is committed. */
  emit: `insert into "chat"."stream_events" ("stream_id", "seq", "type", "data")
    select "id", ?, ?, ?::jsonb from "chat"."streams" where "id" = ? and "status" = 'running' for share`,
  /** Params: status, stream id. The owner's end; a stream already ended by a sweep stays as it is. */
  finish: `update "chat"."streams" set "status" = ?, "finished_at" = now() where "id" = ? and "status" = 'running'`,
  /** Every running stream whose lease has lapsed (the partial index `streams_running_lease_idx`). */
  endLapsed: `update "chat"."streams" set "status" = 'error', "finished_at" = now()
    where "status" = 'running' and "lease_until" < now() returning "id"`,
  /** Params: stream id. */
  endLapsedOne: `update "chat"."streams" set "status" = 'error', "finished_at" = now()
    where "id" = ? and "status" = 'running' and "lease_until" < now() returning "id"`,
  /** Params: data (JSON), ids as a JSON array. In the sweep's transaction, after `endLapsed`. */
  lastEvents: `insert into "chat"."stream_events" ("stream_id", "seq", "type", "data")
    select s.id, coalesce((select max(e."seq") from "chat"."stream_events" e where e."stream_id" = s.id), -1) + 1, 'error', ?::jsonb
    from (select x::uuid as id from jsonb_array_elements_text(?::jsonb) as x) as s
    returning "stream_id", "seq"`,
};

/** The `error` event of a stream whose process died: §1.7's internal error. */
export const INTERRUPTED: StreamFailure = { code: ERROR_REGISTRY.INTERNAL.rest ?? 'internal_error', message: ERROR_REGISTRY.INTERNAL.message };

/** Thrown to the owner of a stream that was ended meanwhile (its lease lapsed): it writes nothing more. */
export class StreamEnded extends Error {
  constructor(readonly streamId: string) {
    super(`stream ${streamId} was ended by a sweep (its lease lapsed)`);
    this.name = 'StreamEnded';
  }
}

export class StreamStore {
  private readonly leases: LeaseKeeper;

  constructor(
    private readonly orm: MikroORM,
    private readonly pubsub: PubSub,
    private readonly leaseMs: number,
    private readonly logger: Logger,
  ) {
    this.leases = new LeaseKeeper({ name: 'chat stream', leaseMs, logger, renew: (ids) => this.renew(ids), sweep: () => this.sweep(null).then(() => {}) });
  }

  /** Ends what crashed processes left running, then keeps this process's leases and sweeps. */
  start(): void {
    this.leases.start();
  }

  async close(): Promise<void> {
    await this.leases.close();
  }

  /** Creates a running stream held by this process (its lease counted by the database's clock). */
  async create(stream: Omit<ChatStream, 'status' | 'finishedAt' | 'leaseUntil'>): Promise<void> {
    await this.orm.em.fork().insert(ChatStreamSchema, { ...stream, status: 'running', finishedAt: null, leaseUntil: raw(`now() + ? * interval '1 millisecond'`, [this.leaseMs]) });
    this.leases.hold(stream.id);
  }

  /**
   * Stores then publishes one event of a stream this process runs (stored first: a reader that
   * subscribes late finds it in the table). @throws StreamEnded when a sweep ended the stream.
   */
  async emit(streamId: string, seq: number, type: StreamEventType, data: object): Promise<void> {
    const res = await this.orm.em.fork().execute<{ affectedRows: number }>(SQL.emit, [seq, type, JSON.stringify(data), streamId], 'run');
    if (res.affectedRows === 0) throw new StreamEnded(streamId);
    await this.pubsub.publish(streamChannel(streamId), { seq, type, data });
  }

  /** The owner ends its stream (after its `done` or `error` event) and lets its lease go. */
  async finish(streamId: string, status: 'done' | 'error'): Promise<void> {
    this.leases.release(streamId);
    await this.orm.em.fork().execute(SQL.finish, [status, streamId], 'run');
  }

  /** This process stops renewing the stream (it failed to write it): a sweep ends it. */
  release(streamId: string): void {
    this.leases.release(streamId);
  }

  /**
   * A reader arriving at a running stream: when the lease has lapsed by this process's clock, ends
   * it now (the database's clock decides) rather than at the next sweep.
   */
  async endIfLapsed(stream: ChatStream): Promise<void> {
    if (stream.status === 'running' && stream.leaseUntil !== null && stream.leaseUntil.getTime() <= Date.now()) await this.sweep(stream.id);
  }

  private async renew(ids: readonly string[]): Promise<void> {
    await this.orm.em.fork().execute(SQL.renew, [this.leaseMs, JSON.stringify(ids)], 'run');
  }

  /** Ends lapsed streams (or just `only`) in one transaction, then publishes their `error` events. */
  private async sweep(only: string | null): Promise<number> {
    const ended = await this.orm.em.fork().transactional(async (tx) => {
      const rows = await tx.execute<{ id: string }[]>(only ? SQL.endLapsedOne : SQL.endLapsed, only ? [only] : []);
      if (rows.length === 0) return [];
      return tx.execute<{ stream_id: string; seq: number }[]>(SQL.lastEvents, [JSON.stringify(INTERRUPTED), JSON.stringify(rows.map((r) => r.id))]);
    });
    if (ended.length > 0) this.logger.warn({ streamIds: ended.map((e) => e.stream_id) }, 'ended streams whose process stopped renewing them');
    for (const e of ended) await this.pubsub.publish(streamChannel(e.stream_id), { seq: e.seq, type: 'error', data: INTERRUPTED });
    return ended.length;
  }
}
