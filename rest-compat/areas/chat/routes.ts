/** Conversations, CONV-3..17 (§3.2): conversations, messages, sessions, search and notes. */
import { v, type FieldSpec } from '../../validation.ts';
import { defineRoute, type RouteDecl } from '../../route.ts';
import type { ResponseDef } from '../../response.ts';
import { field, noContent, present } from '../../shape.ts';
import {
  ConversationListResponse,
  ConversationResponse,
  ConversationSessionActivityResponse,
  ConversationSessionEndResponse,
  ConversationSessionStartResponse,
  ConversationSessionStatusResponse,
  CoreSearchResponse,
  MessageListResponse,
  NoteListResponse,
  NoteResponse,
  TypesenseReindexResponse,
  TypesenseStatusResponse,
} from './responses.ts';

/** §3.2 search groups, in their documented order. */
export const SEARCH_TYPES = ['conversations', 'messages', 'notes'] as const;
type SearchType = (typeof SEARCH_TYPES)[number];

/** Checks the length after trimming, as Pydantic's `strip_whitespace` does, and passes on the trimmed text. */
function trimmed(base: FieldSpec<string>): FieldSpec<string> {
  return { ...base, parse: (input, loc, run) => base.parse(typeof input === 'string' ? input.trim() : input, loc, run) };
}

/** Names in a comma-separated `types` value; blank items are ignored. */
const typeNames = (s: string): string[] => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
const isSearchType = (x: string): x is SearchType => (SEARCH_TYPES as readonly string[]).includes(x);

const page = { limit: v.optional(v.int({ ge: 1, le: 100 }), 20), offset: v.optional(v.int({ ge: 0 }), 0) };
const conversationParams = v.object({ conversation_id: v.uuid() });
const noteParams = v.object({ note_id: v.uuid() });
const pageQuery = v.object(page);
const notesQuery = v.object({ ...page, conversation_id: v.optional(v.uuid()) });

const createConversationBody = v.object({
  title: v.optional(v.str({ min: 1, max: 200 }), 'New conversation'),
  provider: v.optional(v.nullable(v.str())),
});

const searchQuery = v.object({
  q: trimmed(v.str({ min: 1, max: 200 })),
  types: v.optional(
    v.custom(v.str(), (s) => {
      const unknown = typeNames(s).find((x) => !isSearchType(x));
      return unknown === undefined ? null : `unknown type '${unknown}'; expected a comma-separated subset of ${SEARCH_TYPES.join(', ')}`;
    }, 'Comma-separated subset of conversations, messages, notes; default all three.'),
  ),
  limit: v.optional(v.int({ ge: 1, le: 100 }), 20),
});

const reindexBody = v.object({
  collections: v.optional(v.list(v.enumOf(SEARCH_TYPES))),
  user_id: v.optional(v.nullable(v.uuid())),
});

const tags = () => v.list(v.str({ min: 1, max: 50 }), { max: 20 });
const noteTitle = () => v.str({ min: 1, max: 200 });
const noteContent = () => v.str({ max: 100_000 });

const createNoteBody = v.object({
  title: noteTitle(),
  content: v.optional(noteContent(), ''),
  conversation_id: v.optional(v.nullable(v.uuid())),
  tags: v.optional(tags(), []),
});

// PUT is a partial update (§3.2): absent = unchanged; only conversation_id takes a null (detach).
const updateNoteBody = v.object({
  title: v.optional(noteTitle()),
  content: v.optional(noteContent()),
  conversation_id: v.optional(v.nullable(v.uuid())),
  tags: v.optional(tags()),
});

const CONV = { tag: 'Conversations' } as const;
const SESSION = '/api/core/conversations/:conversation_id/session';
const SESSION_SUMMARY = { start: 'Start or resume the conversation session', activity: 'Record activity in the conversation session', end: 'End the conversation session' } as const;

/** CONV-7..9: a session mutation on the conversation in the path (no body). */
function sessionRoute(id: string, action: 'start' | 'activity' | 'end', operation: string, response: ResponseDef): RouteDecl {
  const payloadKey = operation.charAt(0).toLowerCase() + operation.slice(1);
  return defineRoute({
    ...CONV,
    id,
    method: 'POST',
    path: `${SESSION}/${action}`,
    summary: SESSION_SUMMARY[action],
    params: conversationParams,
    operation,
    variables: ({ params }) => ({ conversationId: params.conversation_id }),
    response,
    select: (data) => data[payloadKey],
    status: action === 'start' ? 201 : 200,
    // A new session is 201; resuming the active one is 200 (§1.6).
    ...(action === 'start' && { statusOf: (data: Record<string, unknown>) => (field(data, payloadKey, 'resumed') === true ? 200 : 201) }),
    notFound: 'Conversation',
  });
}

