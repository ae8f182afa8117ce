/**
 * Fixtures of the chat suites (§3.2): conversations and notes created through REST, messages
 * stored through `MessageService.appendTurns` (the path the chat generation, CONV-2, uses), the
 * expected bodies, and two controlled ways around the clock: moving a session's timestamps back in
 * the database, and collecting the PubSub events chat publishes.
 */
import { expect } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { MessageService, type TurnInput } from '../subgraphs/chat/message.service.ts';
import { bearer, type TestStack } from './harness.ts';
import { type Person } from './org-fixtures.ts';
import { ok, TIMESTAMP } from './assertions.ts';

export interface ConversationBody {
  id: string;
  title: string;
  provider: string | null;
  message_count: number;
  last_message_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface MessageBody {
  id: string;
  conversation_id: string;
  role: 'user' | 'assistant';
  content: string;
  provider: string | null;
  model: string | null;
  created_at: string;
}

export interface NoteBody {
  id: string;
  title: string;
  content: string;
  conversation_id: string | null;
  tags: string[];
  created_at: string;
  updated_at: string;
}

/** The chat subgraph's ORM in the test stack (same process, whatever the database). */
export function chatOrm(t: TestStack): MikroORM {
  const orm = t.stack.subgraphs.find((s) => s.name === 'chat')?.orm;
  if (!orm) throw new Error('chat subgraph is not running');
  return orm;
}

/** Runs SQL on chat's database (for arranging time, never for asserting behaviour). */
export async function chatSql<T = Record<string, unknown>>(t: TestStack, sql: string, params: unknown[] = []): Promise<T[]> {
  return chatOrm(t).em.fork().getConnection().execute<T[]>(sql, params);
}

/** CONV-4 as `p`. */
export async function createConversation(t: TestStack, p: Person, json: Record<string, unknown> = {}): Promise<ConversationBody> {
  return ok<ConversationBody>(await t.rest('POST', '/api/core/conversations', { json, headers: bearer(p.access) }), 201);
}

/** CONV-15 as `p`. */
export async function createNote(t: TestStack, p: Person, json: Record<string, unknown>): Promise<NoteBody> {
  return ok<NoteBody>(await t.rest('POST', '/api/core/notes', { json, headers: bearer(p.access) }), 201);
}

const messages = new MessageService();

/** Stores turns in `p`'s conversation as the chat generation does; returns them as MessageResponse bodies. */
export async function appendTurns(t: TestStack, p: Person, conversationId: string, turns: TurnInput[]): Promise<MessageBody[]> {
  const stored = await messages.appendTurns(chatOrm(t).em.fork(), p.id, conversationId, turns);
  return stored.map((m) => ({
    id: m.id,
    conversation_id: m.conversationId,
    role: m.role,
    content: m.content,
    provider: m.provider,
    model: m.model,
    created_at: m.createdAt.toISOString(),
  }));
}

/** Moves a session's start and last activity back by whole seconds (the session "ran" that long). */
export async function backdateSession(t: TestStack, sessionId: string, startedSecondsAgo: number, idleSecondsAgo = 0): Promise<{ startedAt: string; lastActivityAt: string }> {
  const now = Date.now();
  const startedAt = new Date(now - startedSecondsAgo * 1000);
  const lastActivityAt = new Date(now - idleSecondsAgo * 1000);
  await chatSql(t, `update "chat"."conversation_sessions" set "started_at" = ?, "last_activity_at" = ? where "id" = ?`, [startedAt, lastActivityAt, sessionId]);
  return { startedAt: startedAt.toISOString(), lastActivityAt: lastActivityAt.toISOString() };
}

/** Collects every event published on `channel` from now on. */
export async function collectEvents<T>(t: TestStack, channel: string): Promise<{ events: T[]; stop(): void }> {
  const events: T[] = [];
  const stop = await t.stack.pubsub.subscribe(channel, (payload) => events.push(payload as T));
  return { events, stop };
}

/** An ISO timestamp matcher for a field whose exact value the test cannot know. */
export const anyTimestamp = (): unknown => expect.stringMatching(TIMESTAMP);
