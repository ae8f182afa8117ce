/**
 * XEL-5 submissions and XEL-4 module completion (§3.6, §4.2, §4.9). A submission is
 * graded (exact match, or the AI provider for AI-graded types: xel/ai.ts), recorded with the task's
 * progress, moves the skill's sub-score and the XPI (with a snapshot of the day), and earns
 * `xel_task` XP — all in one transaction, the award included. Answer keys never leave here.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../../../kernel/errors.ts';
import type { Clock } from '../clock.ts';
import type { AwardService } from '../award.service.ts';
import type { XelSessionService } from './session.service.ts';
import type { XelAi } from './ai.ts';
import { findCurrentTask, type CurrentTask } from './task-content.ts';
import { levelOf } from '../rules.ts';
import { localDate } from '../time.ts';
import { SKILL_KEYS, cefrBand, gradeBlank, gradeChoice, observe, round1, xpiOf, type Grade, type SubScores } from './scoring.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PASS = 60;
const EMPTY: SubScores = { listening: null, speaking: null, reading: null, writing: null, grammar: null, vocabulary: null };
const ZEROES = Object.fromEntries(SKILL_KEYS.map((k) => [k, 0])) as Record<(typeof SKILL_KEYS)[number], number>;

const SQL = {
  startModule: `insert into "learning"."xel_module_progress" ("user_id", "module_id", "started_at", "last_activity_at") values (?, ?, ?, ?)
    on conflict ("user_id", "module_id") do update set "last_activity_at" = excluded."last_activity_at"`,
  everPassed: `select "passed" from "learning"."xel_task_progress" where "user_id" = ? and "task_id" = ? for update`,
  progress: `insert into "learning"."xel_task_progress" ("user_id", "task_id", "module_id", "attempts", "best_score", "passed", "last_submitted_at") values (?, ?, ?, 1, ?, ?, ?)
    on conflict ("user_id", "task_id") do update set "attempts" = "xel_task_progress"."attempts" + 1,
      "best_score" = greatest("xel_task_progress"."best_score", excluded."best_score"), "passed" = "xel_task_progress"."passed" or excluded."passed",
      "last_submitted_at" = excluded."last_submitted_at"`,
  submission: `insert into "learning"."xel_submissions" ("id", "user_id", "task_id", "module_id", "answer", "score", "passed", "correct", "feedback", "time_spent_seconds", "submitted_at")
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  moduleState: `select (select count(*) from "learning"."xel_tasks" t where t."module_id" = ?)::int as tasks,
      (select count(*) from "learning"."xel_task_progress" tp where tp."user_id" = ? and tp."module_id" = ? and tp."passed")::int as passed,
      (select "completed_at" from "learning"."xel_module_progress" p where p."user_id" = ? and p."module_id" = ?) as completed_at`,
  xpi: `select "sub_scores"::text as sub_scores, "sample_counts"::text as sample_counts from "learning"."xel_xpi" where "user_id" = ? for update`,
  saveXpi: `insert into "learning"."xel_xpi" ("user_id", "sub_scores", "sample_counts", "updated_at") values (?, ?::jsonb, ?::jsonb, ?)
    on conflict ("user_id") do update set "sub_scores" = excluded."sub_scores", "sample_counts" = excluded."sample_counts", "updated_at" = excluded."updated_at"`,
  snapshot: `insert into "learning"."xel_xpi_history" ("user_id", "local_date", "xpi", "cefr_band", "sub_scores", "recorded_at") values (?, ?, ?, ?, ?::jsonb, ?)`,
  lockModule: `select "completed_at", "score" from "learning"."xel_module_progress" where "user_id" = ? and "module_id" = ? for update`,
  remaining: `select t."id" from "learning"."xel_tasks" t left join "learning"."xel_task_progress" tp on tp."task_id" = t."id" and tp."user_id" = ?
    where t."module_id" = ? and coalesce(tp."passed", false) = false order by t."order", t."id"`,
  meanBest: `select avg(tp."best_score")::float8 as mean from "learning"."xel_task_progress" tp where tp."user_id" = ? and tp."module_id" = ?`,
  complete: `update "learning"."xel_module_progress" set "completed_at" = ?, "score" = ?, "last_activity_at" = ? where "user_id" = ? and "module_id" = ?`,
  profileXp: `select "xp" from "learning"."profiles" where "user_id" = ?`,
  moduleExists: `select "id" from "learning"."xel_modules" where "id" = ?`,
};

export interface SubmitInput {
  answer: string;
  sessionId?: string | null;
  timeSpentSeconds?: number | null;
}

export class XelSubmissionService {
  constructor(
    private readonly awards: AwardService,
    private readonly clock: Clock,
    private readonly sessions: XelSessionService,
    private readonly ai: XelAi,
  ) {}

  /** Exact match for choice and blank; the AI provider for the others. @throws INVALID_OPTION; PROVIDER_ERROR */
  private grade(task: CurrentTask, answer: string): Promise<Grade> | Grade {
    if (task.type === 'multiple_choice') return gradeChoice(answer, task.options ?? [], task.key);
    if (task.type === 'fill_blank') return gradeBlank(answer, task.key);
    return this.ai.grade(task, answer);
  }

  /**
   * XEL-5: grades (against the caller's current variant of the task) and records a submission;
   * starts the module if needed. AI grading runs before the transaction opens.
   * @throws NOT_FOUND "Task not found"; NOT_FOUND "Session not found"; INVALID_OPTION; SESSION_ALREADY_ENDED; PROVIDER_ERROR
   */
  async submit(em: EntityManager, userId: string, taskId: string, input: SubmitInput) {
    const task = await findCurrentTask(em, userId, taskId);
    if (!task) throw notFound('Task');
    if (input.sessionId && !(await this.sessions.isOwned(em, userId, input.sessionId))) throw notFound('Session');
    const grade = await this.grade(task, input.answer);
    const zone = await this.awards.zoneOf(userId);
    const result = await this.awards.transaction(em, async (tx) => {
      const now = this.clock.now();
      if (input.sessionId) {
        // A session that just timed out is closed (and stays closed) before the refusal.
        const refused = await this.sessions.touch(tx, userId, input.sessionId, now, zone).then(() => null, (err: unknown) => err);
        if (refused instanceof AppError && refused.code === 'SESSION_ALREADY_ENDED') return refused;
        if (refused) throw refused;
      }
      const passed = grade.score >= PASS;
      await tx.execute(SQL.startModule, [userId, task.moduleId, now, now]);
      const [before] = await tx.execute<{ passed: boolean }[]>(SQL.everPassed, [userId, taskId]);
      await tx.execute(SQL.progress, [userId, taskId, task.moduleId, grade.score, passed, now]);
      const id = randomUUID();
      await tx.execute(SQL.submission, [id, userId, taskId, task.moduleId, input.answer, grade.score, passed, grade.correct, grade.feedback, input.timeSpentSeconds ?? null, now]);
      const xpi = await this.observe(tx, userId, [[task.skill, grade.score]], now, localDate(now, zone));
      const baseXp = passed && !before?.passed ? 10 : 2;
      const awarded = await this.awards.record(tx, { source: 'xel_task', sourceId: id, userId, baseXp }, zone);
      const [state] = await tx.execute<{ tasks: number; passed: number; completed_at: Date | null }[]>(SQL.moduleState, [task.moduleId, userId, task.moduleId, userId, task.moduleId]);
      return {
        submissionId: id,
        taskId,
        moduleId: task.moduleId,
        score: grade.score,
        passed,
        correct: grade.correct,
        feedback: grade.feedback,
        xpAwarded: awarded.xp,
        moduleProgress: state && state.tasks > 0 ? Math.round((state.passed / state.tasks) * 10_000) / 10_000 : 0,
        moduleStatus: state?.completed_at ? 'completed' : 'in_progress',
        xpi,
        submittedAt: now,
      };
    });
    if (result instanceof AppError) throw result;
    return result;
  }

  /** §4.9: observations (skill, score) in order; stores the XPI and a snapshot of the day. Returns the new XPI. */
  async observe(tx: EntityManager, userId: string, observations: readonly [string, number][], now: Date, today: string): Promise<number | null> {
    const [row] = await tx.execute<{ sub_scores: string; sample_counts: string }[]>(SQL.xpi, [userId]);
    const sub: SubScores = row ? (JSON.parse(row.sub_scores) as SubScores) : { ...EMPTY };
    const counts: Record<string, number> = row ? (JSON.parse(row.sample_counts) as Record<string, number>) : { ...ZEROES };
    for (const [skill, x] of observations) {
      const k = skill as keyof SubScores;
      sub[k] = observe(sub[k], round1(x));
      counts[k] = (counts[k] ?? 0) + 1;
    }
    await tx.execute(SQL.saveXpi, [userId, JSON.stringify(sub), JSON.stringify(counts), now]);
    const xpi = xpiOf(sub);
    if (xpi !== null) await tx.execute(SQL.snapshot, [userId, today, xpi, cefrBand(xpi), JSON.stringify(sub), now]);
    this.awards.note(tx, { type: 'xpi_changed', userId, at: now.toISOString(), xpi });
    return xpi;
  }

  /**
   * XEL-4: completes the module when every task has a passing submission (50 XP the first time).
   * @throws NOT_FOUND "Module not found"; MODULE_INCOMPLETE with `remaining_task_ids`
   */
  async complete(em: EntityManager, userId: string, moduleId: string) {
    if (!UUID.test(moduleId) || (await em.execute(SQL.moduleExists, [moduleId])).length === 0) throw notFound('Module');
    const zone = await this.awards.zoneOf(userId);
    return this.awards.transaction(em, async (tx) => {
      const [xpBefore] = await tx.execute<{ xp: number }[]>(SQL.profileXp, [userId]);
      const levelBefore = levelOf(xpBefore?.xp ?? 0);
      const [progress] = await tx.execute<{ completed_at: Date | string | null; score: number | null }[]>(SQL.lockModule, [userId, moduleId]);
      if (progress?.completed_at) {
        return { moduleId, status: 'completed', completedAt: new Date(progress.completed_at), score: progress.score ?? 0, xpAwarded: 0, alreadyCompleted: true, level: levelBefore, levelUp: false };
      }
      const remaining = (await tx.execute<{ id: string }[]>(SQL.remaining, [userId, moduleId])).map((r) => r.id);
      if (!progress || remaining.length > 0) {
        throw new AppError('MODULE_INCOMPLETE', { extras: { remaining_task_ids: remaining } });
      }
      const now = this.clock.now();
      const [mean] = await tx.execute<{ mean: number }[]>(SQL.meanBest, [userId, moduleId]);
      const score = round1(mean?.mean ?? 0);
      await tx.execute(SQL.complete, [now, score, now, userId, moduleId]);
      const awarded = await this.awards.record(tx, { source: 'xel_module', sourceId: `${userId}:${moduleId}`, userId, baseXp: 50 }, zone);
      const [xpAfter] = await tx.execute<{ xp: number }[]>(SQL.profileXp, [userId]);
      const level = levelOf(xpAfter?.xp ?? 0);
      return { moduleId, status: 'completed', completedAt: now, score, xpAwarded: awarded.xp, alreadyCompleted: false, level, levelUp: level > levelBefore };
    });
  }
}
