/** XEL-14 through the gateway: modules by status, the current module, recent work, 7-day XEL time and the active session. */
import { describe, expect, it } from 'vitest';
import { TIMESTAMP, wire } from './assertions.ts';
import { at, learner, useLearningStack } from './learning-fixtures.ts';
import { loadCatalogue } from '../subgraphs/learning/xel.catalogue.ts';

const t = useLearningStack();

const catalogue = loadCatalogue();

describe('XEL-14 dashboard', () => {
  it('a new learner: everything not started, nothing recent', async () => {
    const l = await learner(t);
    expect(wire(await t.rest('GET', '/api/xel/dashboard', { headers: l.headers }))).toEqual({
      status: 200,
      body: {
        xpi: { xpi: null, cefr_band: null, sub_scores: { listening: null, speaking: null, reading: null, writing: null, grammar: null, vocabulary: null }, sample_counts: { listening: 0, speaking: 0, reading: 0, writing: 0, grammar: 0, vocabulary: 0 }, updated_at: null },
        modules_total: catalogue.modules.length, modules_not_started: catalogue.modules.length, modules_in_progress: 0, modules_completed: 0,
        current_module: null, recent_submissions: [], recent_evaluations: [], learning_seconds_7d: 0, active_session: null, level: 1, xp: 0, current_streak: 0,
      },
    });
  });

  it('after some work: the most recently active module, newest work first, XEL time of the last 7 days, the active session', async () => {
    const l = await learner(t);
    const [a, b] = catalogue.modules;
    at('2026-09-01T08:00:00.000Z');
    const s1 = (await t.rest('POST', '/api/xel/sessions/start', { headers: l.headers })).body as { id: string };
    at('2026-09-01T08:20:00.000Z');
    await t.rest('POST', `/api/xel/tasks/${a!.tasks[1]!.id}/submit`, { json: { answer: 'is' }, headers: l.headers });
    await t.rest('POST', `/api/xel/sessions/${s1.id}/end`, { headers: l.headers });
    at('2026-09-03T08:00:00.000Z');
    await t.rest('POST', `/api/xel/modules/${b!.id}/start`, { headers: l.headers });
    await t.rest('POST', '/api/xel/evaluate', { json: { kind: 'writing', text: 'I like my new job. It is interesting.' }, headers: l.headers });
    const s2 = (await t.rest('POST', '/api/xel/sessions/start', { headers: l.headers })).body as { id: string };
    const d = (await t.rest('GET', '/api/xel/dashboard', { headers: l.headers })).body as Record<string, unknown>;
    expect(d).toMatchObject({
      modules_total: catalogue.modules.length, modules_not_started: catalogue.modules.length - 2, modules_in_progress: 2, modules_completed: 0,
      current_module: { id: b!.id, status: 'in_progress' },
      recent_submissions: [{ task_id: a!.tasks[1]!.id, module_id: a!.id, score: 100, passed: true, submitted_at: '2026-09-01T08:20:00.000Z' }],
      recent_evaluations: [{ kind: 'writing', overall_score: expect.any(Number), created_at: '2026-09-03T08:00:00.000Z' }],
      learning_seconds_7d: 1200,
      active_session: { id: s2.id, status: 'active', started_at: '2026-09-03T08:00:00.000Z', ended_at: null },
      current_streak: 1,
    });
    expect((d.xpi as { updated_at: string }).updated_at).toMatch(TIMESTAMP);
    at('2026-09-11T08:00:00.000Z'); // ten days on: the old session time is out of the window, the idle session has timed out
    expect((await t.rest('GET', '/api/xel/dashboard', { headers: l.headers })).body).toMatchObject({ learning_seconds_7d: 0, active_session: null });
    const gql = await t.gql('{ xelDashboard { modulesInProgress currentModule { slug } activeSession { id } } }', {}, l.headers);
    expect(gql.body).toEqual({ data: { xelDashboard: { modulesInProgress: 2, currentModule: { slug: b!.slug }, activeSession: null } } });
  });
});
