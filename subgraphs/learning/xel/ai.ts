/**
 * Xentree English through the shared AI providers (§3.6, §4.9, §4.17): grading of
 * `short_answer`/`writing`/`speaking` submissions, XEL-7 evaluations and XEL-6 task variants.
 * `auto` resolves as everywhere else (DEFAULT_AI_PROVIDER, else a configured remote provider,
 * else `local`). `local` is offline and deterministic: the measured rubrics of scoring.ts and
 * evaluation.rubric.ts, and variants drawn from the task's template bank. `openai`/`anthropic`
 * are asked for one strict JSON object and a reply of any other shape is 502 `provider_error`.
 * The reference answer goes to the grading provider only; feedback that quotes it is redacted,
 * and no error or log line carries it.
 */
import { z } from 'zod';
import type { ProviderRegistry } from '../../../kernel/ai/registry.ts';
import type { AiProvider, ChatTurn } from '../../../kernel/ai/provider.ts';
import { generateJson } from '../../../kernel/ai/structured.ts';
import type { AnswerKey } from '../xel.catalogue.ts';
import { gradeRubric, normalise, type Grade } from './scoring.ts';
import { evaluateText, type Criterion } from './evaluation.rubric.ts';
import { REMOTE_RULES, evaluationPrompt, gradingPrompt, variantPrompt, type TaskContent } from './ai.prompts.ts';

export type { TaskContent };

export interface Evaluation {
  criteria: Criterion[];
  overall: number;
  suggestions: string[];
  /** The provider's summary (the service writes its own for `local`). */
  summary: string | null;
}

export const CRITERIA = { speaking: ['fluency', 'grammar', 'vocabulary', 'coherence'], writing: ['grammar', 'vocabulary', 'coherence', 'task_response'] } as const;

const score = z.number().int().min(0).max(100);
const text = (max: number) => z.string().trim().min(1).max(max);
const verdictSchema = z.object({ score, feedback: text(2000) });
const evaluationSchema = z.object({
  criteria: z.array(z.object({ name: z.string(), score, feedback: text(1000) })).length(4),
  feedback: text(2000),
  suggestions: z.array(text(500)).max(5),
});
const promptText = text(2000);
const variantSchemas = {
  multiple_choice: z
    .object({ prompt: promptText, options: z.array(text(300)).min(3).max(6), answer: text(300) })
    .refine((v) => new Set(v.options.map(normalise)).size === v.options.length && v.options.some((o) => normalise(o) === normalise(v.answer))),
  fill_blank: z.object({ prompt: promptText.refine((p) => p.includes('___')), accepted: z.array(text(200)).min(1).max(10) }),
  graded: z
    .object({ prompt: promptText, reference: text(3000), keywords: z.array(text(60)).min(1).max(12), target_words: z.tuple([z.number().int().min(1), z.number().int().min(1)]) })
    .refine((v) => v.target_words[0] <= v.target_words[1] && v.target_words[1] <= 1000),
};

/** A new variant's content (its answer key stays in learning). */
export interface VariantContent {
  prompt: string;
  options: string[] | null;
  audioUrl: string | null;
  key: AnswerKey;
}

/** Replaces verbatim quotes of the reference answer's sentences (the key never reaches the learner). */
export function redactKey(feedback: string, key: AnswerKey): string {
  let out = feedback;
  for (const s of (key.reference ?? '').split(/(?<=[.!?])\s+/)) {
    const sentence = s.trim().replace(/[.!?]+$/, '');
    if (sentence.length < 12) continue;
    out = out.replace(new RegExp(sentence.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '[reference answer withheld]');
  }
  return out;
}

export class XelAi {
  constructor(private readonly registry: ProviderRegistry) {}

  /** The provider `auto` resolves to. @throws UNKNOWN_PROVIDER when none is available */
  private resolve() {
    return this.registry.resolve('auto');
  }

  /**
   * Grades an AI-graded answer (§4.9): an integer 0..100 and feedback; `correct` is null.
   * @throws PROVIDER_ERROR
   */
  async grade(task: TaskContent, answer: string): Promise<Grade> {
    const { provider, model } = this.resolve();
    if (provider.id === 'local') return gradeRubric(answer, task.key);
    const verdict = await generateJson(provider, model, turns(gradingPrompt(task, answer)), verdictSchema);
    return { score: verdict.score, correct: null, feedback: redactKey(verdict.feedback, task.key) };
  }

  /**
   * Evaluates speaking or writing (XEL-7): the kind's four criteria in order.
   * @throws PROVIDER_ERROR
   */
  async evaluate(kind: 'speaking' | 'writing', answer: string, prompt: string | null): Promise<Evaluation> {
    const { provider, model } = this.resolve();
    if (provider.id === 'local') return { ...evaluateText(kind, answer, prompt), summary: null };
    const names: readonly string[] = CRITERIA[kind];
    const schema = evaluationSchema.refine((v) => v.criteria.every((c, i) => c.name === names[i]));
    const reply = await generateJson(provider, model, turns(evaluationPrompt(kind, names, answer, prompt)), schema);
    const overall = Math.round(reply.criteria.reduce((a, c) => a + c.score, 0) / reply.criteria.length);
    return { criteria: reply.criteria, overall, suggestions: reply.suggestions, summary: reply.feedback };
  }

  /**
   * A new variant of the same type and skill (XEL-6): from the template bank offline (the next
   * one after `bankIndex`, never the current one), or written by the remote provider.
   * @throws PROVIDER_ERROR (also for a variant that repeats the current prompt)
   */
  async variant(task: TaskContent, bank: readonly VariantContent[], bankIndex: number | null): Promise<VariantContent & { bankIndex: number | null }> {
    const { provider, model } = this.resolve();
    if (provider.id === 'local') {
      const next = ((bankIndex ?? 0) + 1) % bank.length;
      const picked = bank[next];
      if (!picked || bank.length < 2) throw new Error('the task has no template to draw from');
      return { ...picked, bankIndex: next };
    }
    return { ...(await remoteVariant(provider, model, task)), bankIndex: null };
  }
}

/** A variant written by a remote provider, checked for its type's shape. @throws PROVIDER_ERROR */
async function remoteVariant(provider: AiProvider, model: string, task: TaskContent): Promise<VariantContent> {
  const messages = turns(variantPrompt(task));
  const differs = (p: string): boolean => normalise(p) !== normalise(task.prompt);
  if (task.type === 'multiple_choice') {
    const v = await generateJson(provider, model, messages, variantSchemas.multiple_choice.refine((x) => differs(x.prompt)));
    return { prompt: v.prompt, options: v.options, audioUrl: null, key: { answer: v.options.find((o) => normalise(o) === normalise(v.answer)) ?? v.answer } };
  }
  if (task.type === 'fill_blank') {
    const v = await generateJson(provider, model, messages, variantSchemas.fill_blank.refine((x) => differs(x.prompt)));
    return { prompt: v.prompt, options: null, audioUrl: null, key: { accepted: v.accepted } };
  }
  const v = await generateJson(provider, model, messages, variantSchemas.graded.refine((x) => differs(x.prompt)));
  return { prompt: v.prompt, options: null, audioUrl: null, key: { reference: v.reference, keywords: v.keywords, target_words: v.target_words } };
}

/** The system rules and the request as the two turns every provider reads. */
function turns(user: string): ChatTurn[] {
  return [
    { role: 'system', content: REMOTE_RULES },
    { role: 'user', content: user },
  ];
}
