import { Migration } from '@mikro-orm/migrations';

/**
 * Per-day rollups for the long-range reads (XP-4, XP-5, XP-7): a user's XP per local date and
 * learning seconds per start date and source, kept by triggers in the same statement as each
 * ledger or session row, so those reads aggregate at most one row per day (and source) whatever
 * the ledger's size. Existing rows are rolled up here once.
 */
export class LearningDailyRollups extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "learning"."daily_xp" (
      "user_id" uuid not null,
      "local_date" date not null,
      "xp" integer not null,
      primary key ("user_id", "local_date")
    )`);
    this.addSql(`create table "learning"."daily_learning" (
      "user_id" uuid not null,
      "start_date" date not null,
      "source" varchar(10) not null,
      "seconds" integer not null,
      "sessions" integer not null,
      primary key ("user_id", "start_date", "source")
    )`);
    this.addSql(`insert into "learning"."daily_xp" ("user_id", "local_date", "xp")
      select "user_id", "local_date", sum("xp")::int from "learning"."ledger" group by "user_id", "local_date"`);
    this.addSql(`insert into "learning"."daily_learning" ("user_id", "start_date", "source", "seconds", "sessions")
      select "user_id", "start_date", "source", sum("seconds")::int, count(*)::int from "learning"."sessions" group by "user_id", "start_date", "source"`);
    this.addSql(`create function "learning"."ledger_rollup"() returns trigger language plpgsql as $$
      begin
        insert into "learning"."daily_xp" ("user_id", "local_date", "xp") values (new."user_id", new."local_date", new."xp")
          on conflict ("user_id", "local_date") do update set "xp" = "daily_xp"."xp" + excluded."xp";
        return null;
      end $$`);
    this.addSql(`create trigger "ledger_rollup" after insert on "learning"."ledger" for each row execute function "learning"."ledger_rollup"()`);
    this.addSql(`create function "learning"."sessions_rollup"() returns trigger language plpgsql as $$
      begin
        insert into "learning"."daily_learning" ("user_id", "start_date", "source", "seconds", "sessions") values (new."user_id", new."start_date", new."source", new."seconds", 1)
          on conflict ("user_id", "start_date", "source") do update set "seconds" = "daily_learning"."seconds" + excluded."seconds", "sessions" = "daily_learning"."sessions" + 1;
        return null;
      end $$`);
    this.addSql(`create trigger "sessions_rollup" after insert on "learning"."sessions" for each row execute function "learning"."sessions_rollup"()`);
  }
}
