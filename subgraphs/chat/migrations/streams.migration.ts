import { Migration } from '@mikro-orm/migrations';

/** Resumable generation streams and their events. */
export class ChatStreams extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "chat"."streams" (
      "id" uuid primary key,
      "user_id" uuid not null,
      "conversation_id" uuid null,
      "provider" varchar(50) not null,
      "model" varchar(200) not null,
      "status" varchar(8) not null check ("status" in ('running','done','error')),
      "created_at" timestamptz(3) not null,
      "finished_at" timestamptz(3) null
    )`);
    this.addSql(`create index "streams_finished_idx" on "chat"."streams" ("finished_at")`);
    this.addSql(`create table "chat"."stream_events" (
      "stream_id" uuid not null references "chat"."streams" ("id") on delete cascade,
      "seq" integer not null,
      "type" varchar(8) not null,
      "data" jsonb not null,
      primary key ("stream_id", "seq")
    )`);
  }
}
