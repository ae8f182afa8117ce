/**
 * Xentree English through the remote AI providers (§4.17), against the OpenAI-/Anthropic-
 * compatible test servers of test/fake-ai.ts: AI-graded submissions (XEL-5), evaluations
 * (XEL-7) and task variants (XEL-6) ask for one strict JSON object; a reply of any other shape,
 * an upstream error or a timeout is 502 `provider_error` and records nothing. The reference
 * answer reaches the grading provider only: feedback quoting it is redacted and no log line
 * carries it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestStack } from './harness.ts';
import { coded, wire } from './assertions.ts';
import { learner, type Learner } from './learning-fixtures.ts';
import { useFakeAi } from './fake-ai.ts';
import { loadCatalogue } from '../subgraphs/learning/xel.catalogue.ts';

const PROVIDER_ERROR = coded('provider_error', 'AI provider request failed');
const module = loadCatalogue().modules[1]!; // Everyday Routines: every task type
const task = (type: string) => module.tasks.find((x) => x.type === type)!;
const shortAnswer = task('short_answer');

const fake = useFakeAi();
const logs: string[] = [];

/** The fake's next replies: `value` as JSON text, streamed in two pieces. */
function reply(value: unknown): void {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  fake.mode = { kind: 'stream', words: [text.slice(0, 7), text.slice(7)] };
  fake.requests.length = 0;
}

/** The describe block's stack (useTestStack), its AI `provider` served by the fake. */
const useRemoteStack = (provider: 'openai' | 'anthropic') =>
  useTestStack(() => ({
    env: {
      ...(provider === 'openai'
        ? { OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: 'sk-xel', OPENAI_MODELS: 'gpt-xel' }
        : { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'ak-xel', ANTHROPIC_MODELS: 'claude-xel' }),
      DEFAULT_AI_PROVIDER: provider,
      AI_TIMEOUT_MS: '300',
      LOG_LEVEL: 'debug',
    },
    logStream: { write: (line: string) => void logs.push(line) },
  }));

