/**
 * Migration chat-0006: stream events stored before it, in REST's snake_case shape, are rewritten
 * into the domain's camelCase, so a stream that is resumable across the upgrade replays the same
 * bytes over REST (SSE) and the same data over graphql-ws as one stored after it.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestStack } from './harness.ts';
import { person, type Person } from './org-fixtures.ts';
import { chatSql } from './chat-fixtures.ts';
import { collect, parseSse, restCall, wsClient } from './chat-stream-fixtures.ts';
import { ChatStreamEventData } from '../subgraphs/chat/migrations/stream-event-data.migration.ts';

let alice: Person;

const t = useTestStack();
beforeAll(async () => {
  alice = await person(t, 'migrate_alice');
});


/** A finished stream of `alice`, its events stored as they were before the migration. */
async function legacyStream(eventsOf: (id: string) => { type: string; data: unknown }[]): Promise<string> {
  const id = randomUUID();
  const events = eventsOf(id);
  await chatSql(
    t,
    `insert into "chat"."streams" ("id", "user_id", "conversation_id", "provider", "model", "status", "created_at", "finished_at")
     values (?, ?, null, 'openai', 'gpt-old', ?, now(), now())`,
    [id, alice.id, events.at(-1)?.type ?? 'done'],
  );
  for (const [seq, e] of events.entries()) {
    await chatSql(t, `insert into "chat"."stream_events" ("stream_id", "seq", "type", "data") values (?, ?, ?, ?::jsonb)`, [id, seq, e.type, JSON.stringify(e.data)]);
  }
  return id;
}

async function migrate(): Promise<void> {
  const migration = new ChatStreamEventData({} as never, {} as never);
  await migration.up();
  for (const sql of migration.getQueries()) await chatSql(t, String(sql));
}

const RESUME = 'subscription($id: ID!) { chatStreamResume(streamId: $id) { seq type conversationId provider model delta response { content provider model usage { promptTokens completionTokens totalTokens } conversationId } error { code message } } }';

describe('chat-0006 (stream event data)', () => {
  it('rewrites start, done and error events stored in the REST shape; they replay unchanged', async () => {
    const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
    const done = await legacyStream((id) => [
      { type: 'start', data: { stream_id: id, conversation_id: null, provider: 'openai', model: 'gpt-old' } },
      { type: 'chunk', data: { delta: 'Hel' } },
      { type: 'chunk', data: { delta: 'lo' } },
      { type: 'done', data: { content: 'Hello', provider: 'openai', model: 'gpt-old', usage, conversation_id: null, message_id: null } },
    ]);
    const failed = await legacyStream((id) => [
      { type: 'start', data: { stream_id: id, conversation_id: null, provider: 'openai', model: 'gpt-old' } },
      { type: 'error', data: { detail: { error: 'provider_error', message: 'The AI provider failed' } } },
    ]);

    await migrate();
    // Run twice: rows already in the new shape are left alone.
    await migrate();

    const sse = await restCall(t.url, 'GET', `/api/core/chat/streams/${done}`, alice.access);
    expect(sse.status).toBe(200);
    expect(parseSse(sse.text).events).toEqual([
      { event: 'start', id: '0', data: { stream_id: done, conversation_id: null, provider: 'openai', model: 'gpt-old' } },
      { event: 'chunk', id: '1', data: { delta: 'Hel' } },
      { event: 'chunk', id: '2', data: { delta: 'lo' } },
      { event: 'done', id: '3', data: { content: 'Hello', provider: 'openai', model: 'gpt-old', usage, conversation_id: null, message_id: null } },
    ]);
    const failedSse = await restCall(t.url, 'GET', `/api/core/chat/streams/${failed}`, alice.access);
    expect(parseSse(failedSse.text).events).toEqual([
      { event: 'start', id: '0', data: { stream_id: failed, conversation_id: null, provider: 'openai', model: 'gpt-old' } },
      { event: 'error', id: '1', data: { detail: { error: 'provider_error', message: 'The AI provider failed' } } },
    ]);

    const client = wsClient(t.url, alice.access);
    try {
      const events = (await collect(client, RESUME, { id: done })) as { data: { chatStreamResume: Record<string, unknown> } }[];
      expect(events.map((e) => e.data.chatStreamResume)).toEqual([
        { seq: 0, type: 'START', conversationId: null, provider: 'openai', model: 'gpt-old', delta: null, response: null, error: null },
        { seq: 1, type: 'CHUNK', conversationId: null, provider: null, model: null, delta: 'Hel', response: null, error: null },
        { seq: 2, type: 'CHUNK', conversationId: null, provider: null, model: null, delta: 'lo', response: null, error: null },
        {
          seq: 3,
          type: 'DONE',
          conversationId: null,
          provider: null,
          model: null,
          delta: null,
          response: { content: 'Hello', provider: 'openai', model: 'gpt-old', usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5 }, conversationId: null },
          error: null,
        },
      ]);
    } finally {
      await client.dispose();
    }
  });
});
