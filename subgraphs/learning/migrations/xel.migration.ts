import { Migration } from '@mikro-orm/migrations';
import { catalogueSql } from '../xel.catalogue.ts';

/**
 * Xentree English (§3.6, §4.9): the module catalogue (loaded from xel-modules.json by
 * upsert, so loading it again changes nothing) and each user's module and task progress.
 */
export class LearningXel extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "learning"."xel_modules" (
      "id" uuid primary key,
      "slug" varchar(100) not null unique,
      "title" varchar(200) not null,
      "description" text not null,
      "cefr_level" varchar(2) not null,
      "skills" jsonb not null,
      "order" integer not null,
      "estimated_minutes" integer not null,
      "catalogue_version" integer not null
    )`);
    this.addSql(`create table "learning"."xel_tasks" (
      "id" uuid primary key,
      "module_id" uuid not null references "learning"."xel_modules" ("id"),
      "order" integer not null,
      "type" varchar(20) not null,
      "skill" varchar(20) not null,
      "prompt" text not null,
      "options" jsonb null,
      "audio_url" text null,
      "answer_key" jsonb not null
    )`);
    this.addSql(`create index "xel_tasks_module_idx" on "learning"."xel_tasks" ("module_id", "order")`);
    this.addSql(`create table "learning"."xel_module_progress" (
      "user_id" uuid not null,
      "module_id" uuid not null references "learning"."xel_modules" ("id"),
      "started_at" timestamptz(3) not null,
      "completed_at" timestamptz(3) null,
      "score" double precision null,
      "last_activity_at" timestamptz(3) not null,
      primary key ("user_id", "module_id")
    )`);
    this.addSql(`create table "learning"."xel_task_progress" (
      "user_id" uuid not null,
      "task_id" uuid not null references "learning"."xel_tasks" ("id"),
      "module_id" uuid not null,
      "attempts" integer not null default 0,
      "best_score" double precision null,
      "passed" boolean not null default false,
      "last_submitted_at" timestamptz(3) null,
      primary key ("user_id", "task_id")
    )`);
    this.addSql(`create index "xel_task_progress_module_idx" on "learning"."xel_task_progress" ("user_id", "module_id")`);
    for (const sql of catalogueSql()) this.addSql(sql);
  }
}
