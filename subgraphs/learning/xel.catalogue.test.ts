/** The seeded Xentree English catalogue: at least 12 modules from A1 to C2 and 60 tasks, every type and skill, consistent keys. */
import { describe, expect, it } from 'vitest';
import { CEFR_LEVELS, SKILLS, TASK_TYPES, catalogueSql, loadCatalogue, loadTemplateBank } from './xel.catalogue.ts';

const catalogue = loadCatalogue();
const tasks = catalogue.modules.flatMap((m) => m.tasks);

describe('xel-modules.json', () => {
  it('covers A1–C2 with at least 12 modules and 60 tasks, all five task types and all six skills', () => {
    expect(catalogue.modules.length).toBeGreaterThanOrEqual(12);
    expect(tasks.length).toBeGreaterThanOrEqual(60);
    expect(new Set(catalogue.modules.map((m) => m.cefr_level))).toEqual(new Set(CEFR_LEVELS));
    expect(new Set(tasks.map((t) => t.type))).toEqual(new Set(TASK_TYPES));
    expect(new Set(tasks.map((t) => t.skill))).toEqual(new Set(SKILLS));
  });

  it('has unique ids and orders, and a key for every task that fits its type', () => {
    expect(new Set([...catalogue.modules.map((m) => m.id), ...tasks.map((t) => t.id)]).size).toBe(catalogue.modules.length + tasks.length);
    expect(catalogue.modules.map((m) => m.order)).toEqual(catalogue.modules.map((_, i) => i + 1));
    for (const m of catalogue.modules) {
      expect(m.tasks.map((t) => t.order)).toEqual(m.tasks.map((_, i) => i + 1));
      expect(m.skills).toEqual(SKILLS.filter((s) => m.tasks.some((t) => t.skill === s)));
      for (const t of m.tasks) {
        if (t.type === 'multiple_choice') expect(t.options).toContain(t.answer_key.answer);
        else expect(t.options).toBeNull();
        if (t.type === 'fill_blank') expect(t.answer_key.accepted?.length).toBeGreaterThan(0);
        if (['short_answer', 'writing', 'speaking'].includes(t.type)) expect(t.answer_key.reference?.length).toBeGreaterThan(20);
      }
    }
  });

  it('loads as upserts, one per module and task', () => {
    const sql = catalogueSql(catalogue);
    expect(sql).toHaveLength(catalogue.modules.length + tasks.length);
    expect(sql.every((s) => s.includes('on conflict ("id") do update'))).toBe(true);
  });

  it('gives every task a template bank for offline regeneration: new content, a key that fits the type', () => {
    const bank = loadTemplateBank().templates;
    expect(Object.keys(bank).sort()).toEqual(tasks.map((t) => t.id).sort());
    for (const t of tasks) {
      const templates = bank[t.id] ?? [];
      expect(templates.length).toBeGreaterThanOrEqual(1);
      for (const v of templates) {
        expect(v.prompt).not.toBe(t.prompt);
        if (t.type === 'multiple_choice') expect(v.options).toContain(v.answer_key.answer);
        else expect(v.options).toBeNull();
        if (t.type === 'fill_blank') {
          expect(v.prompt).toContain('___');
          expect(v.answer_key.accepted?.length).toBeGreaterThan(0);
        }
        if (['short_answer', 'writing', 'speaking'].includes(t.type)) {
          const words = v.answer_key.reference?.match(/[A-Za-z']+/g)?.length ?? 0;
          const [min, max] = v.answer_key.target_words ?? [0, 0];
          expect(words, `${t.id}: reference within its target length`).toBeGreaterThanOrEqual(min);
          expect(words).toBeLessThanOrEqual(max);
          expect(v.answer_key.keywords?.length).toBeGreaterThan(0);
        }
      }
    }
  });
});
