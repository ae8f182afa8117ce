/** XEL-5 submissions and XEL-4 completion through the gateway (REST and GraphQL), with §4.9 scoring and §4.2 XP. */
import { describe, expect, it } from 'vitest';
import { coded, notFoundBody, TIMESTAMP, UNKNOWN_ID, UUID_V4, wire } from './assertions.ts';
import { learner, type Learner, useLearningStack } from './learning-fixtures.ts';
import { loadCatalogue } from '../subgraphs/learning/xel.catalogue.ts';

const t = useLearningStack();

const module = loadCatalogue().modules[0]!;
const task = (type: string) => module.tasks.find((x) => x.type === type)!;
const submit = (l: Learner, taskId: string, json: unknown) => t.rest('POST', `/api/xel/tasks/${taskId}/submit`, { json, headers: l.headers });
/** An answer that passes: the key, or the reference answer for graded types. */
const passing = (x: (typeof module.tasks)[number]): string => x.answer_key.answer ?? x.answer_key.accepted?.[0] ?? x.answer_key.reference ?? '';

describe('XEL-5 submit', () => {
  it('multiple choice: normalised answers, 10 XP for the first pass then 2, the skill sub-score and XPI', async () => {
    const l = await learner(t);
    const mc = task('multiple_choice');
    const key = mc.answer_key.answer!;
    const res = await submit(l, mc.id, { answer: `  ${key.toUpperCase().replace(/\.$/, '')}!! `, time_spent_seconds: 12 });
    expect(wire(res)).toEqual({
      status: 201,
      body: {
        submission_id: expect.stringMatching(UUID_V4), task_id: mc.id, module_id: module.id, score: 100, passed: true, correct: true, feedback: 'Correct.',
        xp_awarded: 10, module_progress: 0.2, module_status: 'in_progress', xpi: 100, submitted_at: expect.stringMatching(TIMESTAMP),
      },
    });
    const wrong = mc.options!.find((o) => o !== key)!;
    expect((await submit(l, mc.id, { answer: wrong })).body).toMatchObject({ score: 0, passed: false, correct: false, feedback: 'Incorrect.', xp_awarded: 2, module_progress: 0.2, xpi: 70 });
    expect(wire(await submit(l, mc.id, { answer: 'none of these' }))).toEqual({ status: 400, body: coded('invalid_option', 'Answer is not one of the task options') });
    const detail = await t.rest('GET', `/api/xel/modules/${module.id}`, { headers: l.headers });
    expect(detail.body).toMatchObject({ status: 'in_progress', passed_task_count: 1, progress: 0.2 });
    expect((detail.body as { tasks: unknown[] }).tasks[mc.order - 1]).toMatchObject({ attempts: 2, best_score: 100, passed: true, last_submitted_at: expect.stringMatching(TIMESTAMP) });
  });

  it('fill in the blank against the accepted answers; graded types get the rubric with measured feedback', async () => {
    const l = await learner(t);
    const fb = task('fill_blank');
    expect((await submit(l, fb.id, { answer: `${fb.answer_key.accepted![0]!.toUpperCase()}.` })).body).toMatchObject({ score: 100, correct: true });
    const writing = task('writing');
    const res = await submit(l, writing.id, { answer: writing.answer_key.reference! });
    expect(res.status).toBe(201);
    const body = res.body as { score: number; correct: null; feedback: string; passed: boolean };
    expect(body.correct).toBeNull();
    expect(body.score).toBeGreaterThanOrEqual(60);
    expect(body.feedback).toMatch(/^Length: \d+ words \(target \d+–\d+\)\. Task keywords covered: \d+ of \d+\. Overlap with the reference answer: \d+% of its content words\. Lexical variety: \d+% different words\. Sentences: \d+, [\d.]+ words on average\.$/);
    const short = await submit(l, writing.id, { answer: 'Hi.' });
    expect((short.body as { score: number; passed: boolean }).passed).toBe(false);
  });

  it('404 Task, 404 Session for a session that is not the caller, 422 for a missing answer', async () => {
    const l = await learner(t);
    expect(wire(await submit(l, UNKNOWN_ID, { answer: 'x' }))).toEqual({ status: 404, body: notFoundBody('Task') });
    expect(wire(await submit(l, module.tasks[0]!.id, { answer: 'x', session_id: UNKNOWN_ID }))).toEqual({ status: 404, body: notFoundBody('Session') });
    const bad = await submit(l, module.tasks[0]!.id, {});
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ detail: [{ type: 'missing', loc: ['body', 'answer'] }] });
  });
});

