/** Xentree English modules through the gateway: XEL-1..3 over REST and GraphQL, on the seeded catalogue. */
import { describe, expect, it } from 'vitest';
import { useTestStack } from './harness.ts';
import { coded, notFoundBody, TIMESTAMP, UNKNOWN_ID, wire } from './assertions.ts';
import { apiKey, createKey, createOrg } from './org-fixtures.ts';
import { learner } from './learning-fixtures.ts';
import { loadCatalogue } from '../subgraphs/learning/xel.catalogue.ts';

const t = useTestStack();

const catalogue = loadCatalogue();
const first = catalogue.modules[0]!;

/** The `XELModuleSummary` of a catalogue module for a caller who never touched it. */
const untouched = (m: (typeof catalogue.modules)[number]) => ({
  id: m.id, slug: m.slug, title: m.title, description: m.description, cefr_level: m.cefr_level, skills: m.skills, order: m.order,
  task_count: m.tasks.length, estimated_minutes: m.estimated_minutes, status: 'not_started', progress: 0, passed_task_count: 0, score: null, started_at: null, completed_at: null,
});

describe('XEL-1 list modules', () => {
  it('every module in catalogue order, untouched', async () => {
    const l = await learner(t);
    expect(wire(await t.rest('GET', '/api/xel/modules', { headers: l.headers }))).toEqual({ status: 200, body: catalogue.modules.map(untouched) });
  });

  it('filters by level and status; 422 for an unknown level', async () => {
    const l = await learner(t);
    const b2 = await t.rest('GET', '/api/xel/modules?level=B2', { headers: l.headers });
    expect(b2.body).toEqual(catalogue.modules.filter((m) => m.cefr_level === 'B2').map(untouched));
    expect((await t.rest('POST', `/api/xel/modules/${first.id}/start`, { headers: l.headers })).status).toBe(200);
    const started = await t.rest('GET', '/api/xel/modules?status=in_progress', { headers: l.headers });
    expect((started.body as { id: string }[]).map((m) => m.id)).toEqual([first.id]);
    expect(((await t.rest('GET', '/api/xel/modules?status=completed', { headers: l.headers })).body as unknown[])).toEqual([]);
    const bad = await t.rest('GET', '/api/xel/modules?level=D1', { headers: l.headers });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ detail: [{ type: 'enum', loc: ['query', 'level'], input: 'D1' }] });
  });
});

describe('XEL-2 module details', () => {
  it('the module with its tasks by order and the caller attempts; never an answer key', async () => {
    const l = await learner(t);
    const res = await t.rest('GET', `/api/xel/modules/${first.id}`, { headers: l.headers });
    expect(wire(res)).toEqual({
      status: 200,
      body: {
        ...untouched(first),
        tasks: first.tasks.map((task) => ({
          id: task.id, module_id: first.id, order: task.order, type: task.type, skill: task.skill, prompt: task.prompt, options: task.options, audio_url: null,
          variant: 0, max_score: 100, attempts: 0, best_score: null, passed: false, last_submitted_at: null,
        })),
      },
    });
    for (const word of ['answer_key', 'accepted', 'reference', 'keywords']) expect(res.text).not.toContain(word);
    const fillBlank = first.tasks.find((task) => task.type === 'fill_blank');
    for (const accepted of fillBlank?.answer_key.accepted ?? []) expect(res.text).not.toContain(`"${accepted}"`);
  });

  it('404 Module for an unknown id; 422 for a malformed one', async () => {
    const l = await learner(t);
    expect(wire(await t.rest('GET', `/api/xel/modules/${UNKNOWN_ID}`, { headers: l.headers }))).toEqual({ status: 404, body: notFoundBody('Module') });
    const bad = await t.rest('GET', '/api/xel/modules/nope', { headers: l.headers });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ detail: [{ type: 'uuid_parsing', loc: ['path', 'module_id'] }] });
  });
});

describe('XEL-3 start a module', () => {
  it('starts once: a second start keeps the first started_at; the next task is the first one', async () => {
    const l = await learner(t);
    const start = await t.rest('POST', `/api/xel/modules/${first.id}/start`, { headers: l.headers });
    expect(wire(start)).toEqual({ status: 200, body: { module_id: first.id, status: 'in_progress', started_at: expect.stringMatching(TIMESTAMP), next_task_id: first.tasks[0]!.id } });
    const again = await t.rest('POST', `/api/xel/modules/${first.id}/start`, { headers: l.headers });
    expect(again.body).toEqual(start.body);
    const detail = await t.rest('GET', `/api/xel/modules/${first.id}`, { headers: l.headers });
    expect(detail.body).toMatchObject({ status: 'in_progress', started_at: (start.body as { started_at: string }).started_at, progress: 0 });
  });

  it('404 Module for an unknown id; an API key needs xel:write', async () => {
    const l = await learner(t);
    expect(wire(await t.rest('POST', `/api/xel/modules/${UNKNOWN_ID}/start`, { headers: l.headers }))).toEqual({ status: 404, body: notFoundBody('Module') });
    const org = await createOrg(t, l);
    const key = await createKey(t, l, org.id, ['xel:read']);
    expect(wire(await t.rest('POST', `/api/xel/modules/${first.id}/start`, { headers: apiKey(key.key) }))).toEqual({
      status: 403,
      body: coded('INSUFFICIENT_API_KEY_SCOPE', 'API key lacks required scope for this endpoint', { required_scope: 'xel:write', granted_scopes: ['xel:read'] }),
    });
    expect((await t.rest('GET', '/api/xel/modules', { headers: apiKey(key.key) })).status).toBe(200);
  });
});

describe('GraphQL', () => {
  it('xelModules, xelModule with tasks, startXelModule', async () => {
    const l = await learner(t);
    const list = await t.gql('{ xelModules(level: A1) { slug cefrLevel skills status } }', {}, l.headers);
    expect(list.body).toEqual({ data: { xelModules: catalogue.modules.filter((m) => m.cefr_level === 'A1').map((m) => ({ slug: m.slug, cefrLevel: 'A1', skills: m.skills.map((s) => s.toUpperCase()), status: 'NOT_STARTED' })) } });
    const started = await t.gql('mutation($id: ID!) { startXelModule(id: $id) { moduleId status nextTaskId } }', { id: first.id }, l.headers);
    expect(started.body).toEqual({ data: { startXelModule: { moduleId: first.id, status: 'IN_PROGRESS', nextTaskId: first.tasks[0]!.id } } });
    const one = await t.gql('query($id: ID!) { xelModule(id: $id) { status tasks { order type skill options } } }', { id: first.id }, l.headers);
    expect(one.body).toEqual({ data: { xelModule: { status: 'IN_PROGRESS', tasks: first.tasks.map((task) => ({ order: task.order, type: task.type.toUpperCase(), skill: task.skill.toUpperCase(), options: task.options })) } } });
    expect((await t.gql('query($id: ID!) { xelModule(id: $id) { id } }', { id: UNKNOWN_ID }, l.headers)).body).toEqual({ data: { xelModule: null } });
    const missing = await t.gql('mutation($id: ID!) { startXelModule(id: $id) { moduleId } }', { id: UNKNOWN_ID }, l.headers);
    expect(missing.body).toEqual({ errors: [{ message: 'Module not found', path: ['startXelModule'], extensions: { code: 'NOT_FOUND', status: 404, serviceName: 'learning' } }], data: null });
  });
});
