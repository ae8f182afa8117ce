import { Migration } from '@mikro-orm/migrations';

/** XEL-7 evaluations of speaking and writing (§3.6). */
export class LearningXelEvaluations extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "learning"."xel_evaluations" (
      "id" uuid primary key,
      "user_id" uuid not null,
      "kind" varchar(10) not null,
      "text" text not null,
      "overall_score" integer not null,
      "cefr_band" varchar(2) not null,
      "criteria" jsonb not null,
      "feedback" text not null,
      "suggestions" jsonb not null,
      "task_id" uuid null,
      "session_id" uuid null,
      "created_at" timestamptz(3) not null
    )`);
    this.addSql(`create index "xel_evaluations_user_idx" on "learning"."xel_evaluations" ("user_id", "created_at" desc)`);
  }
}