describe('XEL-4 complete', () => {
  it('409 with the tasks left until every task passed; then 50 XP once, the mean best score, already_completed after', async () => {
    const l = await learner(t);
    const complete = () => t.rest('POST', `/api/xel/modules/${module.id}/complete`, { headers: l.headers });
    expect(wire(await complete())).toEqual({ status: 409, body: coded('module_incomplete', 'Module has tasks without a passing submission', { remaining_task_ids: module.tasks.map((x) => x.id) }) });
    for (const x of module.tasks.slice(0, -1)) expect((await submit(l, x.id, { answer: passing(x) })).body).toMatchObject({ passed: true });
    const last = module.tasks.at(-1)!;
    expect(wire(await complete())).toEqual({ status: 409, body: coded('module_incomplete', 'Module has tasks without a passing submission', { remaining_task_ids: [last.id] }) });
    await submit(l, last.id, { answer: passing(last) });
    const detail = (await t.rest('GET', `/api/xel/modules/${module.id}`, { headers: l.headers })).body as { tasks: { best_score: number }[] };
    const mean = Math.round((detail.tasks.reduce((a, x) => a + x.best_score, 0) / detail.tasks.length) * 10) / 10;
    const done = await complete();
    expect(done.status).toBe(200);
    const body = done.body as { xp_awarded: number; level: number };
    expect(done.body).toEqual({ module_id: module.id, status: 'completed', completed_at: expect.stringMatching(TIMESTAMP), score: mean, xp_awarded: body.xp_awarded, already_completed: false, level: body.level, level_up: body.level > 1 });
    // 50, or 100 when the day's three quests had already started the booster.
    expect([50, 100]).toContain(body.xp_awarded);
    const profile = (await t.rest('GET', '/api/xp/profile', { headers: l.headers })).body as { today_xp_breakdown: { xel_module: number; xel_task: number } };
    expect(profile.today_xp_breakdown.xel_module).toBe(body.xp_awarded);
    expect((await complete()).body).toMatchObject({ status: 'completed', score: mean, xp_awarded: 0, already_completed: true, level_up: false });
    expect((await t.rest('GET', `/api/xel/modules/${module.id}`, { headers: l.headers })).body).toMatchObject({ status: 'completed', progress: 1, score: mean });
  });

  it('404 Module for an unknown module', async () => {
    const l = await learner(t);
    expect(wire(await t.rest('POST', `/api/xel/modules/${UNKNOWN_ID}/complete`, { headers: l.headers }))).toEqual({ status: 404, body: notFoundBody('Module') });
  });
});

describe('GraphQL', () => {
  it('submitXelTask and completeXelModule', async () => {
    const l = await learner(t);
    const fb = task('fill_blank');
    const res = await t.gql('mutation($id: ID!, $a: String!) { submitXelTask(taskId: $id, input: { answer: $a }) { score passed correct xpAwarded moduleStatus } }', { id: fb.id, a: fb.answer_key.accepted![0] }, l.headers);
    expect(res.body).toEqual({ data: { submitXelTask: { score: 100, passed: true, correct: true, xpAwarded: 10, moduleStatus: 'in_progress' } } });
    const tooLong = await t.gql('mutation($id: ID!, $a: String!) { submitXelTask(taskId: $id, input: { answer: $a }) { score } }', { id: fb.id, a: 'x'.repeat(10_001) }, l.headers);
    expect(tooLong.body).toMatchObject({ data: null, errors: [{ extensions: { code: 'BAD_USER_INPUT', status: 422 } }] });
    const incomplete = await t.gql('mutation($id: ID!) { completeXelModule(id: $id) { score } }', { id: module.id }, l.headers);
    expect(incomplete.body.errors?.[0]?.extensions).toMatchObject({ code: 'MODULE_INCOMPLETE', status: 409, remaining_task_ids: module.tasks.filter((x) => x.id !== fb.id).map((x) => x.id) });
  });
});
