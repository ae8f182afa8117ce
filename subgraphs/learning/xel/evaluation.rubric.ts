/**
 * The offline evaluation rubric of XEL-7 (§3.6 criteria): each criterion is a measured text
 * feature mapped to 0..100, and its feedback says what was measured. Deterministic for the same text.
 */
const LINKERS = ['and', 'but', 'because', 'so', 'however', 'although', 'then', 'first', 'finally', 'also', 'therefore', 'moreover', 'while', 'since', 'for example', 'on the other hand', 'in conclusion'];

export interface Criterion {
  name: string;
  score: number;
  feedback: string;
}

const clamp = (x: number): number => Math.max(0, Math.min(100, Math.round(x)));
const words = (text: string): string[] => text.toLowerCase().match(/[a-z\u00c0-\u024f']+/g) ?? [];
const sentencesOf = (text: string): string[] => text.split(/(?<=[.!?])\s+|\n+/).map((s) => s.trim()).filter((s) => s.length > 0);

export function evaluateText(kind: 'speaking' | 'writing', text: string, prompt: string | null): { criteria: Criterion[]; overall: number; suggestions: string[] } {
  const w = words(text);
  const sentences = sentencesOf(text);
  const avg = sentences.length === 0 ? 0 : w.length / sentences.length;
  const wellFormed = sentences.filter((s) => /^[A-Z0-9"'(]/.test(s) && /[.!?]["')]?$/.test(s)).length;
  const variety = w.length === 0 ? 0 : new Set(w).size / w.length;
  const longWords = w.filter((x) => x.length >= 7).length;
  const joined = ` ${w.join(' ')} `;
  const linkers = LINKERS.filter((l) => joined.includes(` ${l} `));
  const repeats = w.filter((x, i) => i > 0 && x === w[i - 1]).length;
  const promptWords = [...new Set(words(prompt ?? '').filter((x) => x.length >= 5))];
  const covered = promptWords.filter((x) => joined.includes(` ${x}`));
  const grammarScore = sentences.length === 0 ? 0 : clamp(70 * (wellFormed / sentences.length) + (avg >= 6 && avg <= 25 ? 30 : 10));
  const all: Record<string, Criterion> = {
    grammar: { name: 'grammar', score: grammarScore, feedback: `${wellFormed} of ${sentences.length} sentences start with a capital and end with punctuation; ${Math.round(avg * 10) / 10} words per sentence on average.` },
    vocabulary: { name: 'vocabulary', score: clamp(100 * Math.min(1, variety / 0.65) * 0.75 + Math.min(25, longWords * 2.5)), feedback: `${Math.round(variety * 100)}% different words; ${longWords} words of seven letters or more.` },
    coherence: { name: 'coherence', score: clamp(Math.min(60, linkers.length * 15) + Math.min(40, sentences.length * 10)), feedback: `${linkers.length} linking expressions (${linkers.slice(0, 5).join(', ') || 'none'}) across ${sentences.length} sentences.` },
    fluency: { name: 'fluency', score: clamp(Math.min(100, w.length * 1.25) - repeats * 10), feedback: `${w.length} words with ${repeats} immediate repetitions.` },
    task_response: {
      name: 'task_response',
      score: promptWords.length === 0 ? clamp(Math.min(100, w.length * 1.25)) : clamp(100 * (covered.length / promptWords.length) * 0.6 + Math.min(40, w.length / 3)),
      feedback: promptWords.length === 0 ? `No prompt given; ${w.length} words written.` : `${covered.length} of ${promptWords.length} key words of the prompt addressed; ${w.length} words written.`,
    },
  };
  const names = kind === 'speaking' ? ['fluency', 'grammar', 'vocabulary', 'coherence'] : ['grammar', 'vocabulary', 'coherence', 'task_response'];
  const criteria = names.map((n) => all[n]!);
  const overall = Math.round(criteria.reduce((a, c) => a + c.score, 0) / criteria.length);
  const advice: Record<string, string> = {
    grammar: 'Start each sentence with a capital letter, end it with punctuation, and keep sentences between 6 and 25 words.',
    vocabulary: 'Vary your words: avoid repeating the same ones and try more precise, longer words.',
    coherence: 'Connect your ideas with linking words such as "because", "however" and "for example".',
    fluency: 'Say more: aim for longer answers without repeating words.',
    task_response: 'Answer every part of the prompt and use its key words.',
  };
  const suggestions = criteria.filter((c) => c.score < 70).map((c) => advice[c.name]!).slice(0, 5);
  return { criteria, overall, suggestions };
}
