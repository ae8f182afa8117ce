/** XEL-8 and XEL-9 through the gateway: the proficiency index after submissions, and its last snapshot per local date. */
import { describe, expect, it } from 'vitest';
import { TIMESTAMP, wire } from './assertions.ts';
import { at, learner, useLearningStack } from './learning-fixtures.ts';
import { loadCatalogue } from '../subgraphs/learning/xel.catalogue.ts';

const t = useLearningStack();

const [vocabularyTask, grammarTask] = loadCatalogue().modules[0]!.tasks;
const NONE = { listening: null, speaking: null, reading: null, writing: null, grammar: null, vocabulary: null };
const ZERO = { listening: 0, speaking: 0, reading: 0, writing: 0, grammar: 0, vocabulary: 0 };

describe('XEL-8 and XEL-9', () => {
  it('no observation yet: a null index', async () => {
    const l = await learner(t);
    expect(wire(await t.rest('GET', '/api/xel/xpi', { headers: l.headers }))).toEqual({ status: 200, body: { xpi: null, cefr_band: null, sub_scores: NONE, sample_counts: ZERO, updated_at: null } });
    expect(wire(await t.rest('GET', '/api/xel/xpi/history', { headers: l.headers }))).toEqual({ status: 200, body: { days: 30, items: [] } });
  });

  it('sub-scores move by 30 % per observation; history keeps the last snapshot of each date', async () => {
    const l = await learner(t, 'Europe/London');
    const submit = (taskId: string, answer: string) => t.rest('POST', `/api/xel/tasks/${taskId}/submit`, { json: { answer }, headers: l.headers });
    at('2026-05-01T10:00:00.000Z');
    expect((await submit(vocabularyTask!.id, vocabularyTask!.answer_key.answer!)).body).toMatchObject({ xpi: 100 });
    expect((await submit(grammarTask!.id, 'are')).body).toMatchObject({ score: 0, xpi: 50 });
    at('2026-05-02T10:00:00.000Z');
    expect((await submit(grammarTask!.id, 'is')).body).toMatchObject({ score: 100, xpi: 65 });
    expect(wire(await t.rest('GET', '/api/xel/xpi', { headers: l.headers }))).toEqual({
      status: 200,
      body: { xpi: 65, cefr_band: 'B2', sub_scores: { ...NONE, vocabulary: 100, grammar: 30 }, sample_counts: { ...ZERO, vocabulary: 1, grammar: 2 }, updated_at: expect.stringMatching(TIMESTAMP) },
    });
    expect((await t.rest('GET', '/api/xel/xpi/history', { headers: l.headers })).body).toEqual({
      days: 30,
      items: [
        { date: '2026-05-01', xpi: 50, cefr_band: 'B1', sub_scores: { ...NONE, vocabulary: 100, grammar: 0 } },
        { date: '2026-05-02', xpi: 65, cefr_band: 'B2', sub_scores: { ...NONE, vocabulary: 100, grammar: 30 } },
      ],
    });
    expect((await t.rest('GET', `/api/xp/public-profile/${l.username}`)).body).toMatchObject({ cefr_band: 'B2' });
    expect(((await t.rest('GET', '/api/xel/xpi/history?days=1', { headers: l.headers })).body as { items: { date: string }[] }).items.map((i) => i.date)).toEqual(['2026-05-02']);
    const gql = await t.gql('{ xelXpi { xpi cefrBand subScores { grammar } sampleCounts { grammar } } xelXpiHistory(days: 2) { days items { date xpi } } }', {}, l.headers);
    expect(gql.body).toEqual({ data: { xelXpi: { xpi: 65, cefrBand: 'B2', subScores: { grammar: 30 }, sampleCounts: { grammar: 2 } }, xelXpiHistory: { days: 2, items: [{ date: '2026-05-01', xpi: 50 }, { date: '2026-05-02', xpi: 65 }] } } });
  });

  it('422 for days out of 1..365', async () => {
    const l = await learner(t);
    for (const days of ['0', '366']) {
      const res = await t.rest('GET', `/api/xel/xpi/history?days=${days}`, { headers: l.headers });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ detail: [{ type: days === '0' ? 'greater_than_equal' : 'less_than_equal', loc: ['query', 'days'] }] });
    }
    expect((await t.gql('{ xelXpiHistory(days: 0) { days } }', {}, l.headers)).body).toMatchObject({ data: null, errors: [{ extensions: { code: 'BAD_USER_INPUT', status: 422 } }] });
  });
});
