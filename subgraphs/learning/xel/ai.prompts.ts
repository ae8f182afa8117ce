/**
 * What Xentree English asks a remote AI provider (xel/ai.ts): one system turn with the reply
 * rules, one user turn with the task. Each asks for exactly one JSON object of a stated shape.
 */
import type { AnswerKey } from '../xel.catalogue.ts';

/** What grading and regeneration know of a task (the user's current variant of it). */
export interface TaskContent {
  type: string;
  skill: string;
  prompt: string;
  options: string[] | null;
  audioUrl: string | null;
  key: AnswerKey;
}

export const REMOTE_RULES =
  'You are the examiner and exercise writer of Xentree English, an English course for adult learners graded on the CEFR scale (A1–C2). ' +
  'Reply with exactly one JSON object and nothing else: no prose, no Markdown, no code fence. ' +
  'Write feedback to the learner in plain, encouraging English. Never quote or reveal the reference answer.';

const describeTask = (task: TaskContent): string =>
  [`Task type: ${task.type}.`, `Skill practised: ${task.skill}.`, `Task prompt: ${JSON.stringify(task.prompt)}`].join('\n');

/** Grading of a short answer, a written text or a speaking transcript. */
export function gradingPrompt(task: TaskContent, answer: string): string {
  const [min, max] = task.key.target_words ?? [5, 40];
  return [
    'Grade the learner\'s answer to this task.',
    describeTask(task),
    `Target length: ${min} to ${max} words.`,
    task.key.reference ? `Reference answer (for you only, do not quote it): ${JSON.stringify(task.key.reference)}` : '',
    task.key.keywords?.length ? `Ideas a good answer covers: ${task.key.keywords.join(', ')}.` : '',
    `Learner's answer: ${JSON.stringify(answer)}`,
    'Judge task completion, accuracy, range and length. 60 or more is a pass.',
    'Reply as {"score": <integer 0-100>, "feedback": "<two or three sentences saying what was good and what to improve>"}.',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** XEL-7: the kind's four criteria, in the order given. */
export function evaluationPrompt(kind: 'speaking' | 'writing', criteria: readonly string[], answer: string, prompt: string | null): string {
  return [
    `Evaluate this English ${kind === 'speaking' ? 'speaking transcript' : 'text'} against four criteria, each scored 0-100: ${criteria.join(', ')}.`,
    prompt ? `It answers this prompt: ${JSON.stringify(prompt)}` : 'No prompt was given.',
    `${kind === 'speaking' ? 'Transcript' : 'Text'}: ${JSON.stringify(answer)}`,
    `Reply as {"criteria": [${criteria.map((c) => `{"name": "${c}", "score": <integer 0-100>, "feedback": "<one sentence>"}`).join(', ')}], ` +
      '"feedback": "<a two-sentence summary>", "suggestions": ["<at most 5 short, concrete suggestions>"]}, with the criteria in exactly this order.',
  ].join('\n');
}

/** XEL-6: a new exercise of the same type, skill and level, with its own answer key. */
export function variantPrompt(task: TaskContent): string {
  const shape =
    task.type === 'multiple_choice'
      ? '{"prompt": "<the question>", "options": ["<3 to 6 distinct options>"], "answer": "<the correct option, copied exactly>"}'
      : task.type === 'fill_blank'
        ? '{"prompt": "<a sentence with the gap written as ___>", "accepted": ["<every correct way to fill the gap>"]}'
        : '{"prompt": "<the instructions>", "reference": "<a model answer>", "keywords": ["<2 to 8 ideas a good answer covers>"], "target_words": [<min words>, <max words>]}';
  return [
    'Write a new exercise that practises the same skill at the same level as this one, with different content. Do not repeat its prompt.',
    describeTask(task),
    task.options ? `Its options: ${JSON.stringify(task.options)}` : '',
    `Reply as ${shape}.`,
  ]
    .filter((line) => line !== '')
    .join('\n');
}
