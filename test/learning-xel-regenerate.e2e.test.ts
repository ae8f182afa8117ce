/**
 * XEL-6 task regeneration with the offline `local` provider, through the gateway (REST and
 * GraphQL): a variant drawn from the task's template bank (never the current one), stored for
 * the caller only and used by XEL-2 and XEL-5 from then on; progress kept; 3 per task per
 * local day (the 4th is 429 `regenerate_limit_reached`); answer keys never in a response.
 */
import { describe, expect, it } from 'vitest';
import { coded, notFoundBody, UNKNOWN_ID, wire } from './assertions.ts';
import { at, learner, type Learner, useLearningStack } from './learning-fixtures.ts';
import { apiKey, createKey, createOrg } from './org-fixtures.ts';
import { loadCatalogue, loadTemplateBank } from '../subgraphs/learning/xel.catalogue.ts';

const t = useLearningStack();

const module = loadCatalogue().modules[0]!;
const task = (type: string) => module.tasks.find((x) => x.type === type)!;
/** A fill-in-the-blank task whose template's accepted answers differ from the original's ("gets" / "drinks"). */
const routines = loadCatalogue().modules[1]!;
const blank = routines.tasks.find((x) => x.type === 'fill_blank')!;
const template = (taskId: string) => loadTemplateBank().templates[taskId]![0]!;
const regenerate = (l: Learner, taskId: string, headers = l.headers) => t.rest('POST', `/api/xel/tasks/${taskId}/regenerate`, { headers });
const detail = async (l: Learner, moduleId = module.id) => (await t.rest('GET', `/api/xel/modules/${moduleId}`, { headers: l.headers })).body as { tasks: { id: string; prompt: string; options: string[] | null; variant: number; attempts: number; passed: boolean }[] };
const LIMIT = coded('regenerate_limit_reached', 'Daily regeneration limit reached for this task', { limit: 3 });

