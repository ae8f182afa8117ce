/** The seeded Xentree English catalogue: at least 12 modules from A1 to C2 and 60 tasks, every type and skill, consistent keys. */
import { describe, expect, it } from 'vitest';
import { CEFR_LEVELS, SKILLS, TASK_TYPES, catalogueSql, loadCatalogue } from './xel.catalogue.ts';

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
});
