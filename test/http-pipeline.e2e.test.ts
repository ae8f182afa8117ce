/**
 * The gateway's own pipeline for GraphQL POSTs of JSON (gateway/http-pipeline.ts) against Apollo
 * Server's: two gateways over the same subgraphs, one with each, are sent the same requests in the
 * same order, and must answer each with the same status, headers and body bytes. Every request is
 * sent twice: the first sight of a document goes to Apollo Server on both, the second is the one
 * the own pipeline answers. The `xentree_graphql_pipeline_total` series show which answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createGateway, type StartedGateway } from '../gateway/server.ts';
import { createLogger } from '../kernel/logger.ts';
import { restCompat } from '../rest-compat/plugin.ts';
import { registerAndLogin, useTestStack } from './harness.ts';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers that differ between any two answers (the date, the request's id); the rest must match. */
const PER_ANSWER = new Set(['date', 'x-request-id']);
/** Seconds to a rate limit window's end, which may tick between the two gateways' answers. */
const SECONDS_LEFT: Record<string, RegExp> = { ratelimit: /(?<=;t=)\d+$/, 'x-ratelimit-reset': /^\d+$/, 'retry-after': /^\d+$/ };

async function post(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const kept: Record<string, string> = {};
  for (const [name, value] of res.headers) {
    if (PER_ANSWER.has(name)) continue;
    const seconds = SECONDS_LEFT[name];
    if (seconds) expect(value).toMatch(seconds);
    kept[name] = seconds ? value.replace(seconds, 'N') : value;
  }
  return { status: res.status, headers: kept, body: await res.text() };
}

async function pipelineCounts(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts: Record<string, number> = { gateway: 0, apollo: 0 };
  for (const m of text.matchAll(/^xentree_graphql_pipeline_total\{pipeline="(\w+)"\} (\d+)$/gm)) counts[m[1] ?? ''] = Number(m[2]);
  return counts;
}

