/**
 * Subgraph faults: the real stack plus a tiny test-only subgraph ("colours") that
 * extends `User`, composed into a supergraph for a second gateway. With colours stopped, fields
 * of other subgraphs still answer, colours' fields are null with SERVICE_UNAVAILABLE naming it,
 * health reports it down, the breaker opens; restarted on the same port, the gateway recovers alone.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../schema/compose.ts';
import { SUBGRAPHS } from '../subgraphs/index.ts';
import { createLogger } from '../kernel/logger.ts';
import { sdlHash } from '../kernel/schema-announce.ts';
import { createGateway, type StartedGateway } from '../gateway/server.ts';
import { restCompat } from '../rest-compat/plugin.ts';
import { bearer, startTestStack, type TestStack } from './harness.ts';
import { freePort } from './processes.ts';

const COLOURS_SDL = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type User @key(fields: "id") {
    id: ID!
    favouriteColour: String
  }
  type Mutation {
    paint(colour: String!): String
  }
`);

/** The test subgraph: can be stopped and restarted on the same port, and made to answer 503. */
class ColoursSubgraph {
  port = 0;
  requests = 0;
  failNext = 0;
  readonly painted: string[] = [];
  #app: FastifyInstance | undefined;
  #apollo: ApolloServer | undefined;

  async start(port = 0): Promise<void> {
    const schema = buildSubgraphSchema({
      typeDefs: COLOURS_SDL,
      resolvers: {
        User: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }), favouriteColour: () => 'teal' },
        Mutation: {
          paint: (_: unknown, args: { colour: string }) => {
            this.painted.push(args.colour);
            return args.colour;
          },
        },
      },
    });
    const app = Fastify({ logger: false });
    const apollo = new ApolloServer({ schema, plugins: [ApolloServerPluginInlineTraceDisabled()] });
    await apollo.start();
    app.addHook('onRequest', async (req, reply) => {
      if (req.url !== '/graphql') return;
      this.requests += 1;
      if (this.failNext > 0) {
        this.failNext -= 1;
        await reply.status(503).send('overloaded');
      }
    });
    const handler = fastifyApolloHandler(apollo);
    app.get('/graphql', handler);
    app.post('/graphql', handler);
    await app.listen({ port, host: '127.0.0.1' });
    this.port = (app.server.address() as AddressInfo).port;
    this.#app = app;
    this.#apollo = apollo;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await this.#apollo?.stop();
    await this.#app?.close();
    this.#app = undefined;
    this.#apollo = undefined;
  }
}

let t: TestStack;
let gateway: StartedGateway;
const colours = new ColoursSubgraph();
let admin: { id: string; username: string; token: string };
let supergraphHash: string;

beforeAll(async () => {
  t = await startTestStack();
  await colours.start();
  const identity = SUBGRAPHS.find((s) => s.name === 'identity');
  const live = SUBGRAPHS.find((s) => s.name === 'live');
  if (!identity || !live) throw new Error('identity or live subgraph missing');
  // live serves the profile's live_nickname, which the REST profile routes read.
  const { supergraph } = composeSupergraph([identity, live, { name: 'colours', typeDefs: COLOURS_SDL }]);
  supergraphHash = sdlHash(supergraph);
  gateway = await createGateway({
    // A short cooldown so recovery is quick; 3 failures in a row open the circuit.
    config: { ...t.config, subgraphResilience: { ...t.config.subgraphResilience, breakerFailures: 3, breakerCooldownMs: 300 } },
    logger: createLogger(t.config.logLevel),
    pubsub: t.stack.pubsub,
    port: 0,
    supergraphSdl: supergraph,
    subgraphUrls: { identity: t.subgraphUrl('identity'), live: t.subgraphUrl('live'), colours: colours.url },
    plugins: [restCompat()],
  });
  const creds = { email: 'admin@xentree.test', username: 'fault_admin', password: 'correct horse battery' };
  const reg = await t.rest('POST', '/api/auth/register', { json: creds });
  expect(reg.status).toBe(201);
  const login = await t.rest('POST', '/api/auth/login', { form: { username: creds.username, password: creds.password } });
  expect(login.status).toBe(200);
  admin = { id: (reg.body as { id: string }).id, username: creds.username, token: (login.body as { access_token: string }).access_token };
});

afterAll(async () => {
  await gateway?.close();
  await colours.stop();
  await t?.close();
});

async function gql(query: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(admin.token) },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: await res.json() };
}

async function get(path: string): Promise<{ status: number; body: unknown; text: string }> {
  const res = await fetch(`${gateway.url}${path}`, { headers: bearer(admin.token) });
  const text = await res.text();
  return { status: res.status, text, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null };
}

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const SPANNING = '{ me { id username favouriteColour } }';
// No `path`: the failure is the whole fetch to colours, not one field (as for any failed fetch in @apollo/gateway).
const UNAVAILABLE = { message: 'Subgraph "colours" is unavailable', extensions: { code: 'SERVICE_UNAVAILABLE', status: 503, serviceName: 'colours' } };
const check = { status: 'ok', latency_ms: expect.any(Number) };

