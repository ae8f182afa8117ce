import { Migration } from '@mikro-orm/migrations';

/**
 * XEL-6 task variants (§3.6): a regenerated task is stored for its user only, with its own
 * answer key; the newest variant is the one XEL-2, XEL-5 and XEL-7 use. `local_date` is the
 * user's date at regeneration, for the limit of 3 per task per local day (the primary key's
 * prefix serves that count).
 */
export class LearningXelVariants extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "learning"."xel_task_variants" (
      "user_id" uuid not null,
      "task_id" uuid not null references "learning"."xel_tasks" ("id"),
      "variant" integer not null,
      "prompt" text not null,
      "options" jsonb null,
      "audio_url" text null,
      "answer_key" jsonb not null,
      "bank_index" integer null,
      "local_date" date not null,
      "created_at" timestamptz(3) not null,
      primary key ("user_id", "task_id", "variant")
    )`);
  }
}
