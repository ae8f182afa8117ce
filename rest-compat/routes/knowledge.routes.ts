/**
 * Knowledge Base, KB-1..4 (§3.3, §4.10): search, the document list, multipart upload and
 * RAG questions. The knowledge subgraph holds every rule (types, scopes, sharing, tenancy); these
 * routes parse the request, run the operation and shape the documented JSON.
 */
import { MAX_UPLOAD_BYTES, fileTooLarge } from '../../kernel/errors.ts';
import { v } from '../validation.ts';
import { defineRoute, type RouteDecl } from '../route.ts';
import { array, field, lowerEnum, object } from '../shape.ts';
import { envelope } from './chat.responses.ts';

const SCOPES = ['user', 'conversation'] as const;
type Scope = (typeof SCOPES)[number];
const gqlScope = (scope: Scope | undefined): string | null => (scope === undefined ? null : scope.toUpperCase());

/** `RagDocument` from the `RagDocumentFields` fragment. */
export function ragDocument(document: unknown): Record<string, unknown> | null {
  const d = object(document);
  if (!d) return null;
  return {
    id: d.id,
    title: d.title,
    filename: d.filename,
    content_type: d.contentType,
    size_bytes: d.sizeBytes,
    scope: lowerEnum(d.scope),
    conversation_id: d.conversationId ?? null,
    shared: d.shared,
    organization_id: d.organizationId ?? null,
    owner_id: d.ownerId,
    chunk_count: d.chunkCount,
    created_at: d.createdAt,
  };
}

/** `KnowledgeSearchResponse`: exactly the documented fields of each hit (no GraphQL `highlight`). */
function searchResponse(result: unknown): Record<string, unknown> | null {
  const r = object(result);
  if (!r) return null;
  return {
    query: r.query,
    results: array(r.results).map((hit) => {
      const h = object(hit) ?? {};
      return {
        document_id: h.documentId,
        title: h.title,
        chunk_index: h.chunkIndex,
        content: h.content,
        score: h.score,
        scope: lowerEnum(h.scope),
        conversation_id: h.conversationId ?? null,
        shared: h.shared,
      };
    }),
  };
}

/** `RagQueryResponse`. */
function ragQueryResponse(answer: unknown): Record<string, unknown> | null {
  const a = object(answer);
  if (!a) return null;
  return {
    answer: a.answer,
    sources: array(a.sources).map((source) => {
      const s = object(source) ?? {};
      return { document_id: s.documentId, title: s.title, chunk_index: s.chunkIndex, content: s.content, score: s.score };
    }),
    provider: a.provider,
    model: a.model,
  };
}

const searchBody = v.object({
  query: v.str({ min: 1, max: 1000 }),
  top_k: v.optional(v.int({ ge: 1, le: 50 }), 5),
  conversation_id: v.optional(v.nullable(v.uuid())),
  include_shared: v.optional(v.bool(), true),
});

const listQuery = v.object({
  limit: v.optional(v.int({ ge: 1, le: 100 }), 20),
  offset: v.optional(v.int({ ge: 0 }), 0),
  scope: v.optional(v.enumOf(SCOPES)),
  conversation_id: v.optional(v.uuid()),
  shared: v.optional(v.bool()),
  mine: v.optional(v.bool()),
});

// Field order is FastAPI's error order (§3.3 table order).
const uploadBody = v.object({
  file: v.file(),
  title: v.optional(v.str({ min: 1, max: 200 })),
  scope: v.optional(v.enumOf(SCOPES), 'user'),
  conversation_id: v.optional(v.uuid()),
  shared: v.optional(v.bool(), false),
  organization_id: v.optional(v.uuid()),
  // (decided, an addition to the contract) a client-chosen UUID to follow ingestion with the
  // `documentIngestion` subscription.
  upload_id: v.optional(v.uuid()),
});

const ragQueryBody = v.object({
  query: v.str({ min: 1, max: 2000 }),
  top_k: v.optional(v.int({ ge: 1, le: 20 }), 5),
  conversation_id: v.optional(v.nullable(v.uuid())),
  provider: v.optional(v.str(), 'auto'),
});

const KB = { tag: 'Knowledge Base' } as const;

export const knowledgeRoutes: RouteDecl[] = [
  defineRoute({
    ...KB,
    id: 'KB-1',
    method: 'POST',
    path: '/api/knowledge/search',
    summary: 'Search the knowledge base',
    body: { kind: 'json', spec: searchBody },
    operation: 'SearchKnowledge',
    variables: ({ body }) => ({
      input: { query: body.query, topK: body.top_k, conversationId: body.conversation_id ?? null, includeShared: body.include_shared },
    }),
    result: (data) => searchResponse(field(data, 'knowledgeSearch')),
    status: 200,
    responseName: 'KnowledgeSearchResponse',
  }),
  defineRoute({
    ...KB,
    id: 'KB-2',
    method: 'GET',
    path: '/api/knowledge/documents',
    summary: "List the caller's and shared knowledge documents",
    query: listQuery,
    operation: 'ListKnowledgeDocuments',
    variables: ({ query }) => ({
      limit: query.limit,
      offset: query.offset,
      scope: gqlScope(query.scope),
      conversationId: query.conversation_id ?? null,
      shared: query.shared ?? null,
      mine: query.mine ?? null,
    }),
    result: (data) => envelope(field(data, 'knowledgeDocuments'), ragDocument),
    status: 200,
    responseName: 'RagDocumentListResponse',
  }),
  defineRoute({
    ...KB,
    id: 'KB-3',
    method: 'POST',
    path: '/api/knowledge/documents',
    summary: 'Upload and index a document (multipart/form-data)',
    body: { kind: 'multipart', spec: uploadBody },
    operation: 'UploadKnowledgeDocument',
    idempotent: true,
    variables: ({ body }) => {
      // Refused before the bytes are base64-encoded for the operation (a third larger).
      if (body.file.size > MAX_UPLOAD_BYTES) throw fileTooLarge();
      return {
        input: {
          file: { filename: body.file.filename, contentType: body.file.contentType, contentBase64: body.file.bytes.toString('base64') },
          title: body.title ?? null,
          scope: gqlScope(body.scope),
          conversationId: body.conversation_id ?? null,
          shared: body.shared,
          organizationId: body.organization_id ?? null,
          uploadId: body.upload_id ?? null,
        },
      };
    },
    result: (data) => ragDocument(field(data, 'uploadKnowledgeDocument', 'document')),
    status: 201,
    responseName: 'RagDocument',
  }),
  defineRoute({
    ...KB,
    id: 'KB-4',
    method: 'POST',
    path: '/api/rag/query',
    summary: 'Answer a question from the knowledge base',
    body: { kind: 'json', spec: ragQueryBody },
    operation: 'RagQuery',
    variables: ({ body }) => ({
      input: { query: body.query, topK: body.top_k, conversationId: body.conversation_id ?? null, provider: body.provider },
    }),
    result: (data) => ragQueryResponse(field(data, 'ragQuery')),
    status: 200,
    responseName: 'RagQueryResponse',
  }),
];
