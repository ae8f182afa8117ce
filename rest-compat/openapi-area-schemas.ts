/**
 * JSON Schemas of the Organizations, API Keys, Conversations and Knowledge Base response bodies
 * (§3.2, §3.3, §3.4, §3.10), in the OpenAPI 3.1 dialect. Every documented field is always present (§1.1).
 */
import { record, str, strOrNull, uuid, type JsonObject } from './json-schema.ts';

const int: JsonObject = { type: 'integer' };
const num: JsonObject = { type: 'number' };
const bool: JsonObject = { type: 'boolean' };
const uuidOrNull: JsonObject = { type: ['string', 'null'], format: 'uuid' };
const dateTime: JsonObject = { type: 'string', format: 'date-time' };
const dateTimeOrNull: JsonObject = { type: ['string', 'null'], format: 'date-time' };
const strings: JsonObject = { type: 'array', items: str };
const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

/** `Page<T>` (§1.2). */
function page(item: string): JsonObject {
  return record({ items: { type: 'array', items: ref(item) }, total: int, limit: int, offset: int });
}


const usage = record({ prompt_tokens: int, completion_tokens: int, total_tokens: int });

export const AREA_RESPONSE_SCHEMAS: Record<string, JsonObject> = {
  ProviderInfo: record({ id: str, name: str, models: strings, default_model: strOrNull, available: bool }),
  ProvidersResponse: record({ default_provider: { type: 'string', const: 'auto' }, providers: { type: 'array', items: ref('ProviderInfo') } }),
  ChatUsage: usage,
  ChatResponse: record({ content: str, provider: str, model: str, usage: { oneOf: [ref('ChatUsage'), { type: 'null' }] }, conversation_id: uuidOrNull, message_id: uuidOrNull }),
  ConversationResponse: record({ id: uuid, title: str, provider: strOrNull, message_count: int, last_message_at: dateTimeOrNull, created_at: dateTime, updated_at: dateTime }),
  ConversationListResponse: page('ConversationResponse'),
  MessageResponse: record({ id: uuid, conversation_id: uuid, role: { type: 'string', enum: ['user', 'assistant'] }, content: str, provider: strOrNull, model: strOrNull, created_at: dateTime }),
  MessageListResponse: page('MessageResponse'),
  ConversationSessionStartResponse: record({ session_id: uuid, conversation_id: uuid, status: { type: 'string', const: 'active' }, started_at: dateTime, last_activity_at: dateTime, resumed: bool }),
  ConversationSessionActivityResponse: record({ session_id: uuid, conversation_id: uuid, status: { type: 'string', const: 'active' }, last_activity_at: dateTime, elapsed_seconds: int }),
  ConversationSessionEndResponse: record({
    session_id: uuid,
    conversation_id: uuid,
    status: { type: 'string', const: 'ended' },
    started_at: dateTime,
    ended_at: dateTime,
    duration_seconds: int,
    end_reason: { type: 'string', enum: ['client', 'timeout'] },
    xp_awarded: int,
  }),
  ConversationSessionStatusResponse: record({ conversation_id: uuid, active: bool, session_id: uuidOrNull, started_at: dateTimeOrNull, last_activity_at: dateTimeOrNull, elapsed_seconds: int }),
  CoreSearchConversationResult: record({ conversation_id: uuid, title: str, highlight: str, score: num, updated_at: dateTime }),
  CoreSearchMessageResult: record({ message_id: uuid, conversation_id: uuid, conversation_title: str, role: str, snippet: str, score: num, created_at: dateTime }),
  CoreSearchNoteResult: record({ note_id: uuid, conversation_id: uuidOrNull, title: str, snippet: str, score: num, updated_at: dateTime }),
  CoreSearchResponse: record({
    query: str,
    conversations: { type: 'array', items: ref('CoreSearchConversationResult') },
    messages: { type: 'array', items: ref('CoreSearchMessageResult') },
    notes: { type: 'array', items: ref('CoreSearchNoteResult') },
  }),
  TypesenseStatusResponse: record({
    backend: str,
    healthy: bool,
    collections: { type: 'array', items: record({ name: str, document_count: int }) },
    last_reindex_at: dateTimeOrNull,
    reindex_running: bool,
  }),
  TypesenseReindexResponse: record({
    status: { type: 'string', const: 'completed' },
    collections: strings,
    indexed: record({ conversations: int, messages: int, notes: int }),
    started_at: dateTime,
    finished_at: dateTime,
    duration_ms: int,
  }),
  NoteResponse: record({ id: uuid, title: str, content: str, conversation_id: uuidOrNull, tags: strings, created_at: dateTime, updated_at: dateTime }),
  NoteListResponse: page('NoteResponse'),
};
