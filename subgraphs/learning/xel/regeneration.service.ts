/**
 * XEL-6 (§3.6, §4.9): a new variant of a task, of the same type and skill, through the AI
 * provider; stored for this user only with its own answer key, numbered one above the current
 * one. At most 3 per task per user per local day: checked before the provider is asked (a 4th
 * call costs nothing) and again under the user's row lock when the variant is stored, so
 * concurrent calls cannot exceed it. Progress already made on the task is kept.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../../../kernel/errors.ts';
import type { Clock } from '../clock.ts';
import type { AwardService } from '../award.service.ts';
import { loadTemplateBank } from '../xel.catalogue.ts';
import { localDate } from '../time.ts';
import type { VariantContent, XelAi } from './ai.ts';
import type { XelModuleService, XelTaskView } from './module.service.ts';
import { findCurrentTask, type CurrentTask } from './task-content.ts';

export const REGENERATE_LIMIT = 3;

const SQL = {
  today: `select count(*)::int as n from "learning"."xel_task_variants" where "user_id" = ? and "task_id" = ? and "local_date" = ?`,
  ensureProfile: `insert into "learning"."profiles" ("user_id") values (?) on conflict do nothing`,
  lockUser: `select "user_id" from "learning"."profiles" where "user_id" = ? for update`,
  latest: `select coalesce(max("variant"), 0)::int as n from "learning"."xel_task_variants" where "user_id" = ? and "task_id" = ?`,
  insert: `insert into "learning"."xel_task_variants" ("user_id", "task_id", "variant", "prompt", "options", "audio_url", "answer_key", "bank_index", "local_date", "created_at")
    values (?, ?, ?, ?, ?::jsonb, ?, ?::jsonb, ?, ?, ?)`,
  original: `select "prompt", "options"::text as options, "audio_url", "answer_key"::text as answer_key from "learning"."xel_tasks" where "id" = ?`,
};

const limitReached = (): AppError => new AppError('REGENERATE_LIMIT_REACHED', { extras: { limit: REGENERATE_LIMIT } });

export class XelRegenerationService {
  constructor(
    private readonly ai: XelAi,
    private readonly awards: AwardService,
    private readonly modules: XelModuleService,
    private readonly clock: Clock,
  ) {}

  /**
   * XEL-6: regenerates the task for `userId` and returns it as they now see it.
   * @throws NOT_FOUND "Task not found"; REGENERATE_LIMIT_REACHED with `limit`; PROVIDER_ERROR
   */
  async regenerate(em: EntityManager, userId: string, taskId: string): Promise<XelTaskView> {
    const task = await findCurrentTask(em, userId, taskId);
    if (!task) throw notFound('Task');
    const zone = await this.awards.zoneOf(userId);
    const [before] = await em.execute<{ n: number }[]>(SQL.today, [userId, taskId, localDate(this.clock.now(), zone)]);
    if ((before?.n ?? 0) >= REGENERATE_LIMIT) throw limitReached();
    // The provider is asked outside any transaction (no network call while one is open).
    const variant = await this.ai.variant(task, await this.bank(em, task), task.bankIndex);
    await em.transactional(async (tx) => {
      const now = this.clock.now();
      const today = localDate(now, zone);
      await tx.execute(SQL.ensureProfile, [userId]);
      await tx.execute(SQL.lockUser, [userId]);
      const [count] = await tx.execute<{ n: number }[]>(SQL.today, [userId, taskId, today]);
      if ((count?.n ?? 0) >= REGENERATE_LIMIT) throw limitReached();
      const [latest] = await tx.execute<{ n: number }[]>(SQL.latest, [userId, taskId]);
      const key = JSON.stringify(variant.key);
      const options = variant.options === null ? null : JSON.stringify(variant.options);
      await tx.execute(SQL.insert, [userId, taskId, (latest?.n ?? 0) + 1, variant.prompt, options, variant.audioUrl, key, variant.bankIndex, today, now]);
    });
    const view = await this.modules.task(em, userId, taskId);
    if (!view) throw notFound('Task');
    return view;
  }

  /** The task's bank: the catalogue's original first, then its templates. */
  private async bank(em: EntityManager, task: CurrentTask): Promise<VariantContent[]> {
    const [o] = await em.execute<{ prompt: string; options: string | null; audio_url: string | null; answer_key: string }[]>(SQL.original, [task.id]);
    const original: VariantContent[] = o ? [{ prompt: o.prompt, options: o.options === null ? null : (JSON.parse(o.options) as string[]), audioUrl: o.audio_url, key: JSON.parse(o.answer_key) as VariantContent['key'] }] : [];
    const templates = (loadTemplateBank().templates[task.id] ?? []).map((t) => ({ prompt: t.prompt, options: t.options, audioUrl: t.audio_url, key: t.answer_key }));
    return [...original, ...templates];
  }
}
