/**
 * KB-4: retrieves exactly as KB-1 does with shared documents included, then asks the provider to
 * answer from those passages (§3.3). With nothing retrieved it still answers, with no sources.
 */
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { parseInput } from '../../kernel/input.ts';
import type { UserContext } from '../../kernel/authz.ts';
import type { ProviderRegistry } from '../../kernel/ai/registry.ts';
import { providerError, type ChatTurn } from '../../kernel/ai/provider.ts';
import { groundingTurns } from '../../kernel/ai/grounding.ts';
import type { DocumentService } from './document.service.ts';
import type { RetrievedChunk, Retriever } from './retriever.ts';

const ragInput = z.object({
  query: z.string().min(1).max(2000),
  topK: z.number().int().min(1).max(20).default(5),
  conversationId: z.string().nullish(),
  provider: z.string().nullish(),
});
export type RagInput = z.input<typeof ragInput>;

export interface RagAnswer {
  answer: string;
  sources: RetrievedChunk[];
  provider: string;
  model: string;
}

export class RagService {
  constructor(
    private readonly documents: DocumentService,
    private readonly retriever: Retriever,
    private readonly registry: ProviderRegistry,
  ) {}

  /** @throws BAD_USER_INPUT; NOT_FOUND (conversation); UNKNOWN_PROVIDER; PROVIDER_ERROR */
  async answer(em: EntityManager, auth: UserContext, raw: RagInput): Promise<RagAnswer> {
    const input = parseInput(ragInput, raw);
    const visibility = await this.documents.visibility(auth, { includeShared: true, conversationId: input.conversationId ?? null });
    const resolved = this.registry.resolve(input.provider ?? 'auto');
    const sources = await this.retriever.retrieve(em, { query: input.query, topK: input.topK, visibility, highlight: false });
    const turns: ChatTurn[] = [...groundingTurns(sources, resolved.provider), { role: 'user', content: input.query }];
    let answer = '';
    try {
      for await (const delta of resolved.provider.generate(turns, { model: resolved.model })) answer += delta;
    } catch (err) {
      throw providerError(err);
    }
    return { answer, sources, provider: resolved.requested, model: resolved.model };
  }
}