describe('XEL-6 regenerate (local provider)', () => {
  it('draws the next template: same id, module, order, type and skill; new prompt and options; variant + 1; no key', async () => {
    const l = await learner(t);
    const mc = task('multiple_choice');
    const alt = template(mc.id);
    const res = await regenerate(l, mc.id);
    expect(wire(res)).toEqual({
      status: 200,
      body: { id: mc.id, module_id: module.id, order: mc.order, type: 'multiple_choice', skill: mc.skill, prompt: alt.prompt, options: alt.options, audio_url: null, variant: 1, max_score: 100 },
    });
    // XEL-2 shows the variant to this user only.
    expect((await detail(l)).tasks.find((x) => x.id === mc.id)).toMatchObject({ prompt: alt.prompt, options: alt.options, variant: 1 });
    const other = await learner(t);
    expect((await detail(other)).tasks.find((x) => x.id === mc.id)).toMatchObject({ prompt: mc.prompt, options: mc.options, variant: 0 });
  });

  it('XEL-5 grades against the variant; progress made before is kept', async () => {
    const l = await learner(t);
    const fb = blank;
    const submitBlank = (answer: string) => t.rest('POST', `/api/xel/tasks/${fb.id}/submit`, { json: { answer }, headers: l.headers });
    expect((await submitBlank(fb.answer_key.accepted![0]!)).body).toMatchObject({ score: 100, passed: true });
    await regenerate(l, fb.id);
    expect((await detail(l, routines.id)).tasks.find((x) => x.id === fb.id)).toMatchObject({ variant: 1, attempts: 1, passed: true, prompt: template(fb.id).prompt });
    expect(template(fb.id).answer_key.accepted).not.toContain(fb.answer_key.accepted![0]);
    expect((await submitBlank(template(fb.id).answer_key.accepted![0]!)).body).toMatchObject({ score: 100, correct: true, xp_awarded: 2 });
    expect((await submitBlank(fb.answer_key.accepted![0]!)).body).toMatchObject({ score: 0, correct: false });
    // A multiple-choice variant: the old options are no longer options.
    const mc = task('multiple_choice');
    await regenerate(l, mc.id);
    const gone = mc.options!.find((o) => !template(mc.id).options!.includes(o))!;
    expect(wire(await t.rest('POST', `/api/xel/tasks/${mc.id}/submit`, { json: { answer: gone }, headers: l.headers }))).toEqual({
      status: 400,
      body: coded('invalid_option', 'Answer is not one of the task options'),
    });
    expect((await t.rest('POST', `/api/xel/tasks/${mc.id}/submit`, { json: { answer: template(mc.id).answer_key.answer }, headers: l.headers })).body).toMatchObject({ score: 100, correct: true });
  });

  it('3 per task per local day: the 4th is 429 with the limit, another task is not affected, the next local day allows more', async () => {
    const l = await learner(t, 'Pacific/Auckland');
    const writing = task('writing');
    at('2026-05-10T11:00:00.000Z'); // 23:00 on 10 May in Auckland
    const variants: { variant: number; prompt: string }[] = [];
    for (let i = 0; i < 3; i++) variants.push((await regenerate(l, writing.id)).body as { variant: number; prompt: string });
    // The bank alternates with the original: never the current prompt.
    expect(variants.map((v) => [v.variant, v.prompt])).toEqual([
      [1, template(writing.id).prompt],
      [2, writing.prompt],
      [3, template(writing.id).prompt],
    ]);
    expect(wire(await regenerate(l, writing.id))).toEqual({ status: 429, body: LIMIT });
    expect((await regenerate(l, task('speaking').id)).status).toBe(200);
    at('2026-05-10T12:00:00.000Z'); // 00:00 on 11 May in Auckland
    expect((await regenerate(l, writing.id)).body).toMatchObject({ variant: 4, prompt: writing.prompt });
  });

  it('never returns an answer key or reference answer', async () => {
    const l = await learner(t);
    const writing = task('writing');
    const res = await regenerate(l, writing.id);
    expect(res.text).not.toContain(template(writing.id).answer_key.reference!.slice(0, 30));
    expect(res.text).not.toMatch(/answer_key|reference|accepted|keywords/);
    const all = JSON.stringify(await detail(l));
    expect(all).not.toMatch(/answer_key|reference|accepted/);
  });

  it('404 Task for an unknown id, 422 for a malformed one; an API key needs xel:write', async () => {
    const l = await learner(t);
    expect(wire(await regenerate(l, UNKNOWN_ID))).toEqual({ status: 404, body: notFoundBody('Task') });
    expect((await regenerate(l, 'not-a-uuid')).status).toBe(422);
    const org = await createOrg(t, l);
    const key = await createKey(t, l, org.id, ['xel:read']);
    expect(wire(await regenerate(l, task('writing').id, apiKey(key.key)))).toEqual({
      status: 403,
      body: coded('INSUFFICIENT_API_KEY_SCOPE', 'API key lacks required scope for this endpoint', { required_scope: 'xel:write', granted_scopes: ['xel:read'] }),
    });
    const writer = await createKey(t, l, org.id, ['xel:write']);
    expect((await regenerate(l, task('writing').id, apiKey(writer.key))).body).toMatchObject({ variant: 1 });
  });
});

describe('regenerateXelTask (GraphQL)', () => {
  const MUTATION = 'mutation($id: ID!) { regenerateXelTask(taskId: $id) { id moduleId type skill prompt options variant attempts passed } }';

  it('returns the variant with the caller progress; the limit and unknown tasks as coded errors', async () => {
    const l = await learner(t);
    const speaking = task('speaking');
    const res = await t.gql(MUTATION, { id: speaking.id }, l.headers);
    expect(res.body).toEqual({
      data: { regenerateXelTask: { id: speaking.id, moduleId: module.id, type: 'SPEAKING', skill: 'SPEAKING', prompt: template(speaking.id).prompt, options: null, variant: 1, attempts: 0, passed: false } },
    });
    await t.gql(MUTATION, { id: speaking.id }, l.headers);
    await t.gql(MUTATION, { id: speaking.id }, l.headers);
    expect((await t.gql(MUTATION, { id: speaking.id }, l.headers)).body).toEqual({
      errors: [{ message: 'Daily regeneration limit reached for this task', path: ['regenerateXelTask'], extensions: { code: 'REGENERATE_LIMIT_REACHED', status: 429, limit: 3, serviceName: 'learning' } }],
      data: null,
    });
    expect((await t.gql(MUTATION, { id: UNKNOWN_ID }, l.headers)).body).toEqual({
      errors: [{ message: 'Task not found', path: ['regenerateXelTask'], extensions: { code: 'NOT_FOUND', status: 404, serviceName: 'learning' } }],
      data: null,
    });
  });
});
