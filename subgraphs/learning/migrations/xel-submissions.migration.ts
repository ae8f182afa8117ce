import { Migration } from '@mikro-orm/migrations';

/** XEL-5 submissions and the proficiency index (XPI) with its daily history (§4.9). */
export class LearningXelSubmissions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "learning"."xel_submissions" (
      "id" uuid primary key,
      "user_id" uuid not null,
      "task_id" uuid not null references "learning"."xel_tasks" ("id"),
      "module_id" uuid not null,
      "answer" text not null,
      "score" double precision not null,
      "passed" boolean not null,
      "correct" boolean null,
      "feedback" text not null,
      "time_spent_seconds" integer null,
      "submitted_at" timestamptz(3) not null
    )`);
    this.addSql(`create index "xel_submissions_user_idx" on "learning"."xel_submissions" ("user_id", "submitted_at" desc)`);
    this.addSql(`create table "learning"."xel_xpi" (
      "user_id" uuid primary key,
      "sub_scores" jsonb not null,
      "sample_counts" jsonb not null,
      "updated_at" timestamptz(3) not null
    )`);
    this.addSql(`create table "learning"."xel_xpi_history" (
      "id" bigserial primary key,
      "user_id" uuid not null,
      "local_date" date not null,
      "xpi" double precision not null,
      "cefr_band" varchar(2) not null,
      "sub_scores" jsonb not null,
      "recorded_at" timestamptz(3) not null
    )`);
    this.addSql(`create index "xel_xpi_history_user_date_idx" on "learning"."xel_xpi_history" ("user_id", "local_date", "id")`);
  }
}
