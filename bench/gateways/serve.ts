/**
 * One process of the gateway benchmark: `serve.ts subgraphs` (the four subgraphs; prints their
 * URLs as JSON on a `BENCH-READY` line) or `serve.ts <gateway>` (one gateway on PORT over the
 * supergraph in BENCH_SUPERGRAPH_FILE; prints `BENCH-READY` once listening). Each gateway forwards
 * the client's `authorization` header to every subgraph fetch, except this project's, which sends
 * its signed internal context.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';

export const GATEWAYS = ['xentree', 'apollo-gateway', 'hive-gateway', 'hive-router'] as const;
/** The line a process prints once it serves (anything else it prints is its own logging). */
export const READY = 'BENCH-READY';

export type GatewayName = (typeof GATEWAYS)[number];

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

/**
 * This project's gateway, as `xentree gateway` starts it (bin/gateway.ts: in the compiled build
 * the production bundle), over the benchmark supergraph.
 */
async function xentree(port: number, supergraphSdl: string, urls: Record<string, string>): Promise<() => Promise<void>> {
  const { loadConfig, createLogger, startGatewayRole } = await import('../../bin/gateway.ts');
  const config = loadConfig();
  const gateway = await startGatewayRole(config, createLogger(config.logLevel), { port, host: '127.0.0.1', supergraphSdl, subgraphUrls: urls });
  return () => gateway.close();
}

/** Stock @apollo/gateway in @apollo/server's standalone HTTP server. */
async function apolloGateway(port: number, supergraphSdl: string): Promise<() => Promise<void>> {
  const { ApolloGateway, RemoteGraphQLDataSource } = await import('@apollo/gateway');
  const { ApolloServer } = await import('@apollo/server');
  const { startStandaloneServer } = await import('@apollo/server/standalone');
  interface Ctx {
    authorization?: string;
  }
  class Forwarding extends RemoteGraphQLDataSource<Ctx> {
    override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<Ctx>): void {
      if (context.authorization) request.http?.headers.set('authorization', context.authorization);
    }
  }
  const gateway = new ApolloGateway({ supergraphSdl, buildService: ({ url }) => new Forwarding({ url }) });
  const server = new ApolloServer<Ctx>({ gateway });
  await startStandaloneServer(server, { listen: { port, host: '127.0.0.1' }, context: async ({ req }) => ({ authorization: req.headers.authorization }) });
  return () => server.stop();
}

/** The part of a Hive gateway runtime used here: a Node request listener that can be disposed. */
type HiveRuntime = ((req: IncomingMessage, res: ServerResponse) => void) & { dispose(): Promise<void> };

/**
 * Imports a package by a name the type-checker does not follow. The Hive packages' declarations
 * pull the DOM library in (through @whatwg-node/fetch), which would change the global fetch
 * types (BodyInit, Headers) for every file of the project.
 */
function untyped(name: string): Promise<unknown> {
  return import(name);
}

/** @graphql-hive/gateway-runtime, with its JavaScript planner or with the Rust planner of @graphql-hive/router-runtime. */
async function hive(port: number, supergraphSdl: string, rustPlanner: boolean): Promise<() => Promise<void>> {
  const { createGatewayRuntime } = (await untyped('@graphql-hive/gateway-runtime')) as { createGatewayRuntime(options: Record<string, unknown>): HiveRuntime };
  const routerRuntime = rustPlanner ? ((await untyped('@graphql-hive/router-runtime')) as { unifiedGraphHandler: unknown }) : null;
  const gateway = createGatewayRuntime({
    supergraph: supergraphSdl,
    logging: false,
    propagateHeaders: { fromClientToSubgraphs: ({ request }: { request: { headers: { get(name: string): string | null } } }) => ({ authorization: request.headers.get('authorization') }) },
    ...(routerRuntime ? { unifiedGraphHandler: routerRuntime.unifiedGraphHandler } : {}),
  });
  const server = createServer(gateway);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await gateway.dispose();
  };
}

async function main(kind: string): Promise<void> {
  let close: () => Promise<void>;
  if (kind === 'subgraphs') {
    const { startSubgraphs } = await import('./subgraphs.ts');
    const started = await startSubgraphs(env('INTERNAL_SERVICE_KEY'));
    close = started.close;
    console.log(`${READY} ${JSON.stringify(started.urls)}`);
  } else {
    const port = Number(env('PORT'));
    const sdl = readFileSync(env('BENCH_SUPERGRAPH_FILE'), 'utf8');
    const urls = JSON.parse(env('BENCH_SUBGRAPH_URLS')) as Record<string, string>;
    if (kind === 'xentree') close = await xentree(port, sdl, urls);
    else if (kind === 'apollo-gateway') close = await apolloGateway(port, sdl);
    else if (kind === 'hive-gateway' || kind === 'hive-router') close = await hive(port, sdl, kind === 'hive-router');
    else throw new Error(`unknown process ${kind} (subgraphs | ${GATEWAYS.join(' | ')})`);
    console.log(READY);
  }
  const stop = () => void close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv[2] ?? '').catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
