/**
 * `xentree gateway`: the gateway alone, finding the subgraphs at SUBGRAPH_<NAME>_URL.
 *
 * Its own entry (bin/xentree.ts hands the command over before loading anything else) because the
 * production build ships it as one minified bundle with the packages it runs on (scripts/build.mjs,
 * scripts/bundle-gateway.mjs): shorter sources hold less memory in every gateway replica. Nothing
 * here may depend on being unbundled; the deploy and topology tests run the bundle.
 */
import { loadConfig, type Config } from '../kernel/config.ts';
import { createLogger, type Logger } from '../kernel/logger.ts';
import { connectPubSub } from '../kernel/pubsub.ts';
import { keepWebAssemblyOnBaseline, releaseStartupMemory } from '../kernel/heap.ts';
import type { GatewayOptions, StartedGateway } from '../gateway/server.ts';
import { onReloadSignal, onShutdown, requirePort, runCommand, startRoleTracing } from './lifecycle.ts';

export { loadConfig, createLogger };

/** What a caller may set beyond the configuration (the gateway benchmark's supergraph and subgraphs). */
export type GatewayRoleOptions = Pick<GatewayOptions, 'port' | 'host' | 'supergraphSdl' | 'subgraphUrls'>;

/** The gateway with the REST layer on its PubSub, listening; `close()` closes both. */
export async function startGatewayRole(config: Config, logger: Logger, options: GatewayRoleOptions = {}): Promise<StartedGateway> {
  // This process runs no embedded PostgreSQL, so its only WebAssembly is undici's HTTP parser.
  keepWebAssemblyOnBaseline();
  const pubsub = await connectPubSub(config.redisUrl);
  let gateway: StartedGateway;
  try {
    const { createGateway } = await import('../gateway/server.ts');
    const { restCompat } = await import('../rest-compat/plugin.ts');
    gateway = await createGateway({ config, logger, pubsub, plugins: [restCompat()], ...options });
  } catch (err) {
    await pubsub.close();
    throw err;
  }
  // Once it listens: what start-up allocated and no longer needs goes back (kernel/heap.ts).
  releaseStartupMemory();
  return {
    url: gateway.url,
    reload: (trigger) => gateway.reload(trigger),
    async close() {
      await gateway.close();
      await pubsub.close();
    },
  };
}

/** `xentree gateway`. */
export function main(): Promise<void> {
  return runCommand(async () => {
    const config = loadConfig();
    const logger = createLogger(config.logLevel);
    await startRoleTracing(config, 'xentree-gateway');
    await requirePort('PORT', config.host, config.port);
    const gateway = await startGatewayRole(config, logger);
    console.log(`gateway listening on ${gateway.url}/graphql`);
    onReloadSignal(gateway);
    onShutdown(logger, () => gateway.close());
  });
}
