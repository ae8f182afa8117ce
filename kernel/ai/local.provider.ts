/**
 * `local` (model `local-grounded-1`): the offline, deterministic provider (§4.17). It
 * answers from the caller's own conversation and from knowledge documents passed in as system
 * turns (`[title] passage`, see grounding.ts): the best-matching passages, quoted and cited; when nothing matches
 * it says plainly that no language model is configured and how to configure one. Streams word by
 * word.
 */
import type { AiProvider, ChatTurn, GenerateOptions } from './provider.ts';

export const LOCAL_MODEL = 'local-grounded-1';

const STOP = new Set('a an and are as at be but by for from has have how i in is it its me my of on or so that the this to was we what when where which who why will with you your'.split(' '));

function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 2 && !STOP.has(w));
}

/** A `[title] ` prefix: a knowledge passage's document title (grounding.ts). */
const TITLED = /^\[(.+?)\]\s*/;

/** Where a turn's sentences come from, whether it is a document passage, and its sentences. */
function readTurn(turn: ChatTurn, i: number): { source: string; document: boolean; sentences: string[] } {
  const title = TITLED.exec(turn.content)?.[1];
  return {
    source: turn.role === 'system' ? (title ?? 'your documents') : `your conversation, message ${i + 1}`,
    document: turn.role === 'system' && title !== undefined,
    sentences: turn.content
      .replace(TITLED, '')
      .split(/(?<=[.!?])\s+/)
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  };
}

/** Sentences of prior turns, scored by shared words with the question (ties: earlier first). */
function bestPassages(question: string, context: readonly ChatTurn[], max = 3): { text: string; source: string; score: number }[] {
  const q = new Set(words(question));
  if (q.size === 0) return [];
  // Only what the user wrote (and documents passed as system turns) is a source; quoting earlier
  // replies would just echo the assistant.
  const turns = context.map((turn, i) => ({ turn, ...readTurn(turn, i) })).filter((t) => t.turn.role !== 'assistant');
  const scored: { text: string; source: string; score: number; order: number }[] = [];
  let order = 0;
  for (const { source, sentences } of turns) {
    for (const text of sentences) {
      const score = new Set(words(text).filter((w) => q.has(w))).size;
      if (score > 0) scored.push({ text, source, score, order: order++ });
    }
  }
  if (scored.length > 0) return scored.sort((a, b) => b.score - a.score || a.order - b.order).slice(0, max);
  // Retrieved documents (system turns) were already ranked against the question, possibly by
  // stems or corrected spellings the word match above misses: quote their leading sentences.
  return turns
    .filter((t) => t.document && t.sentences.length > 0)
    .slice(0, max)
    .map((t, i) => ({ text: t.sentences[0] ?? '', source: t.source, score: 0, order: i }));
}

/** The full deterministic reply for these messages. */
export function localReply(messages: readonly ChatTurn[]): string {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const question = lastUser?.content ?? '';
  const context = messages.filter((m) => m !== lastUser);
  const passages = bestPassages(question, context);
  if (passages.length === 0) {
    return (
      `No language model is configured, so I can only answer from your own conversation and documents, and nothing there matches "${question.slice(0, 200)}". ` +
      'To get full answers, configure a provider: set OPENAI_BASE_URL and OPENAI_API_KEY (OpenAI, Azure, Ollama, vLLM or LM Studio) or ANTHROPIC_API_KEY, and optionally DEFAULT_AI_PROVIDER.'
    );
  }
  const quoted = passages.map((p, i) => `${i + 1}. "${p.text}" (${p.source})`).join(' ');
  const fromDocuments = passages.some((p) => !p.source.startsWith('your conversation'));
  return `${fromDocuments ? 'From your knowledge base' : 'From what you have already written'}, these passages match your question: ${quoted}`;
}

export function createLocalProvider(): AiProvider {
  return {
    id: 'local',
    name: 'Local (offline, grounded)',
    models: [LOCAL_MODEL],
    defaultModel: LOCAL_MODEL,
    available: true,
    async *generate(messages: readonly ChatTurn[], options: GenerateOptions) {
      const reply = localReply(messages);
      // Word by word, keeping the spacing, so concatenating the deltas gives the reply exactly.
      for (const piece of reply.match(/\S+\s*/g) ?? []) {
        if (options.signal?.aborted) return;
        yield piece;
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}
