/**
 * The Xentree English module catalogue (xel-modules.json beside this file, versioned): twelve modules from A1 to
 * C2, five tasks each, with their answer keys. Loaded into the database at migration by upsert
 * (loading the same version twice changes nothing). Answer keys stay in the database and in this
 * subgraph: no GraphQL field, log line or error text carries them.
 */
import { readFileSync } from 'node:fs';

export const CEFR_LEVELS = ['A1', 'A2', 'B1', 'B2', 'C1', 'C2'] as const;
export const SKILLS = ['listening', 'speaking', 'reading', 'writing', 'grammar', 'vocabulary'] as const;
export const TASK_TYPES = ['multiple_choice', 'fill_blank', 'short_answer', 'writing', 'speaking'] as const;
export type CefrLevel = (typeof CEFR_LEVELS)[number];
export type Skill = (typeof SKILLS)[number];
export type TaskType = (typeof TASK_TYPES)[number];

export interface AnswerKey {
  /** multiple_choice: the correct option. */
  answer?: string;
  /** fill_blank: every accepted answer. */
  accepted?: string[];
  /** AI-graded types: a reference answer, the keywords it covers and the target length in words. */
  reference?: string;
  keywords?: string[];
  target_words?: [number, number];
}

export interface CatalogueTask {
  id: string;
  order: number;
  type: (typeof TASK_TYPES)[number];
  skill: (typeof SKILLS)[number];
  prompt: string;
  options: string[] | null;
  audio_url: string | null;
  answer_key: AnswerKey;
}

export interface CatalogueModule {
  id: string;
  slug: string;
  title: string;
  description: string;
  cefr_level: (typeof CEFR_LEVELS)[number];
  skills: string[];
  order: number;
  estimated_minutes: number;
  tasks: CatalogueTask[];
}

export interface Catalogue {
  version: number;
  modules: CatalogueModule[];
}

export function loadCatalogue(): Catalogue {
  return JSON.parse(readFileSync(new URL('./xel-modules.json', import.meta.url), 'utf8')) as Catalogue;
}

/** A variant of a task in the template bank (xel-templates.json): the same type and skill, new content and key. */
export interface TaskTemplate {
  prompt: string;
  options: string[] | null;
  audio_url: string | null;
  answer_key: AnswerKey;
}

export interface TemplateBank {
  version: number;
  /** By task id: the alternatives to the catalogue's original. */
  templates: Record<string, TaskTemplate[]>;
}

let bank: TemplateBank | null = null;

/** The template bank the offline provider draws XEL-6 variants from (read once; its keys stay in this subgraph). */
export function loadTemplateBank(): TemplateBank {
  bank ??= JSON.parse(readFileSync(new URL('./xel-templates.json', import.meta.url), 'utf8')) as TemplateBank;
  return bank;
}

/** A SQL string literal. */
const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const json = (v: unknown): string => `${lit(JSON.stringify(v))}::jsonb`;
const textOrNull = (s: string | null): string => (s === null ? 'null' : lit(s));

/** Upserts of every module and task of the catalogue. */
export function catalogueSql(catalogue: Catalogue = loadCatalogue()): string[] {
  const out: string[] = [];
  for (const m of catalogue.modules) {
    out.push(`insert into "learning"."xel_modules" ("id", "slug", "title", "description", "cefr_level", "skills", "order", "estimated_minutes", "catalogue_version")
      values (${lit(m.id)}, ${lit(m.slug)}, ${lit(m.title)}, ${lit(m.description)}, ${lit(m.cefr_level)}, ${json(m.skills)}, ${m.order}, ${m.estimated_minutes}, ${catalogue.version})
      on conflict ("id") do update set "slug" = excluded."slug", "title" = excluded."title", "description" = excluded."description", "cefr_level" = excluded."cefr_level",
        "skills" = excluded."skills", "order" = excluded."order", "estimated_minutes" = excluded."estimated_minutes", "catalogue_version" = excluded."catalogue_version"`);
    for (const t of m.tasks) {
      out.push(`insert into "learning"."xel_tasks" ("id", "module_id", "order", "type", "skill", "prompt", "options", "audio_url", "answer_key")
        values (${lit(t.id)}, ${lit(m.id)}, ${t.order}, ${lit(t.type)}, ${lit(t.skill)}, ${lit(t.prompt)}, ${t.options ? json(t.options) : 'null'}, ${textOrNull(t.audio_url)}, ${json(t.answer_key)})
        on conflict ("id") do update set "module_id" = excluded."module_id", "order" = excluded."order", "type" = excluded."type", "skill" = excluded."skill",
          "prompt" = excluded."prompt", "options" = excluded."options", "audio_url" = excluded."audio_url", "answer_key" = excluded."answer_key"`);
    }
  }
  return out;
}