describe('openai', () => {
  const t = useRemoteStack('openai');
  let l: Learner;
  beforeAll(async () => {
    l = await learner(t);
  });
  const submit = (taskId: string, answer: string) => t.rest('POST', `/api/xel/tasks/${taskId}/submit`, { json: { answer }, headers: l.headers });
  const attempts = async (taskId: string) =>
    ((await t.rest('GET', `/api/xel/modules/${module.id}`, { headers: l.headers })).body as { tasks: { id: string; attempts: number; variant: number; prompt: string }[] }).tasks.find((x) => x.id === taskId)!;

  it('grades a short answer with a strict JSON verdict; feedback that quotes the reference is redacted', async () => {
    const reference = shortAnswer.answer_key.reference!;
    reply({ score: 72, feedback: `Clear and correct. A fuller answer: ${reference}` });
    const res = await submit(shortAnswer.id, 'On Sunday mornings I usually go running in the park.');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ score: 72, passed: true, correct: null, feedback: 'Clear and correct. A fuller answer: [reference answer withheld].', xp_awarded: 10 });
    expect(fake.requests).toHaveLength(1);
    const sent = fake.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-xel');
    const body = sent.body as { model: string; stream: boolean; response_format: unknown; messages: { role: string; content: string }[] };
    expect(body).toMatchObject({ model: 'gpt-xel', stream: true, response_format: { type: 'json_object' } });
    expect(body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(body.messages[0]!.content).toMatch(/^You are the examiner .* Reply with exactly one JSON object and nothing else/);
    expect(body.messages[1]!.content).toContain(JSON.stringify(shortAnswer.prompt));
    expect(body.messages[1]!.content).toContain('"On Sunday mornings I usually go running in the park."');
    expect(body.messages[1]!.content).toContain('Reply as {"score": <integer 0-100>, "feedback":');
  });

  it.each([
    ['prose instead of JSON', 'I would give this answer 7 out of 10.'],
    ['a score out of range', { score: 140, feedback: 'Great.' }],
    ['a missing field', { score: 80 }],
    ['a fractional score', { score: 72.5, feedback: 'Good.' }],
    ['truncated JSON', '{"score": 70, "feedback": "Go'],
  ])('%s is 502 provider_error and records nothing', async (_, value) => {
    const before = (await attempts(shortAnswer.id)).attempts;
    reply(value);
    expect(wire(await submit(shortAnswer.id, 'I usually sleep late.'))).toEqual({ status: 502, body: PROVIDER_ERROR });
    expect((await attempts(shortAnswer.id)).attempts).toBe(before);
  });

  it('an upstream error and a timeout are 502 provider_error', async () => {
    fake.mode = { kind: 'status', status: 500 };
    expect(wire(await submit(shortAnswer.id, 'I usually sleep late.'))).toEqual({ status: 502, body: PROVIDER_ERROR });
    fake.mode = { kind: 'hang' };
    expect(wire(await submit(shortAnswer.id, 'I usually sleep late.'))).toEqual({ status: 502, body: PROVIDER_ERROR });
    // Exact-match types never ask the provider.
    const mc = task('multiple_choice');
    expect((await submit(mc.id, mc.answer_key.answer!)).body).toMatchObject({ score: 100, correct: true });
  });

  it('evaluates with the four criteria of the kind, in order; the overall score is their rounded mean', async () => {
    const criteria = [
      { name: 'grammar', score: 81, feedback: 'Accurate past tenses.' },
      { name: 'vocabulary', score: 70, feedback: 'Some repetition of "nice".' },
      { name: 'coherence', score: 64, feedback: 'Ideas follow, but link them.' },
      { name: 'task_response', score: 90, feedback: 'Every part of the prompt answered.' },
    ];
    reply({ criteria, feedback: 'A solid text.', suggestions: ['Use linking words.', 'Vary adjectives.'] });
    const res = await t.rest('POST', '/api/xel/evaluate', { json: { kind: 'writing', text: 'Last weekend was nice. I went to the beach.', prompt: 'Describe your weekend.' }, headers: l.headers });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      kind: 'writing', overall_score: 76, cefr_band: 'C1', criteria, suggestions: ['Use linking words.', 'Vary adjectives.'],
      feedback: 'Overall 76/100 (C1). grammar: 81, vocabulary: 70, coherence: 64, task_response: 90. A solid text.', xp_awarded: 15,
    });
    const asked = (fake.requests[0]!.body as { messages: { content: string }[] }).messages[1]!.content;
    expect(asked).toContain('four criteria, each scored 0-100: grammar, vocabulary, coherence, task_response');
    // The speaking criteria in another order, or six suggestions, are not the verdict asked for.
    reply({ criteria: [criteria[1], criteria[0], criteria[2], criteria[3]], feedback: 'x', suggestions: [] });
    expect(wire(await t.rest('POST', '/api/xel/evaluate', { json: { kind: 'writing', text: 'Some text.' }, headers: l.headers }))).toEqual({ status: 502, body: PROVIDER_ERROR });
    reply({ criteria, feedback: 'x', suggestions: ['1', '2', '3', '4', '5', '6'] });
    expect(wire(await t.rest('POST', '/api/xel/evaluate', { json: { kind: 'writing', text: 'Some text.' }, headers: l.headers }))).toEqual({ status: 502, body: PROVIDER_ERROR });
  });

  it('regenerates through the provider: its variant is stored with its key and graded against it', async () => {
    const mc = task('multiple_choice');
    const variant = { prompt: 'Which word completes the routine? "I ___ my hair every morning."', options: ['comb', 'cook', 'drive', 'read'], answer: 'comb' };
    reply(variant);
    const res = await t.rest('POST', `/api/xel/tasks/${mc.id}/regenerate`, { headers: l.headers });
    expect(wire(res)).toEqual({
      status: 200,
      body: { id: mc.id, module_id: module.id, order: mc.order, type: 'multiple_choice', skill: mc.skill, prompt: variant.prompt, options: variant.options, audio_url: null, variant: 1, max_score: 100 },
    });
    const asked = (fake.requests[0]!.body as { messages: { content: string }[] }).messages[1]!.content;
    expect(asked).toContain('Reply as {"prompt": "<the question>", "options": ["<3 to 6 distinct options>"], "answer": "<the correct option, copied exactly>"}');
    expect((await submit(mc.id, 'Comb')).body).toMatchObject({ score: 100, correct: true });
    expect((await submit(mc.id, 'cook')).body).toMatchObject({ score: 0, correct: false });
  });

  it.each([
    ['multiple_choice', 'an answer that is not an option', () => ({ prompt: 'Pick one.', options: ['run', 'walk', 'swim'], answer: 'fly' })],
    ['multiple_choice', 'two options alike', () => ({ prompt: 'Pick one.', options: ['run', 'Run', 'swim'], answer: 'run' })],
    ['fill_blank', 'no gap in the prompt', () => ({ prompt: 'Complete the sentence about Tom.', accepted: ['runs'] })],
    ['fill_blank', 'no accepted answer', () => ({ prompt: 'Tom ___ (run) fast.', accepted: [] })],
    ['fill_blank', 'the current prompt again', (current: string) => ({ prompt: current, accepted: ['gets'] })],
    ['speaking', 'a reversed target length', () => ({ prompt: 'Write about your street.', reference: 'My street is quiet.', keywords: ['street'], target_words: [60, 30] })],
    ['speaking', 'prose', () => 'Here is a new exercise: write about your street.'],
  ] as const)('a %s variant with %s is 502 and changes nothing', async (type, _, value) => {
    const id = task(type).id;
    const before = await attempts(id);
    reply(value(before.prompt));
    expect(wire(await t.rest('POST', `/api/xel/tasks/${id}/regenerate`, { headers: l.headers }))).toEqual({ status: 502, body: PROVIDER_ERROR });
    expect(await attempts(id)).toEqual(before);
  });

  it('the limit counts stored variants only', async () => {
    const fb = task('fill_blank');
    for (let i = 1; i <= 3; i++) {
      reply({ prompt: `Complete: "He ___ (walk) to school ${i} times a week."`, accepted: ['walks'] });
      expect(((await t.rest('POST', `/api/xel/tasks/${fb.id}/regenerate`, { headers: l.headers })).body as { variant: number }).variant).toBe(i);
    }
    reply({ prompt: 'Complete: "She ___ (swim) on Fridays."', accepted: ['swims'] });
    expect(wire(await t.rest('POST', `/api/xel/tasks/${fb.id}/regenerate`, { headers: l.headers }))).toEqual({
      status: 429,
      body: coded('regenerate_limit_reached', 'Daily regeneration limit reached for this task', { limit: 3 }),
    });
    expect(fake.requests).toHaveLength(0); // the 4th never reached the provider
  });

  it('no log line carries a reference answer or a generated key', () => {
    const joined = logs.join('\n');
    expect(joined.length).toBeGreaterThan(0);
    expect(joined).not.toContain(shortAnswer.answer_key.reference!);
    expect(joined).not.toContain('"accepted"');
    expect(joined).not.toContain('answer_key');
  });
});