export const chatRoutes: RouteDecl[] = [
  defineRoute({
    ...CONV,
    id: 'CONV-3',
    method: 'GET',
    path: '/api/core/conversations',
    summary: "List the caller's conversations",
    query: pageQuery,
    operation: 'ListConversations',
    variables: ({ query }) => ({ limit: query.limit, offset: query.offset }),
    response: ConversationListResponse,
    select: (data) => data.conversations,
    status: 200,
  }),
  defineRoute({
    ...CONV,
    id: 'CONV-4',
    method: 'POST',
    path: '/api/core/conversations',
    summary: 'Create a conversation',
    // Every field has a default, so no body at all creates a "New conversation".
    body: { kind: 'json', spec: createConversationBody, optional: true },
    operation: 'CreateConversation',
    variables: ({ body }) => ({ input: { title: body?.title ?? 'New conversation', provider: body?.provider ?? null } }),
    response: ConversationResponse,
    select: (data) => field(data, 'createConversation', 'conversation'),
    status: 201,
  }),
  defineRoute({
    ...CONV,
    id: 'CONV-5',
    method: 'DELETE',
    path: '/api/core/conversations/:conversation_id',
    summary: 'Delete a conversation with its messages and sessions',
    params: conversationParams,
    operation: 'DeleteConversation',
    variables: ({ params }) => ({ id: params.conversation_id }),
    result: (data) => noContent(field(data, 'deleteConversation')),
    status: 204,
    notFound: 'Conversation',
  }),
  defineRoute({
    ...CONV,
    id: 'CONV-6',
    method: 'GET',
    path: '/api/core/conversations/:conversation_id/messages',
    summary: "List a conversation's messages, oldest first",
    params: conversationParams,
    query: pageQuery,
    operation: 'ListMessages',
    variables: ({ params, query }) => ({ conversationId: params.conversation_id, limit: query.limit, offset: query.offset }),
    response: MessageListResponse,
    select: (data) => field(data, 'conversation', 'messages'),
    status: 200,
    notFound: 'Conversation',
  }),
  sessionRoute('CONV-7', 'start', 'StartConversationSession', ConversationSessionStartResponse),
  sessionRoute('CONV-8', 'activity', 'RecordConversationActivity', ConversationSessionActivityResponse),
  sessionRoute('CONV-9', 'end', 'EndConversationSession', ConversationSessionEndResponse),
  defineRoute({
    ...CONV,
    id: 'CONV-10',
    method: 'GET',
    path: `${SESSION}/status`,
    summary: 'Get the conversation session status',
    params: conversationParams,
    operation: 'ConversationSessionStatus',
    variables: ({ params }) => ({ conversationId: params.conversation_id }),
    response: ConversationSessionStatusResponse,
    select: (data) => data.conversationSessionStatus,
    status: 200,
    notFound: 'Conversation',
  }),
  defineRoute({
    ...CONV,
    id: 'CONV-11',
    method: 'GET',
    path: '/api/core/search',
    summary: "Search the caller's conversations, messages and notes",
    query: searchQuery,
    operation: 'ContentSearch',
    variables: ({ query }) => {
      const names = query.types === undefined ? [] : typeNames(query.types).filter(isSearchType);
      const types = names.length > 0 ? SEARCH_TYPES.filter((t) => names.includes(t)) : SEARCH_TYPES;
      return { input: { query: query.q, types: types.map((t) => t.toUpperCase()), limit: query.limit } };
    },
    response: CoreSearchResponse,
    select: (data) => data.contentSearch,
    status: 200,
  }),
  defineRoute({
    ...CONV,
    id: 'CONV-12',
    method: 'GET',
    path: '/api/core/search/status',
    summary: 'Get the search index status (admin)',
    operation: 'ContentSearchStatus',
    variables: () => ({}),
    response: TypesenseStatusResponse,
    select: (data) => data.contentSearchStatus,
    status: 200,
  }),
  defineRoute({
    ...CONV,
    id: 'CONV-13',
    method: 'POST',
    path: '/api/core/search/reindex',
    summary: 'Rebuild the search index (admin, synchronous)',
    body: { kind: 'json', spec: reindexBody, optional: true },
    operation: 'ReindexContentSearch',
    variables: ({ body }) => ({
      input: {
        ...(body?.collections !== undefined && { collections: body.collections.map((c) => c.toUpperCase()) }),
        userId: body?.user_id ?? null,
      },
    }),
    response: TypesenseReindexResponse,
    select: (data) => data.reindexContentSearch,
    status: 200,
  }),
  defineRoute({
    ...CONV,
    id: 'CONV-14',
    method: 'GET',
    path: '/api/core/notes',
    summary: "List the caller's notes",
    query: notesQuery,
    operation: 'ListNotes',
    variables: ({ query }) => ({ limit: query.limit, offset: query.offset, ...present(query, { conversation_id: 'conversationId' }) }),
    response: NoteListResponse,
    select: (data) => data.notes,
    status: 200,
  }),
  defineRoute({
    ...CONV,
    id: 'CONV-15',
    method: 'POST',
    path: '/api/core/notes',
    summary: 'Create a note',
    body: { kind: 'json', spec: createNoteBody },
    operation: 'CreateNote',
    variables: ({ body }) => ({ input: { title: body.title, content: body.content, conversationId: body.conversation_id ?? null, tags: body.tags } }),
    response: NoteResponse,
    select: (data) => field(data, 'createNote', 'note'),
    status: 201,
  }),
  defineRoute({
    ...CONV,
    id: 'CONV-16',
    method: 'PUT',
    path: '/api/core/notes/:note_id',
    summary: 'Update a note (partial: absent fields are unchanged)',
    params: noteParams,
    // An empty body is a no-op that returns the note; so is no body.
    body: { kind: 'json', spec: updateNoteBody, optional: true },
    operation: 'UpdateNote',
    variables: ({ params, body }) => ({
      id: params.note_id,
      input: present(body ?? {}, { title: 'title', content: 'content', conversation_id: 'conversationId', tags: 'tags' }),
    }),
    response: NoteResponse,
    select: (data) => field(data, 'updateNote', 'note'),
    status: 200,
    notFound: 'Note',
  }),
  defineRoute({
    ...CONV,
    id: 'CONV-17',
    method: 'DELETE',
    path: '/api/core/notes/:note_id',
    summary: 'Delete a note',
    params: noteParams,
    operation: 'DeleteNote',
    variables: ({ params }) => ({ id: params.note_id }),
    result: (data) => noContent(field(data, 'deleteNote')),
    status: 204,
    notFound: 'Note',
  }),
];
