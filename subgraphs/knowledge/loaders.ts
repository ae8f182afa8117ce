/** Per-request DataLoaders: every document a response references loads in one statement (no N+1). */
import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuthContext } from '../../kernel/context.ts';
import type { KnowledgeDocument } from './document.entity.ts';
import type { DocumentService } from './document.service.ts';

export interface KnowledgeLoaders {
  /** Documents the caller can see, by id (null otherwise). */
  documentById: DataLoader<string, KnowledgeDocument | null>;
}

export function createLoaders(em: EntityManager, auth: AuthContext | null, documents: DocumentService): KnowledgeLoaders {
  return {
    documentById: new DataLoader(async (ids) => {
      const userId = auth?.userId;
      const rows = auth && userId ? await documents.findMany(em, { ...auth, userId }, ids) : [];
      const byId = new Map(rows.map((d) => [d.id, d]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}
