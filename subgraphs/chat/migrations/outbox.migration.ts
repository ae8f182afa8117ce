import { Migration } from '@mikro-orm/migrations';

/**
 * Awards chat owes the learning subgraph (outbox.ts): written in the transaction that earns them,
 * delivered after commit and, when learning cannot take them, again with backoff until it does.
 */
export class ChatOutbox extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "chat"."learning_outbox" (
      "id" uuid primary key,
      "payload" jsonb not null,
      "created_at" timestamptz(3) not null default now(),
      "attempts" integer not null default 0,
      "next_attempt_at" timestamptz(3) not null default now(),
      "delivered_at" timestamptz(3) null,
      "last_error" text null
    )`);
    this.addSql(`create index "learning_outbox_pending_idx" on "chat"."learning_outbox" ("next_attempt_at") where "delivered_at" is null`);
  }
}
