/**
 * HTTP/1.1 pipelining of the gateway's subgraph calls (`SUBGRAPH_<NAME>_PIPELINING`), seen by the
 * subgraph: a stand-in for orgs (a plain node:http server executing its own small schema) records
 * which connection each call came on and holds its answers until the test lets them go. Through
 * the gateway's /graphql: queries sent while others are in flight share a connection, mutations
 * never do, and a query that times out does not take down the ones waiting behind it on its
 * connection (they are sent again on a new one).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type StartedGateway } from '../gateway/server.ts';
import { composeSupergraph } from '../schema/compose.ts';
import { createLogger } from '../kernel/logger.ts';
import { SUBGRAPHS } from '../subgraphs/index.ts';
import type { Config } from '../kernel/config.ts';
import { startTestStack, type TestStack } from './harness.ts';

const STAND_IN_SDL = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [])
  type Query {
    held(n: Int!): Int
    quick(n: Int!): Int
    stuck: Int
  }
  type Mutation {
    paint(n: Int!): Int
  }
`);

interface Arrival {
  field: string;
  n: number | null;
  connection: number;
}

/** The subgraph stand-in: every call's field and connection, `held` and `paint` answered when released. */
class StandIn {
  readonly arrivals: Arrival[] = [];
  #waiting: (() => void)[] = [];
  #connections = new Map<Socket, number>();
  #server: Server | undefined;
  #stuck: (() => void)[] = [];

