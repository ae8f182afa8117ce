/** §4.9 scoring rules as tables: normalisation, exact-match grading, the offline rubric, sub-scores, XPI and bands. */
import { describe, expect, it } from 'vitest';
import { cefrBand, gradeBlank, gradeChoice, gradeRubric, normalise, observe, round1, xpiOf } from './scoring.ts';

describe('normalising answers', () => {
  it.each([
    ['  Hello   World!  ', 'hello world'],
    ['ＡＢＣ', 'abc'], // NFKC folds full-width letters
    ['Is it?!.', 'is it'],
    ['ﬁne', 'fine'], // the ligature
    ['tab\tand\nnewline', 'tab and newline'],
  ])('%j → %j', (input, out) => {
    expect(normalise(input)).toBe(out);
  });
});

describe('exact-match grading', () => {
  const options = ['In London', 'In Leeds'];
  it.each([
    ['in leeds', 100, true, 'Correct.'],
    ['IN LEEDS.', 100, true, 'Correct.'],
    ['In London', 0, false, 'Incorrect.'],
  ] as const)('multiple choice %j scores %i', (answer, score, correct, feedback) => {
    expect(gradeChoice(answer, options, { answer: 'In Leeds' })).toEqual({ score, correct, feedback });
  });

  it('an answer that is no option is INVALID_OPTION', () => {
    expect(() => gradeChoice('Paris', options, { answer: 'In Leeds' })).toThrow('Answer is not one of the task options');
  });

  it.each([['went', 100], ['Went!', 100], ['goed', 0]])('fill in the blank %j scores %i', (answer, score) => {
    expect(gradeBlank(answer, { accepted: ['went'] }).score).toBe(score);
  });
});

describe('the offline rubric', () => {
  const key = { reference: 'x', keywords: ['name', 'from', 'like', 'live'], target_words: [20, 60] as [number, number] };
  it('is deterministic and names what it measured', () => {
    const text = 'Hello, my name is Anna. I am from Poland and I live in Krakow. I am a nurse. I like music and long walks in the park.';
    const a = gradeRubric(text, key);
    expect(gradeRubric(text, key)).toEqual(a);
    expect(a).toEqual({ score: 100, correct: null, feedback: 'Length: 27 words (target 20–60). Task keywords covered: 4 of 4. Lexical variety: 78% different words. Sentences: 4, 6.8 words on average.' });
  });

  it('scores short, off-task and repetitive answers lower', () => {
    expect(gradeRubric('Hi.', key).score).toBeLessThan(60);
    expect(gradeRubric('the the the the the the the the the the the the the the the the the the the the', key).score).toBeLessThan(60);
    expect(gradeRubric('', key)).toMatchObject({ score: 0 });
  });
});

describe('sub-scores, XPI and bands', () => {
  it.each([[null, 80, 80], [80, 0, 56], [56, 100, 69.2], [69.2, 55, 64.9], [33.3, 66.7, 43.3]])('s=%s, x=%s → %s', (s, x, out) => {
    expect(observe(s, x)).toBe(out);
  });

  it('rounds half up', () => {
    expect([round1(0.05), round1(0.15), round1(64.85), round1(2.25)]).toEqual([0.1, 0.2, 64.9, 2.3]);
  });

  it('XPI is the mean of the known sub-scores', () => {
    const none = { listening: null, speaking: null, reading: null, writing: null, grammar: null, vocabulary: null };
    expect(xpiOf(none)).toBeNull();
    expect(xpiOf({ ...none, grammar: 70, reading: 55.5 })).toBe(62.8);
  });

  it.each([[null, null], [0, 'A1'], [19.9, 'A1'], [20, 'A2'], [39.9, 'A2'], [40, 'B1'], [60, 'B2'], [74.9, 'B2'], [75, 'C1'], [90, 'C2'], [100, 'C2']])('%s is %s', (score, band) => {
    expect(cefrBand(score)).toBe(band);
  });
});
