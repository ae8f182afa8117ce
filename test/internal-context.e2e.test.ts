/**
 * The internal context on the wire between the gateway and a subgraph: one caller's requests reuse
 * one signed context (the subgraph verifies it once), each request still names itself in
 * `x-request-id`, and callers that differ in anything but the request id never share a context.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../schema/compose.ts';
import { SUBGRAPHS } from '../subgraphs/index.ts';
import { createLogger } from '../kernel/logger.ts';
import { CONTEXT_HEADER, REQUEST_ID_HEADER, verifyContext, withRequestId, type AuthContext } from '../kernel/context.ts';
import { createGateway, type StartedGateway } from '../gateway/server.ts';
import { bearer, registerAndLogin, startTestStack, type TestStack } from './harness.ts';

const WITNESS_SDL = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query {
    witness: String
  }
`);

/** A subgraph that records the headers of every request it receives. */
async function startWitness(): Promise<{ url: string; seen: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const schema = buildSubgraphSchema({ typeDefs: WITNESS_SDL, resolvers: { Query: { witness: () => 'seen' } } });
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(req.headers);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables?: Record<string, unknown> };
      void graphql({ schema, source: body.query, variableValues: body.variables }).then((result) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let t: TestStack;
let gateway: StartedGateway;
let witness: Awaited<ReturnType<typeof startWitness>>;

beforeAll(async () => {
  t = await startTestStack();
  witness = await startWitness();
  const identity = SUBGRAPHS.find((s) => s.name === 'identity');
  if (!identity) throw new Error('identity subgraph missing');
  const { supergraph } = composeSupergraph([identity, { name: 'witness', typeDefs: WITNESS_SDL }]);
  gateway = await createGateway({
    config: t.config,
    logger: createLogger(t.config.logLevel),
    pubsub: t.stack.pubsub,
    port: 0,
    supergraphSdl: supergraph,
    subgraphUrls: { identity: t.subgraphUrl('identity'), witness: witness.url },
  });
});

afterAll(async () => {
  await gateway?.close();
  await witness?.close();
  await t?.close();
});

/** `{ witness }` through the gateway; returns the headers the witness received for it. */
async function ask(headers: Record<string, string>): Promise<IncomingHttpHeaders> {
  const before = witness.seen.length;
  const res = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ witness }' }) });
  expect([res.status, await res.json()]).toEqual([200, { data: { witness: 'seen' } }]);
  expect(witness.seen.length).toBe(before + 1);
  const seen = witness.seen[before];
  if (!seen) throw new Error('the witness saw no request');
  return seen;
}

async function contextOf(headers: IncomingHttpHeaders): Promise<AuthContext> {
  return withRequestId(await verifyContext(String(headers[CONTEXT_HEADER]), t.config.internalServiceKey), headers[REQUEST_ID_HEADER]);
}

describe('the internal context between the gateway and a subgraph', () => {
  it('is one signed context for one caller\'s requests, each request named by its own id', async () => {
    const { id, access } = await registerAndLogin(t, 'ctxreuse');
    const first = await ask({ ...bearer(access), 'x-request-id': 'ctx-reuse-1' });
    const second = await ask({ ...bearer(access), 'x-request-id': 'ctx-reuse-2' });
    expect(second[CONTEXT_HEADER]).toBe(first[CONTEXT_HEADER]);
    expect([first[REQUEST_ID_HEADER], second[REQUEST_ID_HEADER]]).toEqual(['ctx-reuse-1', 'ctx-reuse-2']);
    const [a, b] = [await contextOf(first), await contextOf(second)];
    expect([a.mode, a.userId, a.requestId]).toEqual(['bearer', id, 'ctx-reuse-1']);
    expect([b.mode, b.userId, b.requestId]).toEqual(['bearer', id, 'ctx-reuse-2']);
  });

  it('is never shared between callers: another user, another session, an anonymous caller', async () => {
    const one = await registerAndLogin(t, 'ctxone');
    const two = await registerAndLogin(t, 'ctxtwo');
    const login = await t.rest('POST', '/api/auth/login', { form: { username: one.user.username, password: one.user.password } });
    const otherSession = (login.body as { access_token: string }).access_token;
    const seen = [await ask(bearer(one.access)), await ask(bearer(two.access)), await ask(bearer(otherSession)), await ask({})];
    expect(new Set(seen.map((h) => h[CONTEXT_HEADER])).size).toBe(4);
    const contexts = await Promise.all(seen.map(contextOf));
    expect(contexts.map((c) => [c.mode, c.userId])).toEqual([['bearer', one.id], ['bearer', two.id], ['bearer', one.id], ['anonymous', null]]);
    expect(contexts[0]?.sessionId).not.toBe(contexts[2]?.sessionId);
  });

  it('keeps the context\'s own request id when the header is not a plausible id', async () => {
    const { access } = await registerAndLogin(t, 'ctxbadid');
    const seen = await ask({ ...bearer(access), 'x-request-id': 'ctx-own-id' });
    const ctx = await verifyContext(String(seen[CONTEXT_HEADER]), t.config.internalServiceKey);
    expect(withRequestId({ ...ctx }, 'bad id with spaces').requestId).toBe(ctx.requestId);
    expect(withRequestId({ ...ctx }, 'x'.repeat(161)).requestId).toBe(ctx.requestId);
    expect(withRequestId({ ...ctx }, ['a', 'b']).requestId).toBe(ctx.requestId);
  });
});
