/** Knowledge documents (§3.3 `RagDocument`). Chunks and terms are written with SQL (ingestion.sql.ts). */
import { createdAt, entitySchema, uuidId } from '../../kernel/entity-schema.ts';

export type DocumentScope = 'user' | 'conversation';

export interface KnowledgeDocument {
  id: string;
  ownerId: string;
  title: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  scope: DocumentScope;
  /** Set exactly when `scope` is `conversation`. */
  conversationId: string | null;
  shared: boolean;
  /** Set when `shared` (the organization whose members may read it). */
  organizationId: string | null;
  chunkCount: number;
  /** The client's id for following ingestion progress, unique per owner. */
  uploadId: string | null;
  /** False while ingestion writes its chunks: no read sees the document until it is true. */
  ready: boolean;
  createdAt: Date;
  /** While not `ready`: until when the ingesting process holds it (ingestion.leases.ts). */
  leaseUntil?: Date | null;
}

export const KnowledgeDocumentSchema = entitySchema<KnowledgeDocument>('KnowledgeDocument', 'documents', {
  ...uuidId(),
  ownerId: { type: 'uuid', fieldName: 'owner_id' },
  title: { type: 'string' },
  filename: { type: 'text' },
  contentType: { type: 'string', fieldName: 'content_type' },
  sizeBytes: { type: 'integer', fieldName: 'size_bytes' },
  scope: { type: 'string' },
  conversationId: { type: 'uuid', nullable: true, fieldName: 'conversation_id' },
  shared: { type: 'boolean' },
  organizationId: { type: 'uuid', nullable: true, fieldName: 'organization_id' },
  chunkCount: { type: 'integer', fieldName: 'chunk_count' },
  uploadId: { type: 'uuid', nullable: true, fieldName: 'upload_id' },
  ready: { type: 'boolean' },
  ...createdAt(),
  leaseUntil: { type: 'Date', nullable: true, fieldName: 'lease_until' },
});
