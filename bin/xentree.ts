#!/usr/bin/env -S npx tsx
/**
 * The `xentree` CLI: start | gateway | subgraph <name> | compose | migrate.
 * Entry point only: loads config and calls factories.
 */
import { loadConfig, ConfigError, SUBGRAPH_NAMES, type SubgraphName } from '../kernel/config.ts';
import { createLogger, type Logger } from '../kernel/logger.ts';
import { createPubSub } from '../kernel/pubsub.ts';
import { closeEmbeddedPostgres } from '../kernel/db.ts';
import { createGateway } from '../gateway/server.ts';
import { composeSupergraph, writeComposed } from '../schema/compose.ts';
import { SUBGRAPHS } from '../subgraphs/index.ts';
import { createStack } from './stack.ts';
import { restCompat } from '../rest-compat/plugin.ts';

const USAGE = `usage: xentree <command>
  start              every subgraph and the gateway in one process (PORT, default 4000)
  gateway            the gateway alone (finds subgraphs at SUBGRAPH_<NAME>_URL)
  subgraph <name>    one subgraph alone on SUBGRAPH_<NAME>_PORT (${SUBGRAPH_NAMES.join(', ')})
  compose            rebuild schema/supergraph.graphql and schema/api.graphql
  migrate            run every subgraph's pending migrations`;

function onShutdown(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

async function main(argv: string[]): Promise<void> {
  const [command, arg] = argv;
  if (command === 'compose') {
    const composed = composeSupergraph(SUBGRAPHS);
    const changed = writeComposed(composed);
    for (const hint of composed.hints) console.warn(`hint: ${hint}`);
    console.log(changed ? 'schema/supergraph.graphql and schema/api.graphql updated' : 'schemas already up to date');
    return;
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  switch (command) {
    case 'start': {
      const stack = await createStack({ config, logger, port: config.port, subgraphPorts: 0 });
      const url = stack.gateway.url.replace('127.0.0.1', 'localhost');
      const db = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PostgreSQL in ${config.dataDir}`;
      console.log(`
Xentree Graph is running (${db}; ${config.redisUrl ? 'Redis PubSub' : 'in-memory PubSub'}).
  GraphQL (HTTP + WebSocket): ${url}/graphql${config.ide ? '   (open it in a browser for the IDE)' : ''}
  REST:                       ${url}/api/...   e.g. POST ${url}/api/auth/register
  Health:                     ${url}/api/health
Press Ctrl+C to stop.`);
      onShutdown(logger, stack.close);
      return;
    }
    case 'gateway': {
      const pubsub = createPubSub(config.redisUrl);
      const gateway = await createGateway({ config, logger, pubsub, plugins: [restCompat()] });
      console.log(`gateway listening on ${gateway.url}/graphql`);
      onShutdown(logger, async () => {
        await gateway.close();
        await pubsub.close();
      });
      return;
    }
    case 'subgraph': {
      const entry = SUBGRAPHS.find((s) => s.name === arg);
      if (!entry) {
        const known = SUBGRAPHS.map((s) => s.name).join(', ');
        throw new Error(`unknown subgraph "${arg ?? ''}" (available: ${known})`);
      }
      const pubsub = createPubSub(config.redisUrl);
      const started = await entry.start({ config, port: config.subgraphPorts[entry.name as SubgraphName], pubsub, logger });
      console.log(`subgraph ${entry.name} listening on ${started.url}/graphql`);
      onShutdown(logger, async () => {
        await started.close();
        await pubsub.close();
        await closeEmbeddedPostgres();
      });
      return;
    }
    case 'migrate': {
      for (const entry of SUBGRAPHS) {
        await entry.migrate(config, logger);
        console.log(`migrated ${entry.name}`);
      }
      await closeEmbeddedPostgres();
      return;
    }
    default:
      console.error(USAGE);
      process.exitCode = command ? 2 : 0;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
