/** XEL-7 evaluations through the gateway: the offline rubric's criteria, 15 XP for the first five of a local day, sub-scores and errors. */
import { describe, expect, it } from 'vitest';
import { coded, notFoundBody, TIMESTAMP, UNKNOWN_ID, UUID_V4, wire } from './assertions.ts';
import { at, learner, type Learner, useLearningStack } from './learning-fixtures.ts';
import { loadCatalogue } from '../subgraphs/learning/xel.catalogue.ts';

const t = useLearningStack();

const TEXT = 'Last weekend I visited my grandparents in the countryside. We cooked dinner together and talked about their childhood. However, the weather was terrible, so we stayed inside most of the time. In the end, it was a relaxing and memorable weekend.';
const evaluate = (l: Learner, json: unknown) => t.rest('POST', '/api/xel/evaluate', { json, headers: l.headers });

describe('XEL-7 evaluate', () => {
  it('writing: four criteria in order, the rounded mean and its band, measured feedback; sub-scores move', async () => {
    const l = await learner(t);
    const res = await evaluate(l, { kind: 'writing', text: TEXT, prompt: 'Describe your last weekend and how you felt about it.' });
    expect(res.status).toBe(201);
    const body = res.body as { overall_score: number; criteria: { name: string; score: number }[] };
    expect(body).toEqual({
      evaluation_id: expect.stringMatching(UUID_V4), kind: 'writing', overall_score: body.overall_score, cefr_band: expect.stringMatching(/^(A1|A2|B1|B2|C1|C2)$/),
      criteria: ['grammar', 'vocabulary', 'coherence', 'task_response'].map((name) => ({ name, score: expect.any(Number), feedback: expect.any(String) })),
      feedback: expect.stringContaining(`Overall ${body.overall_score}/100`), suggestions: expect.any(Array), xp_awarded: 15, created_at: expect.stringMatching(TIMESTAMP),
    });
    expect(body.overall_score).toBe(Math.round(body.criteria.reduce((a, c) => a + c.score, 0) / 4));
    expect(body.criteria[0]).toMatchObject({ score: 100, feedback: '4 of 4 sentences start with a capital and end with punctuation; 10.3 words per sentence on average.' });
    // The same text evaluates the same way.
    expect(((await evaluate(l, { kind: 'writing', text: TEXT, prompt: 'Describe your last weekend and how you felt about it.' })).body as { criteria: unknown }).criteria).toEqual(body.criteria);
    const xpi = (await t.rest('GET', '/api/xel/xpi', { headers: l.headers })).body as { sample_counts: Record<string, number>; sub_scores: Record<string, number | null> };
    expect(xpi.sample_counts).toEqual({ listening: 0, speaking: 0, reading: 0, writing: 2, grammar: 2, vocabulary: 2 });
    expect(xpi.sub_scores.writing).toBe(body.overall_score);
  });

  it('speaking uses fluency, grammar, vocabulary, coherence; only the first five of a local day earn XP', async () => {
    const l = await learner(t, 'Asia/Tokyo');
    at('2026-08-10T14:00:00.000Z'); // 23:00 in Tokyo
    const xp: number[] = [];
    for (let i = 0; i < 6; i++) xp.push(((await evaluate(l, { kind: 'speaking', text: TEXT })).body as { xp_awarded: number }).xp_awarded);
    expect(xp.map((x) => (x > 0 ? 'xp' : 0))).toEqual(['xp', 'xp', 'xp', 'xp', 'xp', 0]);
    at('2026-08-10T15:00:00.000Z'); // the next day in Tokyo
    const next = (await evaluate(l, { kind: 'speaking', text: TEXT })).body as { xp_awarded: number; criteria: { name: string }[] };
    expect(next.xp_awarded).toBeGreaterThan(0);
    expect(next.criteria.map((c) => c.name)).toEqual(['fluency', 'grammar', 'vocabulary', 'coherence']);
  });

  it('a task prompt when none is given; 404 Task and Session; 409 for an ended session; 422 for a bad kind', async () => {
    const l = await learner(t);
    const task = loadCatalogue().modules[0]!.tasks.find((x) => x.type === 'writing')!;
    const withTask = (await evaluate(l, { kind: 'writing', text: TEXT, task_id: task.id })).body as { criteria: { name: string; feedback: string }[] };
    expect(withTask.criteria[3]!.feedback).toMatch(/^\d+ of \d+ key words of the prompt addressed; 41 words written\.$/);
    expect(wire(await evaluate(l, { kind: 'writing', text: TEXT, task_id: UNKNOWN_ID }))).toEqual({ status: 404, body: notFoundBody('Task') });
    expect(wire(await evaluate(l, { kind: 'writing', text: TEXT, session_id: UNKNOWN_ID }))).toEqual({ status: 404, body: notFoundBody('Session') });
    const s = (await t.rest('POST', '/api/xel/sessions/start', { headers: l.headers })).body as { id: string };
    expect((await evaluate(l, { kind: 'writing', text: TEXT, session_id: s.id })).status).toBe(201);
    await t.rest('POST', `/api/xel/sessions/${s.id}/end`, { headers: l.headers });
    expect(wire(await evaluate(l, { kind: 'writing', text: TEXT, session_id: s.id }))).toEqual({ status: 409, body: coded('session_already_ended', 'Session has already ended', { session_id: s.id }) });
    const bad = await evaluate(l, { kind: 'reading', text: '' });
    expect(bad.status).toBe(422);
    expect((bad.body as { detail: { type: string; loc: unknown[] }[] }).detail.map((d) => [d.type, d.loc])).toEqual([['enum', ['body', 'kind']], ['string_too_short', ['body', 'text']]]);
    const gql = await t.gql('mutation($i: XelEvaluationInput!) { evaluateXel(input: $i) { kind criteria { name } } }', { i: { kind: 'speaking', text: TEXT } }, l.headers);
    expect(gql.body).toEqual({ data: { evaluateXel: { kind: 'speaking', criteria: [{ name: 'fluency' }, { name: 'grammar' }, { name: 'vocabulary' }, { name: 'coherence' }] } } });
  });
});
