/**
 * Grounding from knowledge over tRPC (chat → knowledge `retrieve`), called before a
 * generation and never inside a transaction. A knowledge subgraph that is down or not deployed
 * leaves the reply ungrounded rather than failing the chat.
 */
import type { TRPCClient } from '@trpc/client';
import { callInternal } from '../../kernel/trpc.ts';
import type { UserContext } from '../../kernel/authz.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Passage } from '../../kernel/ai/grounding.ts';
import type { KnowledgeRouter } from '../knowledge/router.ts';

/** Passages given to a chat generation. */
const TOP_K = 5;

export class KnowledgeGateway {
  constructor(
    private readonly client: TRPCClient<KnowledgeRouter>,
    private readonly logger: Logger,
  ) {}

  /** The caller's best passages for `query` (their documents, their organizations' shared ones, the conversation's). */
  async passages(auth: UserContext, query: string, conversationId: string | null): Promise<Passage[]> {
    try {
      const mode = auth.mode === 'api_key' ? 'api_key' : auth.mode === 'internal' ? 'internal' : 'bearer';
      return await callInternal(this.client.retrieve.query({ userId: auth.userId, mode, tenantId: auth.tenantId, query, topK: TOP_K, conversationId }));
    } catch (err) {
      this.logger.warn({ err }, 'knowledge retrieval failed; answering without documents');
      return [];
    }
  }
}
