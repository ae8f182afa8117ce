/** The response bodies of the Knowledge Base area (§3.3). */
import { page, r, response } from '../../response.ts';

const documentScope = r.lower({ type: 'string', enum: ['user', 'conversation'] });
const score = r.num({ exclusiveMinimum: 0, maximum: 1 });
const chunkIndex = r.int({ minimum: 0 });

/** A `KnowledgeDocument`, from the `RagDocumentFields` fragment. */
export const RagDocument = response('RagDocument', {
  id: r.uuid(),
  title: r.str(),
  filename: r.str(),
  content_type: r.str({ enum: ['text/plain', 'text/markdown', 'application/pdf', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'] }),
  size_bytes: r.int({ minimum: 1, maximum: 10_485_760 }),
  scope: documentScope,
  conversation_id: r.uuidOrNull(),
  shared: r.bool(),
  organization_id: r.uuidOrNull(),
  owner_id: r.uuid(),
  chunk_count: r.int(),
  created_at: r.dateTime(),
});

export const RagDocumentListResponse = page('RagDocumentListResponse', RagDocument);

/** One search hit: exactly the documented fields (not GraphQL's `highlight`). */
export const KnowledgeSearchResultItem = response('KnowledgeSearchResultItem', {
  document_id: r.uuid(),
  title: r.str(),
  chunk_index: chunkIndex,
  content: r.str(),
  score,
  scope: documentScope,
  conversation_id: r.uuidOrNull(),
  shared: r.bool(),
});

export const KnowledgeSearchResponse = response('KnowledgeSearchResponse', { query: r.str(), results: r.list(KnowledgeSearchResultItem) });

export const RagSource = response('RagSource', { document_id: r.uuid(), title: r.str(), chunk_index: chunkIndex, content: r.str(), score });

/** A `RagAnswer`. */
export const RagQueryResponse = response('RagQueryResponse', { answer: r.str(), sources: r.list(RagSource), provider: r.str(), model: r.str() });