describe('anthropic', () => {
  const t = useRemoteStack('anthropic');
  let l: Learner;
  beforeAll(async () => {
    l = await learner(t);
  });

  it('grades, evaluates and regenerates over the Messages API with the same strict JSON', async () => {
    reply({ score: 45, feedback: 'Too short: say what you do.' });
    const graded = await t.rest('POST', `/api/xel/tasks/${shortAnswer.id}/submit`, { json: { answer: 'Sunday.' }, headers: l.headers });
    expect(graded.body).toMatchObject({ score: 45, passed: false, correct: null, feedback: 'Too short: say what you do.', xp_awarded: 2 });
    const sent = fake.requests[0]!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.body).toMatchObject({ model: 'claude-xel', stream: true, system: expect.stringMatching(/^You are the examiner/) });

    const criteria = ['fluency', 'grammar', 'vocabulary', 'coherence'].map((name, i) => ({ name, score: 50 + i * 10, feedback: `About ${name}.` }));
    reply({ criteria, feedback: 'Keep practising.', suggestions: [] });
    const evaluated = await t.rest('POST', '/api/xel/evaluate', { json: { kind: 'speaking', text: 'I get up at seven and I go to work.' }, headers: l.headers });
    expect(evaluated.body).toMatchObject({ overall_score: 65, cefr_band: 'B2', criteria, suggestions: [] });

    const speaking = task('speaking');
    reply({ prompt: 'Ask a colleague, aloud, to swap shifts with you next week.', reference: 'Hi Jo, could we swap shifts on Tuesday? I have a doctor appointment. Thanks!', keywords: ['swap', 'shift', 'thanks'], target_words: [30, 60] });
    expect((await t.rest('POST', `/api/xel/tasks/${speaking.id}/regenerate`, { headers: l.headers })).body).toMatchObject({ prompt: 'Ask a colleague, aloud, to swap shifts with you next week.', options: null, variant: 1 });
    reply({ prompt: 'x', reference: 'y', keywords: [], target_words: [30, 60] });
    expect(wire(await t.rest('POST', `/api/xel/tasks/${speaking.id}/regenerate`, { headers: l.headers }))).toEqual({ status: 502, body: PROVIDER_ERROR });
  });
});
