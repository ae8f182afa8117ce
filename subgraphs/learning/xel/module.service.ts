/**
 * Xentree English modules (XEL-1..3): the catalogue with the caller's progress. Every module is
 * unlocked; starting one is idempotent (its `started_at` is set once). Answer keys are never read
 * here.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '../../../kernel/errors.ts';
import type { Clock } from '../clock.ts';
import type { CefrLevel, Skill, TaskType } from '../xel.catalogue.ts';
import { LATEST_VARIANT, VARIANT_COLUMNS } from './task-content.ts';

export type ModuleStatus = 'not_started' | 'in_progress' | 'completed';

export interface XelModuleView {
  id: string;
  slug: string;
  title: string;
  description: string;
  cefrLevel: CefrLevel;
  skills: Skill[];
  order: number;
  taskCount: number;
  estimatedMinutes: number;
  status: ModuleStatus;
  progress: number;
  passedTaskCount: number;
  score: number | null;
  startedAt: Date | null;
  completedAt: Date | null;
}

export interface XelTaskView {
  id: string;
  moduleId: string;
  order: number;
  type: TaskType;
  skill: Skill;
  prompt: string;
  options: string[] | null;
  audioUrl: string | null;
  variant: number;
  maxScore: number;
  attempts: number;
  bestScore: number | null;
  passed: boolean;
  lastSubmittedAt: Date | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const SQL = {
  modules: `select m."id", m."slug", m."title", m."description", m."cefr_level", m."skills"::text as skills, m."order", m."estimated_minutes",
      (select count(*) from "learning"."xel_tasks" t where t."module_id" = m."id")::int as task_count,
      (select count(*) from "learning"."xel_task_progress" tp where tp."user_id" = ? and tp."module_id" = m."id" and tp."passed")::int as passed,
      p."started_at", p."completed_at", p."score"
    from "learning"."xel_modules" m
    left join "learning"."xel_module_progress" p on p."module_id" = m."id" and p."user_id" = ?`,
  /** The caller's tasks as they see them (their newest XEL-6 variant, if any); params: user id ×2, then the filter's. */
  tasks: `select t."id", t."module_id", t."order", t."type", t."skill", ${VARIANT_COLUMNS},
      coalesce(tp."attempts", 0)::int as attempts, tp."best_score", coalesce(tp."passed", false) as passed, tp."last_submitted_at"
    from "learning"."xel_tasks" t
    left join "learning"."xel_task_progress" tp on tp."task_id" = t."id" and tp."user_id" = ?
    ${LATEST_VARIANT}`,
  start: `insert into "learning"."xel_module_progress" ("user_id", "module_id", "started_at", "last_activity_at") values (?, ?, ?, ?)
    on conflict ("user_id", "module_id") do update set "last_activity_at" = excluded."last_activity_at"`,
};

interface ModuleRow {
  id: string;
  slug: string;
  title: string;
  description: string;
  cefr_level: CefrLevel;
  skills: string;
  order: number;
  estimated_minutes: number;
  task_count: number;
  passed: number;
  started_at: Date | string | null;
  completed_at: Date | string | null;
  score: number | null;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

interface TaskRow {
  id: string;
  module_id: string;
  order: number;
  type: TaskType;
  skill: Skill;
  prompt: string;
  options: string | null;
  audio_url: string | null;
  variant: number;
  attempts: number;
  best_score: number | null;
  passed: boolean;
  last_submitted_at: Date | string | null;
}

function toTask(t: TaskRow): XelTaskView {
  return {
    id: t.id,
    moduleId: t.module_id,
    order: t.order,
    type: t.type,
    skill: t.skill,
    prompt: t.prompt,
    options: t.options === null ? null : (JSON.parse(t.options) as string[]),
    audioUrl: t.audio_url,
    variant: t.variant,
    maxScore: 100,
    attempts: t.attempts,
    bestScore: t.best_score,
    passed: t.passed,
    lastSubmittedAt: date(t.last_submitted_at),
  };
}

function toModule(r: ModuleRow): XelModuleView {
  const status: ModuleStatus = r.completed_at ? 'completed' : r.started_at ? 'in_progress' : 'not_started';
  return {
    id: r.id,
    slug: r.slug,
    title: r.title,
    description: r.description,
    cefrLevel: r.cefr_level,
    skills: JSON.parse(r.skills) as Skill[],
    order: r.order,
    taskCount: r.task_count,
    estimatedMinutes: r.estimated_minutes,
    status,
    progress: r.task_count === 0 ? 0 : Math.round((r.passed / r.task_count) * 10_000) / 10_000,
    passedTaskCount: r.passed,
    score: r.score,
    startedAt: date(r.started_at),
    completedAt: date(r.completed_at),
  };
}

export class XelModuleService {
  constructor(private readonly clock: Clock) {}

  /** XEL-1: every module in catalogue order, optionally of one level and/or status. */
  async list(em: EntityManager, userId: string, level: string | null, status: ModuleStatus | null): Promise<XelModuleView[]> {
    const rows = await em.execute<ModuleRow[]>(`${SQL.modules} where (?::text is null or m."cefr_level" = ?) order by m."order", m."id"`, [userId, userId, level, level]);
    return rows.map(toModule).filter((m) => status === null || m.status === status);
  }

  /** One module with the caller's progress, or null. */
  async find(em: EntityManager, userId: string, moduleId: string): Promise<XelModuleView | null> {
    if (!UUID.test(moduleId)) return null;
    const [row] = await em.execute<ModuleRow[]>(`${SQL.modules} where m."id" = ?`, [userId, userId, moduleId]);
    return row ? toModule(row) : null;
  }

  /** XEL-2's tasks of a module, by order, with the caller's attempts (never the answer key). */
  async tasks(em: EntityManager, userId: string, moduleId: string): Promise<XelTaskView[]> {
    const rows = await em.execute<TaskRow[]>(`${SQL.tasks} where t."module_id" = ? order by t."order", t."id"`, [userId, userId, moduleId]);
    return rows.map(toTask);
  }

  /** One task as the caller sees it, or null. */
  async task(em: EntityManager, userId: string, taskId: string): Promise<XelTaskView | null> {
    if (!UUID.test(taskId)) return null;
    const [row] = await em.execute<TaskRow[]>(`${SQL.tasks} where t."id" = ?`, [userId, userId, taskId]);
    return row ? toTask(row) : null;
  }

  /**
   * XEL-3: starts the module (the first call sets `started_at`; later ones keep it).
   * @throws NOT_FOUND "Module not found"
   */
  async start(em: EntityManager, userId: string, moduleId: string): Promise<{ moduleId: string; status: ModuleStatus; startedAt: Date; nextTaskId: string | null }> {
    if (!(await this.find(em, userId, moduleId))) throw notFound('Module');
    const now = this.clock.now();
    await em.execute(SQL.start, [userId, moduleId, now, now]);
    const module = await this.find(em, userId, moduleId);
    if (!module?.startedAt) throw notFound('Module');
    const next = (await this.tasks(em, userId, moduleId)).find((t) => !t.passed);
    return { moduleId, status: module.status === 'completed' ? 'completed' : 'in_progress', startedAt: module.startedAt, nextTaskId: next?.id ?? null };
  }
}
