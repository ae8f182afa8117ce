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
  const reference = 'Hello, my name is Anna. I am from Poland and I live in Krakow. I am a nurse. I like music and long walks in the park.';
  const key = { reference, keywords: ['name', 'from', 'like', 'live'], target_words: [20, 60] as [number, number] };
  it('is deterministic and names what it measured, never quoting the reference', () => {
    const text = 'My name is Ben. I am from Leeds in England and I live near the sea. I work as a cook. I like football and long walks with my dog.';
    const a = gradeRubric(text, key);
    expect(gradeRubric(text, key)).toEqual(a);
    // 11 content words in the reference (hello, name, anna, poland, live, krakow, nurse, music, long, walks, park); 4 shared.
    expect(a).toEqual({
      score: 95,
      correct: null,
      feedback: 'Length: 30 words (target 20–60). Task keywords covered: 4 of 4. Overlap with the reference answer: 36% of its content words. Lexical variety: 83% different words. Sentences: 4, 7.5 words on average.',
    });
    expect(a.feedback).not.toContain('Krakow');
  });

  it.each([
    ['the reference itself', reference, 100],
    ['an answer sharing no content word with the reference', 'My name is Ben. I am from Leeds and I live near the sea. I like football and cooking for friends at home.', 87],
    ['far too short', 'Hi.', 20],
    ['one word repeated', 'the the the the the the the the the the the the the the the the the the the the', 41],
    ['empty', '', 0],
  ])('%s scores %i', (_, text, score) => {
    expect(gradeRubric(text, key).score).toBe(score);
  });

  it('a task without a reference or keywords grades on length, variety and structure alone', () => {
    expect(gradeRubric('I usually walk to work because it is close.', { target_words: [5, 20] })).toMatchObject({ score: 100, feedback: expect.stringContaining('Task keywords covered: 0 of 0. Overlap with the reference answer: 0% of its content words.') });
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
