/**
 * Knowledge Base, KB-1..4 (§3.3, §4.10): search, the document list, multipart upload and
 * RAG questions. The knowledge subgraph holds every rule (types, scopes, sharing, tenancy); these
 * routes parse the request, run the operation and shape the documented JSON.
 */
import { MAX_UPLOAD_BYTES, fileTooLarge } from '../../../kernel/errors.ts';
import { v } from '../../validation.ts';
import { defineRoute, type RouteDecl } from '../../route.ts';
import { field } from '../../shape.ts';
import { KnowledgeSearchResponse, RagDocument, RagDocumentListResponse, RagQueryResponse } from './responses.ts';

const SCOPES = ['user', 'conversation'] as const;
type Scope = (typeof SCOPES)[number];
const gqlScope = (scope: Scope | undefined): string | null => (scope === undefined ? null : scope.toUpperCase());

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
    response: KnowledgeSearchResponse,
    select: (data) => data.knowledgeSearch,
    status: 200,
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
    response: RagDocumentListResponse,
    select: (data) => data.knowledgeDocuments,
    status: 200,
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
    response: RagDocument,
    select: (data) => field(data, 'uploadKnowledgeDocument', 'document'),
    status: 201,
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
    response: RagQueryResponse,
    select: (data) => data.ragQuery,
    status: 200,
  }),
];
