/**
 * XEL-7 (§3.6, §4.2, §4.9): evaluates a speaking transcript or a written text through the AI
 * provider (the offline rubric of evaluation.rubric.ts for `local`), stores it, updates the skill, grammar and vocabulary sub-scores, and records
 * `xel_evaluation` XP (15 for each of the first 5 evaluations of the user's local day, 0 after).
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../../../kernel/errors.ts';
import type { Clock } from '../clock.ts';
import type { AwardService } from '../award.service.ts';
import { localDate } from '../time.ts';
import { cefrBand } from './scoring.ts';
import type { XelAi } from './ai.ts';
import { findCurrentTask } from './task-content.ts';
import type { XelSessionService } from './session.service.ts';
import type { XelSubmissionService } from './submission.service.ts';

const SQL = {
  today: `select count(*)::int as n from "learning"."ledger" where "user_id" = ? and "local_date" = ? and "source" = 'xel_evaluation'`,
  insert: `insert into "learning"."xel_evaluations" ("id", "user_id", "kind", "text", "overall_score", "cefr_band", "criteria", "feedback", "suggestions", "task_id", "session_id", "created_at")
    values (?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?::jsonb, ?, ?, ?)`,
};

export interface EvaluationInput {
  kind: 'speaking' | 'writing';
  text: string;
  prompt?: string | null;
  taskId?: string | null;
  sessionId?: string | null;
}

export class XelEvaluationService {
  constructor(
    private readonly awards: AwardService,
    private readonly submissions: XelSubmissionService,
    private readonly sessions: XelSessionService,
    private readonly clock: Clock,
    private readonly ai: XelAi,
  ) {}

  /**
   * Evaluates through the AI provider (before the transaction opens), then records.
   * @throws NOT_FOUND "Task not found" / "Session not found"; SESSION_ALREADY_ENDED; PROVIDER_ERROR
   */
  async evaluate(em: EntityManager, userId: string, input: EvaluationInput) {
    let prompt = input.prompt ?? null;
    if (input.taskId) {
      const task = await findCurrentTask(em, userId, input.taskId);
      if (!task) throw notFound('Task');
      prompt ??= task.prompt;
    }
    if (input.sessionId && !(await this.sessions.isOwned(em, userId, input.sessionId))) throw notFound('Session');
    const zone = await this.awards.zoneOf(userId);
    const { criteria, overall, suggestions, summary } = await this.ai.evaluate(input.kind, input.text, prompt);
    const band = cefrBand(overall) ?? 'A1';
    const measured = `Overall ${overall}/100 (${band}). ${criteria.map((c) => `${c.name}: ${c.score}`).join(', ')}.`;
    const feedback = summary === null ? measured : `${measured} ${summary}`;
    const result = await this.awards.transaction(em, async (tx) => {
      const now = this.clock.now();
      const today = localDate(now, zone);
      if (input.sessionId) {
        const refused = await this.sessions.touch(tx, userId, input.sessionId, now, zone).then(() => null, (err: unknown) => err);
        if (refused instanceof AppError && refused.code === 'SESSION_ALREADY_ENDED') return refused;
        if (refused) throw refused;
      }
      const [{ n } = { n: 0 }] = await tx.execute<{ n: number }[]>(SQL.today, [userId, today]);
      const id = randomUUID();
      await tx.execute(SQL.insert, [id, userId, input.kind, input.text, overall, band, JSON.stringify(criteria), feedback, JSON.stringify(suggestions), input.taskId ?? null, input.sessionId ?? null, now]);
      const score = (name: string): number => criteria.find((c) => c.name === name)?.score ?? overall;
      await this.submissions.observe(tx, userId, [[input.kind, overall], ['grammar', score('grammar')], ['vocabulary', score('vocabulary')]], now, today);
      const awarded = await this.awards.record(tx, { source: 'xel_evaluation', sourceId: id, userId, baseXp: n < 5 ? 15 : 0 }, zone);
      return { evaluationId: id, kind: input.kind, overallScore: overall, cefrBand: band, criteria, feedback, suggestions, xpAwarded: awarded.xp, createdAt: now };
    });
    if (result instanceof AppError) throw result;
    return result;
  }
}
