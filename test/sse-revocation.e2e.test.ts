/**
 * A REST event stream (CONV-2 with `"stream": true`) opened before its credential was revoked does
 * not outlive the revocation: after logout, or after its API key is deleted, the stream sends one
 * `error` event with the body a new request would get (401 `token_revoked`, `invalid_api_key`)
 * and ends, while the model is still talking. graphql-ws sockets: test/ws-hardening.e2e.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { createKey, orgWith, person } from './org-fixtures.ts';
import { openSse } from './chat-stream-fixtures.ts';
import { useFakeAi } from './fake-ai.ts';
import { coded } from './assertions.ts';

const fake = useFakeAi();
const t = useTestStack(() => ({ env: { OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: 'sk-revoke', OPENAI_MODELS: 'gpt-revoke', DEFAULT_AI_PROVIDER: 'local' } }));

beforeAll(async () => {
  // A long, paced reply: 200 words, 50 ms apart (10 s), far longer than the test needs.
  fake.mode = { kind: 'stream', words: Array.from({ length: 200 }, (_, i) => ` w${i}`), delayMs: 50 };
});

const json = { message: 'Talk for a long time', provider: 'openai', stream: true };

describe('REST event streams end when their credential is revoked', () => {
  it('after logout: one `error` event with 401 token_revoked, then the stream ends', async () => {
    const alice = await person(t, 'sse_revoke');
    const stream = await openSse(t.url, 'POST', '/api/core/chat', alice.access, { json });
    expect((await stream.next())?.event).toBe('start');
    expect((await stream.next())?.event).toBe('chunk');
    expect((await t.rest('POST', '/api/auth/logout', { json: {}, headers: bearer(alice.access) })).status).toBe(200);
    const rest = await stream.rest();
    expect(rest.at(-1)).toEqual({ event: 'error', id: expect.any(String), data: coded('token_revoked', 'Session has been revoked') });
    expect(rest.filter((e) => e.event === 'done')).toEqual([]);
  });

  it('after its API key is deleted: one `error` event with 401 invalid_api_key, then the stream ends', async () => {
    const { org, owner } = await orgWith(t, {});
    const k = await createKey(t, owner, org.id, ['conversations:write']);
    const stream = await openSse(t.url, 'POST', '/api/core/chat', '', { json, headers: { authorization: '', 'x-api-key': k.key } });
    expect((await stream.next())?.event).toBe('start');
    expect((await stream.next())?.event).toBe('chunk');
    expect((await t.rest('DELETE', `/api/api-keys/${k.id}`, { headers: bearer(owner.access) })).status).toBe(204);
    const rest = await stream.rest();
    expect(rest.at(-1)).toEqual({ event: 'error', id: expect.any(String), data: coded('invalid_api_key', 'Invalid API key') });
    expect(rest.filter((e) => e.event === 'done')).toEqual([]);
  });

  it('leaves other users’ streams alone', async () => {
    const [bob, carol] = await Promise.all([person(t, 'sse_bob'), person(t, 'sse_carol')]);
    fake.mode = { kind: 'stream', words: [' a', ' b', ' c', ' d', ' e', ' f'], delayMs: 50 };
    const stream = await openSse(t.url, 'POST', '/api/core/chat', bob.access, { json });
    expect((await stream.next())?.event).toBe('start');
    expect((await t.rest('POST', '/api/auth/logout', { json: {}, headers: bearer(carol.access) })).status).toBe(200);
    const rest = await stream.rest();
    expect(rest.map((e) => e.event)).toEqual(['chunk', 'chunk', 'chunk', 'chunk', 'chunk', 'chunk', 'done']);
  });
});
