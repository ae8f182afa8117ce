/**
 * The request log: one `info` line per HTTP request with method, path (no query string), status,
 * duration, request id and caller — for REST, GraphQL and unmatched paths alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, registerAndLogin, startTestStack, type TestStack } from './harness.ts';

let t: TestStack;
const lines: string[] = [];

interface RequestLine {
  level: number;
  msg: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requestId: string;
  caller: { mode: string; userId: string | null; apiKeyId: string | null } | null;
}

/** The request lines logged for `requestId` (once its response has been sent). */
async function logged(requestId: string): Promise<Omit<RequestLine, 'durationMs' | 'level'>[]> {
  let found: RequestLine[] = [];
  await expect
    .poll(() => {
      found = lines.map((l) => JSON.parse(l) as RequestLine).filter((l) => l.msg === 'request' && l.requestId === requestId);
      return found.length;
    })
    .toBe(1);
  return found.map(({ durationMs, level, ...rest }) => {
    expect(level).toBe(30); // info
    expect(durationMs).toBeGreaterThanOrEqual(0);
    return rest;
  });
}

beforeAll(async () => {
  t = await startTestStack({ env: { LOG_LEVEL: 'info' }, logStream: { write: (line: string) => void lines.push(line) } });
});

afterAll(async () => {
  await t?.close();
});

describe('request log', () => {
  it('logs a REST request with its caller, and no query string', async () => {
    const { id, access } = await registerAndLogin(t, 'reqlog');
    const requestId = 'reqlog-rest-1';
    const res = await t.rest('GET', '/api/auth/me?token=secret', { headers: { ...bearer(access), 'x-request-id': requestId } });
    expect(res.status).toBe(200);
    expect(await logged(requestId)).toEqual([
      { msg: 'request', method: 'GET', path: '/api/auth/me', status: 200, requestId, caller: { mode: 'bearer', userId: id, apiKeyId: null }, name: 'xentree', component: 'http', hostname: expect.any(String), pid: process.pid, time: expect.any(Number) },
    ]);
  });

  it('logs a GraphQL request and an anonymous one', async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'reqlog-gql-1' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.status).toBe(200);
    expect(await logged('reqlog-gql-1')).toMatchObject([{ method: 'POST', path: '/graphql', status: 200, caller: { mode: 'anonymous', userId: null, apiKeyId: null } }]);
  });

  it('logs a request answered before authentication with no caller', async () => {
    const res = await t.rest('GET', '/api/nowhere', { headers: { 'x-request-id': 'reqlog-404-1' } });
    expect(res.status).toBe(404);
    expect(await logged('reqlog-404-1')).toMatchObject([{ method: 'GET', path: '/api/nowhere', status: 404, caller: null }]);
  });
});