  async start(): Promise<string> {
    const hold = (field: string) => (_: unknown, args: { n: number }, ctx: unknown) => {
      this.arrivals.push({ field, n: args.n, connection: connectionOf(ctx) });
      return new Promise<number>((resolve) => this.#waiting.push(() => resolve(args.n)));
    };
    const schema = buildSubgraphSchema({
      typeDefs: STAND_IN_SDL,
      resolvers: {
        Query: {
          held: hold('held'),
          quick: (_: unknown, args: { n: number }, ctx: unknown) => {
            this.arrivals.push({ field: 'quick', n: args.n, connection: connectionOf(ctx) });
            return args.n;
          },
          stuck: (_: unknown, _args: unknown, ctx: unknown) => {
            this.arrivals.push({ field: 'stuck', n: null, connection: connectionOf(ctx) });
            return new Promise<null>((resolve) => this.#stuck.push(() => resolve(null)));
          },
        },
        Mutation: { paint: hold('paint') },
      },
    });
    this.#server = createServer((req, res) => {
      void (async () => {
        const body = JSON.parse(await textOf(req)) as { query: string; variables?: Record<string, unknown> };
        const result = await execute({ schema, document: parse(body.query), variableValues: body.variables, contextValue: { connection: this.#connectionOf(req.socket) } });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(result));
      })();
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  #connectionOf(socket: Socket): number {
    let id = this.#connections.get(socket);
    if (id === undefined) this.#connections.set(socket, (id = this.#connections.size + 1));
    return id;
  }

  /** Answers every held call. */
  release(): void {
    for (const answer of this.#waiting.splice(0)) answer();
  }

  /** Resolves once `count` calls of `field` have arrived. */
  async arrived(field: string, count: number): Promise<Arrival[]> {
    for (;;) {
      const seen = this.arrivals.filter((a) => a.field === field);
      if (seen.length >= count) return seen;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async stop(): Promise<void> {
    this.release();
    for (const answer of this.#stuck.splice(0)) answer();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

/** The connection number the stand-in put in each call's context. */
function connectionOf(ctx: unknown): number {
  return (ctx as { connection: number }).connection;
}

function textOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

let t: TestStack;
const standIn = new StandIn();
const gateways: StartedGateway[] = [];

async function gatewayWith(resilience: Partial<Config['subgraphResilience']>): Promise<StartedGateway> {
  const identity = SUBGRAPHS.find((s) => s.name === 'identity');
  if (!identity) throw new Error('identity subgraph missing');
  const { supergraph } = composeSupergraph([identity, { name: 'orgs', typeDefs: STAND_IN_SDL }]);
  const gateway = await createGateway({
    config: { ...t.config, subgraphResilience: { ...t.config.subgraphResilience, ...resilience } },
    logger: createLogger(t.config.logLevel),
    pubsub: t.stack.pubsub,
    port: 0,
    supergraphSdl: supergraph,
    subgraphUrls: { identity: t.subgraphUrl('identity'), orgs: await standInUrl },
  });
  gateways.push(gateway);
  return gateway;
}

let standInUrl: Promise<string>;

beforeAll(async () => {
  standInUrl = standIn.start();
  t = await startTestStack();
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await standIn.stop();
  await t?.close();
});

async function gql(gateway: StartedGateway, query: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  return { status: res.status, body: await res.json() };
}

describe('pipelined subgraph calls, seen by the subgraph', () => {
  it('sends a query on a connection where others are still in flight, up to the depth, and every answer to its own request', async () => {
    const gateway = await gatewayWith({ pipelining: { ...t.config.subgraphResilience.pipelining, orgs: 3 } });
    // A connection in the pool first, as under steady load.
    expect(await gql(gateway, '{ quick(n: 0) }')).toEqual({ status: 200, body: { data: { quick: 0 } } });
    const answers: Promise<{ status: number; body: unknown }>[] = [];
    for (let n = 1; n <= 4; n += 1) {
      // Each one sent once the ones before it reached the subgraph (and wait there, unanswered).
      answers.push(gql(gateway, `{ held(n: ${n}) }`));
      await standIn.arrived('held', n);
    }
    const held = standIn.arrivals.filter((a) => a.field === 'held');
    // The first three on one connection while none was answered; the fourth beyond the depth of 3.
    expect(new Set(held.slice(0, 3).map((a) => a.connection)).size).toBe(1);
    expect(held[3]?.connection).not.toBe(held[0]?.connection);
    standIn.release();
    expect(await Promise.all(answers)).toEqual([1, 2, 3, 4].map((n) => ({ status: 200, body: { data: { held: n } } })));
  });

  it('never sends a mutation on a connection with another call in flight', async () => {
    const gateway = await gatewayWith({ pipelining: { ...t.config.subgraphResilience.pipelining, orgs: 8 } });
    expect(await gql(gateway, '{ quick(n: 0) }')).toEqual({ status: 200, body: { data: { quick: 0 } } });
    const answers: Promise<{ status: number; body: unknown }>[] = [];
    for (let n = 1; n <= 3; n += 1) {
      answers.push(gql(gateway, `mutation { paint(n: ${n}) }`));
      await standIn.arrived('paint', n);
    }
    const painted = standIn.arrivals.filter((a) => a.field === 'paint');
    expect(new Set(painted.map((a) => a.connection)).size).toBe(3);
    standIn.release();
    expect(await Promise.all(answers)).toEqual([1, 2, 3].map((n) => ({ status: 200, body: { data: { paint: n } } })));
  });

  it('sends the queries waiting behind one that timed out again on a new connection, where they are answered within their own deadline', async () => {
    const gateway = await gatewayWith({ timeouts: { orgs: 3_000 }, deadlineMarginMs: 10, pipelining: { ...t.config.subgraphResilience.pipelining, orgs: 8 } });
    expect(await gql(gateway, '{ quick(n: 0) }')).toEqual({ status: 200, body: { data: { quick: 0 } } });
    const before = standIn.arrivals.length;
    const stuck = gql(gateway, '{ stuck }');
    await standIn.arrived('stuck', 1);
    // A second later, two queries the subgraph answers at once: on `stuck`'s connection their
    // answers wait behind its (HTTP/1.1 answers in order) until the gateway gives up on it at 3 s.
    await new Promise((r) => setTimeout(r, 1_000));
    const behind = [gql(gateway, '{ quick(n: 7) }'), gql(gateway, '{ quick(n: 8) }')];
    const unavailable = { message: 'Subgraph "orgs" is unavailable', extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'orgs', status: 503 } };
    expect(await stuck).toEqual({ status: 200, body: { data: { stuck: null }, errors: [unavailable] } });
    expect(await Promise.all(behind)).toEqual([7, 8].map((n) => ({ status: 200, body: { data: { quick: n } } })));
    const calls = standIn.arrivals.slice(before);
    const onStuckConnection = calls.filter((a) => a.field === 'quick' && a.connection === calls[0]?.connection);
    const elsewhere = calls.filter((a) => a.field === 'quick' && a.connection !== calls[0]?.connection);
    // Both reached the subgraph behind `stuck`, and again on another connection once it closed.
    expect(onStuckConnection.map((a) => a.n).sort()).toEqual([7, 8]);
    expect(elsewhere.map((a) => a.n).sort()).toEqual([7, 8]);
  });
});