describe('GraphQL POSTs: the gateway\'s own pipeline answers as Apollo Server does', () => {
  const t = useTestStack();
  let own: StartedGateway;
  let apollo: StartedGateway;
  let access = '';

  beforeAll(async () => {
    const start = (httpPipeline: 'gateway' | 'apollo') =>
      createGateway({
        // Each its own rate limit counters, with a login limit low enough to be reached. The default
        // window is an hour: one of a minute could end between the two gateways' answers on a slow
        // machine (their windows start a request apart), and their remaining counts would differ.
        config: { ...t.config, rateLimits: { ...t.config.rateLimits, default: { ...t.config.rateLimits.default, windowSeconds: 3600 }, auth: { limit: 3, windowSeconds: 3600 } }, rateLimitKeyPrefix: `xentree:test:${randomBytes(6).toString('hex')}:rl:` },
        logger: createLogger('silent'),
        pubsub: t.stack.pubsub,
        port: 0,
        subgraphUrls: Object.fromEntries(t.stack.subgraphs.map((s) => [s.name, s.url])),
        plugins: [restCompat()],
        httpPipeline,
      });
    [own, apollo] = await Promise.all([start('gateway'), start('apollo')]);
    access = (await registerAndLogin(t, 'pipeline')).access;
  });
  afterAll(async () => {
    await own?.close();
    await apollo?.close();
  });

  const bearer = () => ({ authorization: `Bearer ${access}` });
  const json = JSON.stringify;
  const cases: [string, () => string, () => Record<string, string>][] = [
    ['a query', () => json({ query: '{ me { id username } }' }), bearer],
    ['a query without credentials (401 from the subgraph\'s refusal)', () => json({ query: '{ me { id username } }' }), () => ({})],
    ['a refused token (the context refused)', () => json({ query: '{ me { id } }' }), () => ({ authorization: 'Bearer not-a-token' })],
    ['__typename, variables null, operationName null', () => json({ query: '{ __typename }', variables: null, operationName: null }), () => ({})],
    ['introspection', () => json({ query: '{ __schema { queryType { name } } }' }), () => ({})],
    ['partial data with a field error', () => json({ query: 'query ($id: ID!) { me { id } organization(id: $id) { id } }', variables: { id: 'not-a-uuid' } }), bearer],
    ['a missing variable (BAD_USER_INPUT, 400)', () => json({ query: 'query ($id: ID!) { organization(id: $id) { id } }' }), bearer],
    ['a variable of the wrong type, Accept: application/json (the legacy rule)', () => json({ query: 'query ($id: ID!) { organization(id: $id) { id } }', variables: { id: { not: 'an id' } } }), () => ({ ...bearer(), accept: 'application/json' })],
    ['one of several operations by name', () => json({ query: 'query A { __typename } query B { me { id } }', operationName: 'B' }), bearer],
    ['an operation name the document does not define', () => json({ query: 'query A { __typename } query B { me { id } }', operationName: 'C' }), bearer],
    ['a subscription over HTTP', () => json({ query: 'subscription { __typename }' }), bearer],
    ['extensions that are not APQ', () => json({ query: '{ __typename }', extensions: { client: 'x' } }), () => ({})],
    ['an unknown persisted query (APQ)', () => json({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }), () => ({})],
    ['variables as a string', () => json({ query: '{ __typename }', variables: '{}' }), () => ({})],
    ['Accept: application/graphql-response+json', () => json({ query: '{ me { id } }' }), () => ({ ...bearer(), accept: 'application/graphql-response+json' })],
    ['Accept: */*', () => json({ query: '{ me { id } }' }), () => ({ ...bearer(), accept: '*/*' })],
    ['Accept preferring application/json by q', () => json({ query: '{ me { id } }' }), () => ({ ...bearer(), accept: 'application/graphql-response+json;q=0.5, application/json' })],
    ['Accept: text/html (406)', () => json({ query: '{ __typename }' }), () => ({ accept: 'text/html' })],
    ['a parse failure', () => json({ query: '{ me { id }' }), bearer],
    ['a validation failure', () => json({ query: '{ me { nope } }' }), bearer],
    ['a mutation refused by its subgraph', () => json({ query: 'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }', variables: { input: { username: 'nobody-here', password: 'wrong-password' } } }), () => ({})],
  ];

  it.each(cases)('%s: the same answer, twice', async (_name, body, headers) => {
    for (let round = 0; round < 2; round++) {
      const [mine, theirs] = [await post(own.url, body(), headers()), await post(apollo.url, body(), headers())];
      expect(mine).toEqual(theirs);
    }
  });

  it('answers many requests at once, each with its own bytes (its answer buffers are used again)', async () => {
    const users = await Promise.all([1, 2, 3, 4].map((i) => registerAndLogin(t, `pipe${i}`)));
    const body = json({ query: '{ me { id username } }' });
    // Seen once, so the rest are the own pipeline's.
    await post(own.url, body, { authorization: `Bearer ${users[0]?.access ?? ''}` });
    for (let round = 0; round < 3; round++) {
      const sent = Array.from({ length: 40 }, (_, i) => users[i % users.length] as (typeof users)[number]);
      const answers = await Promise.all(sent.map((u) => post(own.url, body, { authorization: `Bearer ${u.access}` })));
      expect(answers.map((a) => JSON.parse(a.body) as unknown)).toEqual(sent.map((u) => ({ data: { me: { id: u.id, username: u.user.username } } })));
    }
  });

  it('answers a valid query or mutation itself from its second sight on; Apollo Server answers every request of the other gateway', async () => {
    const before = await pipelineCounts(own.url);
    const body = json({ query: '{ me { id username } }' });
    const answers = [await post(own.url, body, bearer()), await post(own.url, body, bearer())];
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(JSON.parse(answers[1]?.body ?? '')).toEqual({ data: { me: { id: expect.any(String), username: expect.stringMatching(/^pipeline/) } } });
    const after = await pipelineCounts(own.url);
    // Seen before (by the cases above), so both are the own pipeline's.
    expect({ gateway: (after.gateway ?? 0) - (before.gateway ?? 0), apollo: (after.apollo ?? 0) - (before.apollo ?? 0) }).toEqual({ gateway: 2, apollo: 0 });
    // A document never sent before: Apollo Server answers its first sight, the own pipeline the next.
    const fresh = json({ query: `{ fresh${Date.now()}: __typename }` });
    for (let i = 0; i < 3; i++) expect((await post(own.url, fresh, {})).status).toBe(200);
    const last = await pipelineCounts(own.url);
    expect({ gateway: (last.gateway ?? 0) - (after.gateway ?? 0), apollo: (last.apollo ?? 0) - (after.apollo ?? 0) }).toEqual({ gateway: 2, apollo: 1 });
    const theirs = await pipelineCounts(apollo.url);
    expect(theirs.gateway).toBe(0);
    expect(theirs.apollo).toBeGreaterThan(cases.length);
  });

  it('reaches the login rate limit on the same request on both: 429 with the same headers and body', async () => {
    const body = json({ query: 'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }', variables: { input: { username: 'nobody-here', password: 'wrong-password' } } });
    // The limit is 3 an hour; the cases above spent 2 on each gateway (refused: no such user).
    const mine = [await post(own.url, body, {}), await post(own.url, body, {})];
    const theirs = [await post(apollo.url, body, {}), await post(apollo.url, body, {})];
    expect(mine.map((a) => a.status)).toEqual([401, 429]);
    // Each gateway's window began at its own first login: the seconds left may be one apart.
    const secondsLeft = (a: Answer | undefined) => Number(/"retryAfter":(\d+)[,}]/.exec(a?.body ?? '')?.[1]);
    expect(Math.abs(secondsLeft(mine[1]) - secondsLeft(theirs[1]))).toBeLessThanOrEqual(1);
    const same = (a: Answer) => ({ ...a, body: a.body.replace(/"retryAfter":\d+/, '"retryAfter":N') });
    expect(mine.map(same)).toEqual(theirs.map(same));
    expect(JSON.parse(mine[1]?.body ?? '').errors[0].extensions.code).toBe('RATE_LIMITED');
  });
});
