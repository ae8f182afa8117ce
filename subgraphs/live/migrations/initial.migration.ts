import { Migration } from '@mikro-orm/migrations';

/**
 * Live sessions (at most one active per user: a partial unique index), monthly usage per user,
 * nicknames, transcripts, and the outbox of awards for the learning subgraph (`live_session` XP at each end, `live_credit`
 * seconds at each credit).
 */
export class LiveInitial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "live"."sessions" (
      "id" uuid primary key,
      "user_id" uuid not null,
      "session_type" varchar(8) not null check ("session_type" in ('voice','avatar')),
      "plan" varchar(4) not null check ("plan" in ('free','pro')),
      "started_at" timestamptz(3) not null,
      "last_heartbeat_at" timestamptz(3) not null,
      "ended_at" timestamptz(3) null,
      "end_reason" varchar(8) null check ("end_reason" in ('client','timeout')),
      "billed_seconds" integer not null default 0,
      "duration_seconds" integer null,
      "xp_awarded" integer null
    )`);
    this.addSql(`create unique index "sessions_one_active" on "live"."sessions" ("user_id") where "ended_at" is null`);
    this.addSql(`create index "sessions_silent" on "live"."sessions" ("last_heartbeat_at") where "ended_at" is null`);
    this.addSql(`create table "live"."usage" (
      "user_id" uuid not null,
      "period_start" timestamptz(3) not null,
      "used_seconds" integer not null default 0 check ("used_seconds" >= 0),
      primary key ("user_id", "period_start")
    )`);
    this.addSql(`create table "live"."nicknames" (
      "user_id" uuid primary key,
      "nickname" varchar(32) not null,
      "updated_at" timestamptz(3) not null
    )`);
    this.addSql(`create table "live"."transcripts" (
      "id" uuid primary key,
      "user_id" uuid not null,
      "session_id" uuid null,
      "session_started_at" timestamptz(3) not null,
      "session_ended_at" timestamptz(3) not null,
      "duration_seconds" integer not null,
      "turn_count" integer not null,
      "preview" varchar(120) not null,
      "turns" jsonb not null,
      "created_at" timestamptz(3) not null
    )`);
    this.addSql(`create index "transcripts_user_started" on "live"."transcripts" ("user_id", "session_started_at" desc, "id")`);
    this.addSql(`create table "live"."xp_outbox" (
      "id" varchar(240) primary key,
      "user_id" uuid not null,
      "payload" jsonb not null,
      "created_at" timestamptz(3) not null,
      "attempts" integer not null default 0,
      "next_attempt_at" timestamptz(3) not null,
      "delivered_at" timestamptz(3) null
    )`);
    this.addSql(`create index "xp_outbox_pending" on "live"."xp_outbox" ("next_attempt_at") where "delivered_at" is null`);
  }
}
