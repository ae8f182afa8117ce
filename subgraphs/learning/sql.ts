/** The SQL of the learning services: idempotent inserts, per-day aggregates over indexes and the daily rollups (daily-rollups.migration.ts). */

/** Today's quest counters of one user (params: user id, local date). */
export const QUEST_COUNTERS = `with p as (select ?::uuid as u, ?::date as d)
  select
    coalesce((select sum(l."xp") from "learning"."ledger" l, p where l."user_id" = p.u and l."local_date" = p.d and l."source" <> 'quest'), 0)::int as earn_xp,
    (select count(*) from "learning"."ledger" l, p where l."user_id" = p.u and l."local_date" = p.d and l."source" = 'xel_task')::int as xel_tasks,
    coalesce((select sum(s."seconds") from "learning"."sessions" s, p where s."user_id" = p.u and s."end_date" = p.d), 0)::int as study_seconds,
    (select count(*) from "learning"."ledger" l, p where l."user_id" = p.u and l."local_date" = p.d and l."source" = 'xel_module')::int as modules,
    coalesce((select sum(a."amount") from "learning"."activities" a, p where a."user_id" = p.u and a."local_date" = p.d and a."kind" = 'live_credit'), 0)::int as live_seconds,
    (select count(*) from "learning"."activities" a, p where a."user_id" = p.u and a."local_date" = p.d and a."kind" = 'chat_message')::int as chat_messages,
    (select count(*) from "learning"."ledger" l, p where l."user_id" = p.u and l."local_date" = p.d and l."source" = 'xel_evaluation')::int as evaluations`;

export interface QuestCounters {
  earn_xp: number;
  xel_tasks: number;
  study_seconds: number;
  modules: number;
  live_seconds: number;
  chat_messages: number;
  evaluations: number;
}

export const SQL = {
  subScores: `select "sub_scores"::text as sub_scores from "learning"."xel_xpi" where "user_id" = ?`,
  ensureProfile: `insert into "learning"."profiles" ("user_id") values (?) on conflict do nothing`,
  insertLedger: `insert into "learning"."ledger" ("id", "user_id", "source", "source_id", "base_xp", "multiplier", "xp", "local_date", "recorded_at")
    values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing returning "id"`,
  ledgerBySource: `select "xp", "user_id" from "learning"."ledger" where "source" = ? and "source_id" = ?`,
  insertSession: `insert into "learning"."sessions" ("source", "source_id", "user_id", "started_at", "seconds", "start_date", "end_date")
    values (?, ?, ?, ?, ?, ?, ?) on conflict do nothing`,
  insertActivity: `insert into "learning"."activities" ("kind", "source_id", "user_id", "amount", "local_date")
    values (?, ?, ?, ?, ?) on conflict do nothing returning "kind"`,
  insertFreeze: `insert into "learning"."freeze_days" ("user_id", "local_date") values (?, ?) on conflict do nothing`,
  completions: `select "type", "completed_at" from "learning"."quest_completions" where "user_id" = ? and "local_date" = ?`,
  insertCompletion: `insert into "learning"."quest_completions" ("user_id", "local_date", "type", "completed_at") values (?, ?, ?, ?) on conflict do nothing returning "type"`,
  /** XP per source on one date. */
  breakdown: `select "source", sum("xp")::int as xp from "learning"."ledger" where "user_id" = ? and "local_date" = ? group by "source"`,
  /** XP per date in [start, end] (the daily rollup: one row per active day). */
  xpByDate: `select "local_date"::text as date, "xp" from "learning"."daily_xp" where "user_id" = ? and "local_date" between ? and ?`,
  freezesBetween: `select "local_date"::text as date from "learning"."freeze_days" where "user_id" = ? and "local_date" between ? and ? order by "local_date"`,
  /** Learning seconds per start date in [start, end], all sources together (XP-5). */
  secondsByDate: `select "start_date"::text as date, sum("seconds")::int as seconds from "learning"."daily_learning"
    where "user_id" = ? and "start_date" between ? and ? group by "start_date"`,
  /** Learning seconds and sessions per start date and source in [start, end]. */
  sessionsByDate: `select "start_date"::text as date, "source", "seconds", "sessions" from "learning"."daily_learning"
    where "user_id" = ? and "start_date" between ? and ?`,
};