describe('a gateway over identity and a test subgraph', () => {
  it('answers a query spanning both subgraphs', async () => {
    expect(await gql(SPANNING)).toEqual({ status: 200, body: { data: { me: { id: admin.id, username: admin.username, favouriteColour: 'teal' } } } });
  });

  it('retries a query once after a 503, and never a mutation', async () => {
    colours.failNext = 1;
    let before = colours.requests;
    expect(await gql(SPANNING)).toEqual({ status: 200, body: { data: { me: { id: admin.id, username: admin.username, favouriteColour: 'teal' } } } });
    expect(colours.requests - before).toBe(2);

    colours.failNext = 1;
    before = colours.requests;
    expect(await gql('mutation { paint(colour: "red") }')).toEqual({ status: 200, body: { data: { paint: null }, errors: [UNAVAILABLE] } });
    expect(colours.requests - before).toBe(1);
    expect(colours.painted).toEqual([]);
  });

  it('with the test subgraph stopped: identity-only queries succeed, spanning ones give partial data', async () => {
    await colours.stop();
    expect(await gql('{ me { id username } }')).toEqual({ status: 200, body: { data: { me: { id: admin.id, username: admin.username } } } });
    expect(await gql(SPANNING)).toEqual({
      status: 200,
      body: { data: { me: { id: admin.id, username: admin.username, favouriteColour: null } }, errors: [UNAVAILABLE] },
    });
    const rest = await get('/api/auth/me');
    expect(rest.status).toBe(200);
    expect(rest.body).toMatchObject({ id: admin.id, username: admin.username });
  });

  it('opens the circuit (fast failures) and reports the subgraph down in health', async () => {
    for (let i = 0; i < 3; i++) {
      expect(await gql(SPANNING)).toEqual({
        status: 200,
        body: { data: { me: { id: admin.id, username: admin.username, favouriteColour: null } }, errors: [UNAVAILABLE] },
      });
    }
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metricValue(metrics.text, 'xentree_circuit_breaker_state{subgraph="colours"}')).toBe(2);
    expect(metricValue(metrics.text, 'xentree_circuit_breaker_state{subgraph="identity"}')).toBe(0);
    expect(metricValue(metrics.text, 'xentree_subgraph_errors_total{subgraph="colours",reason="circuit_open"}')).toBeGreaterThanOrEqual(1);
    // The refused query and its retry; later ones are refused by the breaker (or one is a probe, if the cooldown passed).
    expect(metricValue(metrics.text, 'xentree_subgraph_errors_total{subgraph="colours",reason="connection"}')).toBeGreaterThanOrEqual(2);
    expect(metricValue(metrics.text, 'xentree_subgraph_errors_total{subgraph="colours",reason="http_5xx"}')).toBe(2);
    expect(metricValue(metrics.text, 'xentree_subgraph_retries_total{subgraph="colours"}')).toBeGreaterThanOrEqual(2);

    const health = await get('/api/health/detailed');
    expect(health.status).toBe(503);
    expect(health.body).toEqual({
      status: 'degraded',
      checks: { database: check, pubsub: check, subgraphs: { identity: check, live: check, colours: { status: 'down', latency_ms: expect.any(Number) } } },
      checked_at: expect.any(String),
      supergraph: { hash: supergraphHash, loaded_at: expect.any(String) },
    });
  });

  it('restarted on the same port, the gateway recovers by itself within 5 s', async () => {
    const port = colours.port;
    await colours.start(port);
    expect(colours.port).toBe(port);
    const deadline = Date.now() + 5_000;
    let last: unknown;
    while (Date.now() < deadline) {
      last = await gql(SPANNING);
      if (JSON.stringify(last) === JSON.stringify({ status: 200, body: { data: { me: { id: admin.id, username: admin.username, favouriteColour: 'teal' } } } })) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(last).toEqual({ status: 200, body: { data: { me: { id: admin.id, username: admin.username, favouriteColour: 'teal' } } } });
    const metrics = await get('/metrics');
    expect(metricValue(metrics.text, 'xentree_circuit_breaker_state{subgraph="colours"}')).toBe(0);
    const health = await get('/api/health/detailed');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', checks: { subgraphs: { identity: check, colours: check } } });
  });
});

describe('a gateway whose live subgraph is unreachable', () => {
  let degraded: StartedGateway;
  beforeAll(async () => {
    const identity = SUBGRAPHS.find((s) => s.name === 'identity');
    const live = SUBGRAPHS.find((s) => s.name === 'live');
    if (!identity || !live) throw new Error('identity or live subgraph missing');
    const { supergraph } = composeSupergraph([identity, live]);
    degraded = await createGateway({
      config: t.config,
      logger: createLogger(t.config.logLevel),
      pubsub: t.stack.pubsub,
      port: 0,
      supergraphSdl: supergraph,
      subgraphUrls: { identity: t.subgraphUrl('identity'), live: `http://127.0.0.1:${await freePort()}` },
      plugins: [restCompat()],
    });
  });
  afterAll(async () => {
    await degraded?.close();
  });

  it('still registers and shows the profile over REST, with live_nickname null', async () => {
    const creds = { email: 'nolive@xentree.test', username: 'no_live_user', password: 'correct horse battery' };
    const reg = await fetch(`${degraded.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(creds) });
    const registered = (await reg.json()) as { id: string; username: string; live_nickname: unknown };
    expect([reg.status, registered.username, registered.live_nickname]).toEqual([201, 'no_live_user', null]);
    const login = await fetch(`${degraded.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: creds.username, password: creds.password }) });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const me = await fetch(`${degraded.url}/api/auth/me`, { headers: bearer(token) });
    expect([me.status, await me.json()]).toEqual([200, expect.objectContaining({ id: registered.id, username: 'no_live_user', live_nickname: null })]);
  });

  it('still refuses what live itself answers, with 503', async () => {
    const login = await fetch(`${degraded.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: 'no_live_user', password: 'correct horse battery' }) });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const quota = await fetch(`${degraded.url}/api/live/quota`, { headers: bearer(token) });
    expect(quota.status).toBe(503);
  });
});
