/** Internal tRPC procedures of knowledge: retrieval for grounding (chat). */
import { z } from 'zod';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createRouter, internalProcedure } from '../../kernel/trpc.ts';
import type { DocumentService } from './document.service.ts';
import type { Retriever } from './retriever.ts';

export function createKnowledgeRouter(orm: MikroORM, documents: DocumentService, retriever: Retriever) {
  return createRouter({
    /**
     * The best passages for `query` among what the user can see (§4.10's candidate set,
     * shared documents included). `conversationId` adds that conversation's documents when the
     * user owns them (the caller has checked the conversation).
     */
    retrieve: internalProcedure
      .input(
        z.object({
          userId: z.uuid(),
          mode: z.enum(['bearer', 'api_key', 'internal']),
          tenantId: z.uuid().nullable(),
          query: z.string().min(1).max(20_000),
          topK: z.number().int().min(1).max(20).default(5),
          conversationId: z.uuid().nullable().default(null),
        }),
      )
      .query(async ({ input }) => {
        const organizationIds = await documents.organizationsOf(input);
        const chunks = await retriever.retrieve(orm.em.fork(), {
          query: input.query,
          topK: input.topK,
          visibility: { userId: input.userId, organizationIds, includeShared: true, conversationId: input.conversationId },
          highlight: false,
        });
        return chunks.map((c) => ({ documentId: c.documentId, title: c.title, chunkIndex: c.chunkIndex, content: c.content, score: c.score }));
      }),
  });
}

export type KnowledgeRouter = ReturnType<typeof createKnowledgeRouter>;
