/**
 * A small federation subgraph a test starts beside the stack (README "Reloading the supergraph"):
 * real HTTP on port 0, `@apollo/subgraph`'s schema (so `_service { sdl }` and `_entities` are
 * federation's own), and a schema the test can replace while it runs, as a deploy of a new version
 * would. It announces its schema over the PubSub only when the test says so; a deploy ends the
 * previous version's announcer, as the end of its process would.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { graphql, parse, type GraphQLSchema } from 'graphql';
import type { PubSub } from '../kernel/pubsub.ts';
import { announceSchema, serviceSdlOf } from '../kernel/schema-announce.ts';

export const PROBE_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])';

export interface ProbeSubgraph {
  name: string;
  /** Its GraphQL URL. */
  url: string;
  /** Serves `typeDefs` from now on (a request already executing finishes on the schema it started with), announcing nothing. */
  deploy(typeDefs: string, resolvers: GraphQLResolverMap<unknown>): void;
  /** Publishes its current schema as a subgraph does on start. */
  announce(pubsub: PubSub, secret: string): Promise<void>;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<{ query?: string; variables?: Record<string, unknown>; operationName?: string }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query?: string; variables?: Record<string, unknown>; operationName?: string };
}

/** Starts the probe subgraph `name` serving `typeDefs` (Federation 2 SDL, {@link PROBE_LINK} first). */
export async function startProbeSubgraph(name: string, typeDefs: string, resolvers: GraphQLResolverMap<unknown>): Promise<ProbeSubgraph> {
  let schema: GraphQLSchema = buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers });
  const server = createServer((req, res) => {
    const current = schema;
    void bodyOf(req).then(async (body) => {
      const result = await graphql({ schema: current, source: body.query ?? '', variableValues: body.variables, operationName: body.operationName });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  let stopAnnouncing = (): void => {};
  return {
    name,
    url,
    deploy(next, nextResolvers) {
      stopAnnouncing();
      stopAnnouncing = () => {};
      schema = buildSubgraphSchema({ typeDefs: parse(next), resolvers: nextResolvers });
    },
    async announce(pubsub, secret) {
      stopAnnouncing();
      stopAnnouncing = await announceSchema(pubsub, { name, url, sdl: await serviceSdlOf(schema) }, secret, (err) => {
        throw err;
      });
    },
    async close() {
      stopAnnouncing();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
