/** The documented JSON of the Conversations area (§3.2), shaped from the operations in schema/operations/chat.graphql. */
import { array, field, lowerEnum, object } from '../shape.ts';

/** `ConversationResponse` from the `ConversationResponseFields` fragment. */
export function conversationResponse(conversation: unknown): unknown {
  const c = object(conversation);
  if (!c) return null;
  return {
    id: c.id,
    title: c.title,
    provider: c.provider ?? null,
    message_count: c.messageCount,
    last_message_at: c.lastMessageAt ?? null,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

/** `MessageResponse` from the `MessageResponseFields` fragment. */
export function messageResponse(message: unknown): unknown {
  const m = object(message);
  if (!m) return null;
  return { id: m.id, conversation_id: m.conversationId, role: lowerEnum(m.role), content: m.content, provider: m.provider ?? null, model: m.model ?? null, created_at: m.createdAt };
}

/** `NoteResponse` from the `NoteResponseFields` fragment. */
export function noteResponse(note: unknown): unknown {
  const n = object(note);
  if (!n) return null;
  return { id: n.id, title: n.title, content: n.content, conversation_id: n.conversationId ?? null, tags: array(n.tags), created_at: n.createdAt, updated_at: n.updatedAt };
}

/** The §1.2 envelope of `item(…)`. */
export function envelope(pageData: unknown, item: (x: unknown) => unknown): unknown {
  const p = object(pageData);
  return p && { items: array(p.items).map(item), total: p.total, limit: p.limit, offset: p.offset };
}

/** The session fields every session response starts with. */
function sessionHead(session: unknown): Record<string, unknown> | null {
  const s = object(session);
  return s && { session_id: s.id, conversation_id: s.conversationId, status: lowerEnum(s.status) };
}

/** `ConversationSessionStartResponse` from a StartConversationSessionPayload. */
export function sessionStartResponse(payload: unknown): unknown {
  const s = object(field(payload, 'session'));
  const head = sessionHead(s);
  return s && head && { ...head, started_at: s.startedAt, last_activity_at: s.lastActivityAt, resumed: field(payload, 'resumed') };
}

/** `ConversationSessionActivityResponse`. */
export function sessionActivityResponse(payload: unknown): unknown {
  const s = object(field(payload, 'session'));
  const head = sessionHead(s);
  return s && head && { ...head, last_activity_at: s.lastActivityAt, elapsed_seconds: s.elapsedSeconds };
}

/** `ConversationSessionEndResponse`. */
export function sessionEndResponse(payload: unknown): unknown {
  const s = object(field(payload, 'session'));
  const head = sessionHead(s);
  return s && head && { ...head, started_at: s.startedAt, ended_at: s.endedAt, duration_seconds: s.durationSeconds, end_reason: lowerEnum(s.endReason), xp_awarded: s.xpAwarded };
}

/** `ConversationSessionStatusResponse` (nulls and 0 when no session is active). */
export function sessionStatusResponse(status: unknown): unknown {
  const st = object(status);
  if (!st) return null;
  const s = object(st.session);
  return {
    conversation_id: st.conversationId,
    active: st.active,
    session_id: s?.id ?? null,
    started_at: s?.startedAt ?? null,
    last_activity_at: s?.lastActivityAt ?? null,
    elapsed_seconds: st.elapsedSeconds,
  };
}

/** `CoreSearchResponse`. */
export function searchResponse(results: unknown): unknown {
  const r = object(results);
  if (!r) return null;
  return {
    query: r.query,
    conversations: array(r.conversations).map((x) => {
      const h = object(x) ?? {};
      return { conversation_id: h.conversationId, title: h.title, highlight: h.highlight, score: h.score, updated_at: h.updatedAt };
    }),
    messages: array(r.messages).map((x) => {
      const h = object(x) ?? {};
      return { message_id: h.messageId, conversation_id: h.conversationId, conversation_title: h.conversationTitle, role: lowerEnum(h.role), snippet: h.snippet, score: h.score, created_at: h.createdAt };
    }),
    notes: array(r.notes).map((x) => {
      const h = object(x) ?? {};
      return { note_id: h.noteId, conversation_id: h.conversationId ?? null, title: h.title, snippet: h.snippet, score: h.score, updated_at: h.updatedAt };
    }),
  };
}

/** `TypesenseStatusResponse`. */
export function searchStatusResponse(status: unknown): unknown {
  const s = object(status);
  if (!s) return null;
  return {
    backend: s.backend,
    healthy: s.healthy,
    collections: array(s.collections).map((x) => {
      const c = object(x) ?? {};
      return { name: lowerEnum(c.name), document_count: c.documentCount };
    }),
    last_reindex_at: s.lastReindexAt ?? null,
    reindex_running: s.reindexRunning,
  };
}

/** `TypesenseReindexResponse`. */
export function reindexResponse(result: unknown): unknown {
  const r = object(result);
  if (!r) return null;
  return {
    status: r.status,
    collections: array(r.collections).map(lowerEnum),
    indexed: r.indexed,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    duration_ms: r.durationMs,
  };
}
