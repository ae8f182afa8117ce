import { Migration } from '@mikro-orm/migrations';

/**
 * A lease on each running stream (stream.leases.ts): its process renews it; any chat process ends a
 * stream whose lease has lapsed (its process died) with an `error` event. Streams already running
 * when this runs were started by processes that never renew: they get one minute, then end.
 */
export class ChatStreamLeases extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "chat"."streams" add column "lease_until" timestamptz(3) null`);
    this.addSql(`update "chat"."streams" set "lease_until" = now() + interval '1 minute' where "status" = 'running'`);
    this.addSql(`create index "streams_running_lease_idx" on "chat"."streams" ("lease_until") where "status" = 'running'`);
  }
}
