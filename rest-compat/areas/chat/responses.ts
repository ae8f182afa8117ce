/** The response bodies of the Conversations area (§3.2): conversations, messages, sessions, search and notes. */
import { page, r, response, within } from '../../response.ts';

/** A `Conversation`, from the `ConversationResponseFields` fragment. */
export const ConversationResponse = response('ConversationResponse', {
  id: r.uuid(),
  title: r.str(),
  provider: r.strOrNull(),
  message_count: r.int(),
  last_message_at: r.dateTimeOrNull(),
  created_at: r.dateTime(),
  updated_at: r.dateTime(),
});
export const ConversationListResponse = page('ConversationListResponse', ConversationResponse);

/** A `Message`, from the `MessageResponseFields` fragment. */
export const MessageResponse = response('MessageResponse', {
  id: r.uuid(),
  conversation_id: r.uuid(),
  role: r.lower({ type: 'string', enum: ['user', 'assistant'] }),
  content: r.str(),
  provider: r.strOrNull(),
  model: r.strOrNull(),
  created_at: r.dateTime(),
});
export const MessageListResponse = page('MessageListResponse', MessageResponse);

/** A `Note`, from the `NoteResponseFields` fragment. */
export const NoteResponse = response('NoteResponse', {
  id: r.uuid(),
  title: r.str(),
  content: r.str(),
  conversation_id: r.uuidOrNull(),
  tags: r.strings(),
  created_at: r.dateTime(),
  updated_at: r.dateTime(),
});
export const NoteListResponse = page('NoteListResponse', NoteResponse);

/** The fields every session response starts with, read from a payload's `session`. */
const sessionHead = (status: 'active' | 'ended') => ({
  session_id: r.uuid().from('id'),
  conversation_id: r.uuid(),
  status: r.lower({ type: 'string', const: status }),
});

/** A `StartConversationSessionPayload`. */
export const ConversationSessionStartResponse = response('ConversationSessionStartResponse', {
  ...within('session', { ...sessionHead('active'), started_at: r.dateTime(), last_activity_at: r.dateTime() }),
  resumed: r.bool(),
});

/** A `RecordConversationActivityPayload`. */
export const ConversationSessionActivityResponse = response(
  'ConversationSessionActivityResponse',
  within('session', { ...sessionHead('active'), last_activity_at: r.dateTime(), elapsed_seconds: r.int() }),
);

/** An `EndConversationSessionPayload`. */
export const ConversationSessionEndResponse = response(
  'ConversationSessionEndResponse',
  within('session', {
    ...sessionHead('ended'),
    started_at: r.dateTime(),
    ended_at: r.dateTime(),
    duration_seconds: r.int(),
    end_reason: r.lower({ type: 'string', enum: ['client', 'timeout'] }),
    xp_awarded: r.int(),
  }),
);

/** A `ConversationSessionStatus`: nulls and 0 when no session is active. */
export const ConversationSessionStatusResponse = response('ConversationSessionStatusResponse', {
  conversation_id: r.uuid(),
  active: r.bool(),
  session_id: r.uuidOrNull().from('session', 'id'),
  started_at: r.dateTimeOrNull().from('session', 'startedAt'),
  last_activity_at: r.dateTimeOrNull().from('session', 'lastActivityAt'),
  elapsed_seconds: r.int(),
});

export const CoreSearchConversationResult = response('CoreSearchConversationResult', { conversation_id: r.uuid(), title: r.str(), highlight: r.str(), score: r.num(), updated_at: r.dateTime() });
export const CoreSearchMessageResult = response('CoreSearchMessageResult', {
  message_id: r.uuid(),
  conversation_id: r.uuid(),
  conversation_title: r.str(),
  role: r.lower({ type: 'string' }),
  snippet: r.str(),
  score: r.num(),
  created_at: r.dateTime(),
});
export const CoreSearchNoteResult = response('CoreSearchNoteResult', { note_id: r.uuid(), conversation_id: r.uuidOrNull(), title: r.str(), snippet: r.str(), score: r.num(), updated_at: r.dateTime() });

/** A `ContentSearchResults`. */
export const CoreSearchResponse = response('CoreSearchResponse', {
  query: r.str(),
  conversations: r.list(CoreSearchConversationResult),
  messages: r.list(CoreSearchMessageResult),
  notes: r.list(CoreSearchNoteResult),
});

/** A `ContentSearchStatus`. */
export const TypesenseStatusResponse = response('TypesenseStatusResponse', {
  backend: r.str(),
  healthy: r.bool(),
  collections: r.objects({ name: r.lower({ type: 'string' }), document_count: r.int() }),
  last_reindex_at: r.dateTimeOrNull(),
  reindex_running: r.bool(),
});

/** A `ReindexContentSearchResult`. */
export const TypesenseReindexResponse = response('TypesenseReindexResponse', {
  status: r.str({ const: 'completed' }),
  collections: r.lowerList(),
  indexed: r.object({ conversations: r.int(), messages: r.int(), notes: r.int() }),
  started_at: r.dateTime(),
  finished_at: r.dateTime(),
  duration_ms: r.int(),
});
