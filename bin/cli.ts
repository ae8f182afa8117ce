/**
 * Every command of the `xentree` CLI but `gateway` (bin/gateway.ts): start | subgraph <name> |
 * compose | migrate. Loads config and calls factories.
 *
 * The system's modules (Apollo, MikroORM, PGlite, every subgraph) take seconds to load, so they
 * are imported once the cheap startup checks have passed: a data directory in use, a port in use
 * or an unreachable Redis is reported at once.
 */
import { loadConfig, SUBGRAPH_NAMES, type Config } from '../kernel/config.ts';
import { createLogger } from '../kernel/logger.ts';
import { connectPubSub } from '../kernel/pubsub.ts';
import { claimEmbeddedDataDir } from '../kernel/data-lock.ts';
import { StartupError } from '../kernel/startup.ts';
import { releaseStartupMemory } from '../kernel/heap.ts';
import { onReloadSignal, onShutdown, requirePort, runCommand, startRoleTracing } from './lifecycle.ts';

async function usage(): Promise<string> {
  const { SUBGRAPHS } = await import('../subgraphs/index.ts');
  return `usage: xentree <command>
  start              every subgraph and the gateway in one process (PORT, default 4000)
  gateway            the gateway alone (finds subgraphs at SUBGRAPH_<NAME>_URL)
  subgraph <name>    one subgraph alone on SUBGRAPH_<NAME>_PORT (${SUBGRAPHS.map((s) => s.name).join(', ')})
  compose            rebuild schema/supergraph.graphql, schema/api.graphql, each subgraph's schema.types.ts, schema/openapi.json and schema/persisted-documents.json
  migrate            run every subgraph's pending migrations`;
}

/** Every URL the README promises, for the `start` banner. */
function startBanner(config: Config, url: string): string {
  const db = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : config.pgliteMode === 'memory' ? 'embedded PostgreSQL in memory' : `embedded PostgreSQL in ${config.dataDir}`;
  const metrics = config.metricsToken ? `${url}/metrics   (Authorization: Bearer $METRICS_TOKEN)` : config.production ? 'off (set METRICS_TOKEN to serve /metrics)' : `${url}/metrics`;
  return `
Xentree Graph is running (${db}; ${config.redisUrl ? 'Redis PubSub' : 'in-memory PubSub'}).
  GraphQL (HTTP + WebSocket): ${url}/graphql
  GraphiQL:                   ${config.ide ? `${url}/graphql   (open it in a browser)` : 'off (XENTREE_IDE=false)'}
  REST:                       ${url}/api/...   e.g. POST ${url}/api/auth/register
  REST reference:             ${url}/api/docs
  OpenAPI document:           ${url}/api/openapi.json
  Metrics:                    ${metrics}
  Health:                     ${url}/api/health
Press Ctrl+C to stop.`;
}

async function run(argv: string[]): Promise<void> {
  const [command, arg] = argv;
  if (command === 'compose') {
    const { composeSupergraph, writeComposed } = await import('../schema/compose.ts');
    const { SUBGRAPHS } = await import('../subgraphs/index.ts');
    const composed = composeSupergraph(SUBGRAPHS);
    const changed = writeComposed(composed);
    for (const hint of composed.hints) console.warn(`hint: ${hint}`);
    console.log(changed ? 'schema/supergraph.graphql and schema/api.graphql updated' : 'schemas already up to date');
    const { writeResolverTypes } = await import('../schema/codegen.ts');
    const typed = writeResolverTypes(SUBGRAPHS);
    console.log(typed.length ? `resolver types updated: ${typed.join(', ')}` : 'resolver types already up to date');
    const { writeOpenApiFile } = await import('../rest-compat/openapi-file.ts');
    console.log(writeOpenApiFile() ? 'schema/openapi.json updated' : 'schema/openapi.json already up to date');
    const { writePersistedDocuments } = await import('../schema/persisted-documents.ts');
    const { operationFiles } = await import('../rest-compat/operations.ts');
    console.log(writePersistedDocuments(operationFiles()) ? 'schema/persisted-documents.json updated' : 'schema/persisted-documents.json already up to date');
    return;
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (command === 'start' || command === 'subgraph') await startRoleTracing(config, command === 'subgraph' ? `xentree-${arg ?? 'subgraph'}` : 'xentree');
  switch (command) {
    case 'start': {
      // Cheapest checks first: a second process on the same data stops before anything else.
      claimEmbeddedDataDir(config);
      await requirePort('PORT', config.host, config.port);
      const pubsub = await connectPubSub(config.redisUrl);
      if (!config.databaseUrl) {
        // Embedded PostgreSQL starts (its WebAssembly compiles, its data directory loads) while the
        // rest of the system's modules load; the subgraphs then wait for it, and get its error if it failed.
        const { embeddedPostgres } = await import('../kernel/db.ts');
        embeddedPostgres(config).catch(() => {});
      }
      const { createStack } = await import('./stack.ts');
      const stack = await createStack({ config, logger, port: config.port, subgraphPorts: 0, pubsub });
      console.log(startBanner(config, stack.gateway.url.replace('127.0.0.1', 'localhost')));
      releaseStartupMemory();
      onShutdown(logger, stack.close);
      onReloadSignal(stack.gateway);
      return;
    }
    case 'subgraph': {
      const name = SUBGRAPH_NAMES.find((n) => n === arg);
      if (name) {
        claimEmbeddedDataDir(config);
        await requirePort(`SUBGRAPH_${name.toUpperCase()}_PORT`, config.host, config.subgraphPorts[name]);
      }
      const { SUBGRAPHS } = await import('../subgraphs/index.ts');
      const entry = SUBGRAPHS.find((s) => s.name === name);
      if (!entry) {
        const known = SUBGRAPHS.map((s) => s.name).join(', ');
        throw new StartupError(`unknown subgraph "${arg ?? ''}" (available: ${known})`);
      }
      const port = config.subgraphPorts[entry.name];
      const pubsub = await connectPubSub(config.redisUrl);
      const { closeEmbeddedPostgres } = await import('../kernel/db.ts');
      const started = await entry.start({ config, port, pubsub, logger });
      console.log(`subgraph ${entry.name} listening on ${started.url}/graphql`);
      releaseStartupMemory();
      onShutdown(logger, async () => {
        await started.close();
        await pubsub.close();
        await closeEmbeddedPostgres();
      });
      return;
    }
    case 'migrate': {
      claimEmbeddedDataDir(config);
      const { SUBGRAPHS } = await import('../subgraphs/index.ts');
      const { closeEmbeddedPostgres } = await import('../kernel/db.ts');
      for (const entry of SUBGRAPHS) {
        await entry.migrate(config, logger);
        console.log(`migrated ${entry.name}`);
      }
      await closeEmbeddedPostgres();
      return;
    }
    default:
      console.error(await usage());
      process.exitCode = command ? 2 : 0;
  }
}

/** `xentree <argv>`. */
export function main(argv: string[]): Promise<void> {
  return runCommand(() => run(argv));
}
