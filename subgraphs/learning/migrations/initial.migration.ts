import { Migration } from '@mikro-orm/migrations';

/**
 * The XP ledger, streak/booster state, learning-time sessions, quest counters and completions
 * (§4.2–§4.7). Every row a producer sends is unique by (source, source id), so a
 * redelivered award is recorded once. User ids are plain ids (users live in identity).
 */
export class LearningInitial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "learning"."profiles" (
      "user_id" uuid primary key,
      "xp" integer not null default 0,
      "current_streak" integer not null default 0,
      "longest_streak" integer not null default 0,
      "freezes_available" integer not null default 0,
      "freezes_used" integer not null default 0,
      "last_activity" date null,
      "reconciled_through" date null,
      "booster_multiplier" double precision null,
      "booster_started_at" timestamptz(3) null,
      "booster_expires_at" timestamptz(3) null,
      "booster_date" date null
    )`);
    this.addSql(`create table "learning"."ledger" (
      "id" uuid primary key,
      "user_id" uuid not null,
      "source" varchar(20) not null,
      "source_id" varchar(200) not null,
      "base_xp" integer not null,
      "multiplier" double precision not null,
      "xp" integer not null,
      "local_date" date not null,
      "recorded_at" timestamptz(3) not null,
      constraint "ledger_source_unique" unique ("source", "source_id")
    )`);
    this.addSql(`create index "ledger_user_date_idx" on "learning"."ledger" ("user_id", "local_date") include ("xp", "source")`);
    this.addSql(`create table "learning"."sessions" (
      "source" varchar(10) not null,
      "source_id" varchar(200) not null,
      "user_id" uuid not null,
      "started_at" timestamptz(3) not null,
      "seconds" integer not null,
      "start_date" date not null,
      "end_date" date not null,
      primary key ("source", "source_id")
    )`);
    this.addSql(`create index "sessions_user_start_idx" on "learning"."sessions" ("user_id", "start_date") include ("seconds", "source")`);
    this.addSql(`create index "sessions_user_end_idx" on "learning"."sessions" ("user_id", "end_date")`);
    this.addSql(`create table "learning"."activities" (
      "kind" varchar(20) not null,
      "source_id" varchar(200) not null,
      "user_id" uuid not null,
      "amount" integer not null,
      "local_date" date not null,
      primary key ("kind", "source_id")
    )`);
    this.addSql(`create index "activities_user_date_idx" on "learning"."activities" ("user_id", "local_date")`);
    this.addSql(`create table "learning"."quest_completions" (
      "user_id" uuid not null,
      "local_date" date not null,
      "type" varchar(20) not null,
      "completed_at" timestamptz(3) not null,
      primary key ("user_id", "local_date", "type")
    )`);
    this.addSql(`create table "learning"."freeze_days" (
      "user_id" uuid not null,
      "local_date" date not null,
      primary key ("user_id", "local_date")
    )`);
  }
}
