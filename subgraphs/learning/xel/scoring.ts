/**
 * §4.9 scoring: answer normalisation, the exact-match task types, the offline rubric for the
 * AI-graded types, sub-score smoothing, the XPI and its CEFR band. The rubric measures real text
 * features against the task's reference (length against the target, lexical variety, keywords
 * covered, sentence length) and its feedback names each measurement; it never quotes the key.
 */
import { AppError } from '../../../kernel/errors.ts';
import type { AnswerKey, CefrLevel } from '../xel.catalogue.ts';

/** NFKC, trim, collapse inner whitespace, lowercase, strip trailing `.`, `!`, `?`. */
export function normalise(answer: string): string {
  return answer.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase().replace(/[.!?]+$/, '').trim();
}

export interface Grade {
  score: number;
  correct: boolean | null;
  feedback: string;
}

/** multiple_choice: the answer must be one of the options. @throws INVALID_OPTION */
export function gradeChoice(answer: string, options: readonly string[], key: AnswerKey): Grade {
  const given = normalise(answer);
  if (!options.some((o) => normalise(o) === given)) throw new AppError('INVALID_OPTION');
  const correct = given === normalise(key.answer ?? '');
  return { score: correct ? 100 : 0, correct, feedback: correct ? 'Correct.' : 'Incorrect.' };
}

/** fill_blank: 100 when the answer equals any accepted answer. */
export function gradeBlank(answer: string, key: AnswerKey): Grade {
  const given = normalise(answer);
  const correct = (key.accepted ?? []).some((a) => normalise(a) === given);
  return { score: correct ? 100 : 0, correct, feedback: correct ? 'Correct.' : 'Incorrect.' };
}

const words = (text: string): string[] => text.toLowerCase().match(/[a-z\u00c0-\u024f']+/g) ?? [];
const sentences = (text: string): string[] => text.split(/[.!?]+/).map((s) => s.trim()).filter((s) => s.length > 0);
const pct = (x: number): number => Math.round(x * 100);

/** Words too common to say anything about what an answer covers. */
const COMMON = new Set('about after also been before being could does each from have here into just like many more most much only other over same some such than that their them then there these they this those through very were what when where which while will with would your'.split(' '));

/** The distinct content words of a text: four letters or more, not common function words. */
const contentWords = (text: string): Set<string> => new Set(words(text).filter((w) => w.length >= 4 && !COMMON.has(w)));

/**
 * short_answer, writing and speaking offline (the `local` provider, §4.17): a deterministic,
 * explainable rubric. Length against the task's target (25 %), the task's keywords covered
 * (25 %), overlap with the reference answer's content words (20 %), lexical variety (15 %) and
 * sentence structure (15 %). The feedback gives each measurement and never quotes the key.
 */
export function gradeRubric(answer: string, key: AnswerKey): Grade {
  const w = words(answer);
  const [min, max] = key.target_words ?? [5, 40];
  const length = w.length === 0 ? 0 : w.length < min ? w.length / min : w.length > max ? Math.max(0, 1 - (w.length - max) / max) : 1;
  const text = ` ${w.join(' ')} `;
  const keywords = key.keywords ?? [];
  const covered = keywords.filter((k) => text.includes(` ${k.toLowerCase()} `) || text.includes(` ${k.toLowerCase()}s `));
  const coverage = keywords.length === 0 ? 1 : covered.length / keywords.length;
  const reference = contentWords(key.reference ?? '');
  const given = contentWords(answer);
  const shared = [...reference].filter((x) => given.has(x)).length;
  // Half the reference's content words is full marks: a good answer need not echo the model one.
  const overlap = reference.size === 0 ? 1 : Math.min(1, shared / (reference.size / 2));
  const variety = w.length === 0 ? 0 : new Set(w).size / w.length;
  const s = sentences(answer);
  const avg = s.length === 0 ? 0 : w.length / s.length;
  const structure = avg === 0 ? 0 : avg < 4 ? avg / 4 : avg > 30 ? Math.max(0, 1 - (avg - 30) / 30) : 1;
  const score = Math.max(0, Math.min(100, Math.round(100 * (0.25 * length + 0.25 * coverage + 0.2 * overlap + 0.15 * Math.min(1, variety / 0.6) + 0.15 * structure))));
  const feedback = [
    `Length: ${w.length} word${w.length === 1 ? '' : 's'} (target ${min}–${max}).`,
    `Task keywords covered: ${covered.length} of ${keywords.length}.`,
    `Overlap with the reference answer: ${reference.size === 0 ? 0 : pct(shared / reference.size)}% of its content words.`,
    `Lexical variety: ${pct(variety)}% different words.`,
    `Sentences: ${s.length}, ${Math.round(avg * 10) / 10} words on average.`,
  ].join(' ');
  return { score, correct: null, feedback };
}

/** Rounds to 1 decimal place, half up. */
export function round1(x: number): number {
  return Math.floor(x * 10 + 0.5 + 1e-9) / 10;
}

export const SKILL_KEYS = ['listening', 'speaking', 'reading', 'writing', 'grammar', 'vocabulary'] as const;
export type SubScores = Record<(typeof SKILL_KEYS)[number], number | null>;

/** §4.9: the first observation sets a sub-score; later ones move it by 30 %. */
export function observe(current: number | null, x: number): number {
  return current === null ? x : round1(0.7 * current + 0.3 * x);
}

/** §4.9: the mean of the non-null sub-scores, 1 dp; null when all are null. */
export function xpiOf(sub: SubScores): number | null {
  const values = SKILL_KEYS.map((k) => sub[k]).filter((v): v is number => v !== null);
  return values.length === 0 ? null : round1(values.reduce((a, b) => a + b, 0) / values.length);
}

/** §4.9 CEFR band of a 0..100 score. */
export function cefrBand(score: number | null): CefrLevel | null {
  if (score === null) return null;
  if (score < 20) return 'A1';
  if (score < 40) return 'A2';
  if (score < 60) return 'B1';
  if (score < 75) return 'B2';
  if (score < 90) return 'C1';
  return 'C2';
}
