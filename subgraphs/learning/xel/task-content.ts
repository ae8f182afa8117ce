/**
 * A task as one user sees it: the catalogue's original, or the newest variant XEL-6 made for
 * them (§3.6). XEL-5 grades against it, XEL-7 reads its prompt and XEL-6 starts from it.
 * The answer key is read here for grading only; nothing returns it to a client.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AnswerKey } from '../xel.catalogue.ts';
import type { TaskContent } from './ai.prompts.ts';

export interface CurrentTask extends TaskContent {
  id: string;
  moduleId: string;
  /** 0 for the original. */
  variant: number;
  /** Which entry of the template bank it is (0: the original; null: written by a remote provider). */
  bankIndex: number | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The user's newest variant of each task (params: user id), for a lateral join on `t`. */
export const LATEST_VARIANT = `left join lateral (select v."variant", v."prompt", v."options", v."audio_url", v."answer_key", v."bank_index"
    from "learning"."xel_task_variants" v where v."user_id" = ? and v."task_id" = t."id" order by v."variant" desc limit 1) v on true`;

/** What a client sees of a task (`t`) as the user's variant (`v`) has it: prompt, options, audio and variant. */
export const VARIANT_COLUMNS = `coalesce(v."prompt", t."prompt") as prompt,
    (case when v."variant" is null then t."options" else v."options" end)::text as options,
    (case when v."variant" is null then t."audio_url" else v."audio_url" end) as audio_url,
    coalesce(v."variant", 0)::int as variant`;

const CURRENT = `select t."id", t."module_id", t."type", t."skill", ${VARIANT_COLUMNS},
    coalesce(v."answer_key", t."answer_key")::text as answer_key,
    (case when v."variant" is null then 0 else v."bank_index" end) as bank_index
  from "learning"."xel_tasks" t ${LATEST_VARIANT}
  where t."id" = ?`;

interface Row {
  id: string;
  module_id: string;
  type: string;
  skill: string;
  prompt: string;
  options: string | null;
  audio_url: string | null;
  answer_key: string;
  variant: number;
  bank_index: number | null;
}

/** The task as `userId` currently sees it, or null for an unknown (or malformed) id. */
export async function findCurrentTask(em: EntityManager, userId: string, taskId: string): Promise<CurrentTask | null> {
  if (!UUID.test(taskId)) return null;
  const [r] = await em.execute<Row[]>(CURRENT, [userId, taskId]);
  if (!r) return null;
  return {
    id: r.id,
    moduleId: r.module_id,
    type: r.type,
    skill: r.skill,
    prompt: r.prompt,
    options: r.options === null ? null : (JSON.parse(r.options) as string[]),
    audioUrl: r.audio_url,
    key: JSON.parse(r.answer_key) as AnswerKey,
    variant: r.variant,
    bankIndex: r.bank_index,
  };
}
