import { Migration } from '@mikro-orm/migrations';

/** XEL sessions (one active per user) and their transcripts (at most 1,000 entries each) (§3.6, §4.7). */
export class LearningXelSessions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "learning"."xel_sessions" (
      "id" uuid primary key,
      "user_id" uuid not null,
      "module_id" uuid null,
      "started_at" timestamptz(3) not null,
      "last_activity_at" timestamptz(3) not null,
      "ended_at" timestamptz(3) null,
      "end_reason" varchar(10) null,
      "duration_seconds" integer null,
      "xp_awarded" integer null
    )`);
    this.addSql(`create unique index "xel_sessions_one_active_idx" on "learning"."xel_sessions" ("user_id") where "ended_at" is null`);
    this.addSql(`create table "learning"."xel_transcripts" (
      "id" uuid primary key,
      "session_id" uuid not null references "learning"."xel_sessions" ("id"),
      "sequence" integer not null,
      "role" varchar(4) not null,
      "text" text not null,
      "timestamp" timestamptz(3) not null,
      "created_at" timestamptz(3) not null,
      unique ("session_id", "sequence")
    )`);
  }
}
