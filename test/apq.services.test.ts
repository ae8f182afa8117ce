/**
 * Automatic persisted queries shared by gateway replicas through Redis: identity, live and two
 * gateway processes on the real PostgreSQL and Redis. A query registered through gateway A (query
 * plus its sha256) runs on gateway B from the hash alone; before that, B did not know the hash.
 * The key is under APQ_KEY_PREFIX with APQ_TTL_SECONDS to live. graphql-ws uses the same keys: a
 * query registered over a WebSocket of B runs by its hash over HTTP on A.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentHash } from '../schema/persisted-documents.ts';
import { SERVICES_REDIS_URL } from './harness.ts';
import { signUp, useTopology } from './topology.ts';
import { wsResults } from './ws-results.ts';

const PREFIX = `xentree:test:${randomBytes(6).toString('hex')}:`;
const topology = useTopology({ name: 'apq', subgraphs: ['identity', 'live'], env: { APQ_KEY_PREFIX: PREFIX, APQ_TTL_SECONDS: '600' } });
let redis: Redis | undefined;

beforeAll(() => {
  redis = new Redis(SERVICES_REDIS_URL);
});
afterAll(() => {
  redis?.disconnect();
});

async function post(gateway: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gateway}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('automatic persisted queries across gateway replicas', () => {
  it('are registered on gateway A and used on gateway B from the hash alone', async () => {
    const [a = '', b = ''] = topology.gateways;
    const { token, username } = await signUp(a, b, 'apq');
    // A document no earlier run registered (the comment makes its hash unique).
    const query = `query MyName { me { username } } # ${randomUUID()}`;
    const persistedQuery = { version: 1, sha256Hash: documentHash(query) };
    const auth = { authorization: `Bearer ${token}` };

    expect(await post(b, { extensions: { persistedQuery } }, auth)).toEqual({
      status: 200,
      body: { errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] },
    });
    expect(await post(a, { query, extensions: { persistedQuery } }, auth)).toEqual({ status: 200, body: { data: { me: { username } } } });

    const key = `${PREFIX}apq:${persistedQuery.sha256Hash}`;
    // Apollo Server writes the key without waiting for it: give it a moment.
    for (let i = 0; i < 50 && (await redis?.exists(key)) !== 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await redis?.get(key)).toBe(query);
    const ttl = (await redis?.ttl(key)) ?? -1;
    expect(ttl > 590 && ttl <= 600).toBe(true);

    expect(await post(b, { extensions: { persistedQuery } }, auth)).toEqual({ status: 200, body: { data: { me: { username } } } });
    expect(await post(a, { extensions: { persistedQuery } }, auth)).toEqual({ status: 200, body: { data: { me: { username } } } });
    // Also by its hash over graphql-ws, on either replica.
    expect(await wsResults(b, { query: '', extensions: { persistedQuery } }, { authorization: `Bearer ${token}` })).toEqual([{ data: { me: { username } } }]);
    await redis?.del(key);
  });

  it('are registered over graphql-ws on gateway B and used over HTTP on gateway A', async () => {
    const [a = '', b = ''] = topology.gateways;
    const { token, username } = await signUp(a, b, 'apqws');
    const query = `query MyNameWs { me { username } } # ${randomUUID()}`;
    const persistedQuery = { version: 1, sha256Hash: documentHash(query) };
    expect(await wsResults(a, { query: '', extensions: { persistedQuery } }, { authorization: `Bearer ${token}` })).toEqual([{ error: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] }]);
    expect(await wsResults(b, { query, extensions: { persistedQuery } }, { authorization: `Bearer ${token}` })).toEqual([{ data: { me: { username } } }]);
    const key = `${PREFIX}apq:${persistedQuery.sha256Hash}`;
    for (let i = 0; i < 50 && (await redis?.exists(key)) !== 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await redis?.get(key)).toBe(query);
    expect(await post(a, { extensions: { persistedQuery } }, { authorization: `Bearer ${token}` })).toEqual({ status: 200, body: { data: { me: { username } } } });
    await redis?.del(key);
  });
});
