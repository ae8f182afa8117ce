/**
 * Builds the whole system in one process (all-in-one mode and tests): every subgraph on its own
 * loopback port with real HTTP/WebSocket between them, then the gateway.
 */
import type { Config, SubgraphName } from '../kernel/config.ts';
import type { Logger } from '../kernel/logger.ts';
import { connectPubSub, type PubSub } from '../kernel/pubsub.ts';
import { closeEmbeddedPostgres } from '../kernel/db.ts';
import type { StartedSubgraph } from '../kernel/server.ts';
import { createGateway, type StartedGateway } from '../gateway/server.ts';
import { restCompat } from '../rest-compat/plugin.ts';
import { SUBGRAPHS } from '../subgraphs/index.ts';

export interface StackOptions {
  config: Config;
  logger: Logger;
  /** Gateway port (0 = any free port). */
  port: number;
  /** Subgraph ports: `0` for any free port, or `config` to use SUBGRAPH_<NAME>_PORT. */
  subgraphPorts: 0 | 'config';
  onQuery?: (subgraph: SubgraphName, sql: string) => void;
  /** A PubSub already connected (the stack closes it); default: one connected to REDIS_URL. */
  pubsub?: PubSub;
}

export interface Stack {
  gateway: StartedGateway;
  subgraphs: StartedSubgraph[];
  pubsub: PubSub;
  close(): Promise<void>;
}

export async function createStack(opts: StackOptions): Promise<Stack> {
  const { config, logger } = opts;
  const pubsub = opts.pubsub ?? (await connectPubSub(config.redisUrl));
  const subgraphs: StartedSubgraph[] = [];
  const close = async (gateway?: StartedGateway) => {
    await gateway?.close();
    for (const s of [...subgraphs].reverse()) await s.close();
    await pubsub.close();
    await closeEmbeddedPostgres();
  };
  try {
    for (const entry of SUBGRAPHS) {
      const onQuery = opts.onQuery;
      subgraphs.push(
        await entry.start({
          config,
          port: opts.subgraphPorts === 0 ? 0 : config.subgraphPorts[entry.name],
          host: '127.0.0.1',
          pubsub,
          logger,
          inProcess: true,
          onQuery: onQuery ? (sql) => onQuery(entry.name, sql) : undefined,
        }),
      );
    }
    const gateway = await createGateway({
      config,
      logger,
      pubsub,
      port: opts.port,
      subgraphUrls: Object.fromEntries(subgraphs.map((s) => [s.name, s.url])),
      plugins: [restCompat()],
    });
    return { gateway, subgraphs, pubsub, close: () => close(gateway) };
  } catch (err) {
    await close();
    throw err;
  }
}
