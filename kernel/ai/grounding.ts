/**
 * Grounding turns: retrieved knowledge passages as the system turns every provider reads. Each
 * passage is one system turn starting with its title in brackets (the `local` provider quotes
 * and cites those); remote providers also get an instruction to answer from them and cite.
 */
import type { AiProvider, ChatTurn } from './provider.ts';

export interface Passage {
  title: string;
  content: string;
}

export const GROUNDING_INSTRUCTION =
  "Answer using the passages from the user's knowledge base given below, each introduced by its document title in square brackets. " +
  'Cite the titles of the passages you use. If they do not contain the answer, say so.';

export function groundingTurns(passages: readonly Passage[], provider: Pick<AiProvider, 'id'>): ChatTurn[] {
  if (passages.length === 0) return [];
  const turns: ChatTurn[] = passages.map((p) => ({ role: 'system', content: `[${p.title.replace(/[[\]]/g, '')}] ${p.content}` }));
  return provider.id === 'local' ? turns : [{ role: 'system', content: GROUNDING_INSTRUCTION }, ...turns];
}
