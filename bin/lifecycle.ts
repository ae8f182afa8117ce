/**
 * What every long-running command of the CLI does around its work (bin/cli.ts, bin/gateway.ts):
 * tracing started before the system's modules load, ports checked before anything starts, a clean
 * close on SIGINT/SIGTERM, a reload on SIGHUP, and one plain line for a failure the operator can fix.
 */
import type { Config } from '../kernel/config.ts';
import { ConfigError } from '../kernel/config.ts';
import type { Logger } from '../kernel/logger.ts';
import { isAddressInUse, portInUseError, requirePortFree, StartupError } from '../kernel/startup.ts';
import { startTracing, type Tracing } from '../kernel/telemetry.ts';

/** The tracing SDK of this process (a no-op until `startTracing` finds an exporter configured). */
let tracing: Tracing = { shutdown: async () => {} };

/**
 * Starts tracing for this process's `role` (its default `service.name`). Before the database
 * modules load: the pg instrumentation hooks `pg` as knex first requires it.
 */
export async function startRoleTracing(config: Config, role: string): Promise<void> {
  tracing = await startTracing(config.tracing, { defaultServiceName: role });
}

/** The variable that sets each port this command listens on, to name it when the port is taken. */
const portVariables = new Map<number, string>();

/** Checks that `port` is free before anything starts (and remembers which variable set it). */
export async function requirePort(variable: string, host: string, port: number): Promise<void> {
  portVariables.set(port, variable);
  await requirePortFree(variable, host, port);
}

export function onShutdown(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // The spans of the last requests are exported before the process exits.
    close().then(() => tracing.shutdown()).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // `on`, not `once`: a signal raised again while closing (Apollo Server re-raises the one it
  // handled) must not fall through to Node's default and kill the process before it has closed.
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** SIGHUP reloads the gateway's supergraph (README "Reloading the supergraph"; the outcome is logged) instead of ending the process. */
export function onReloadSignal(gateway: { reload(): Promise<unknown> }): void {
  process.on('SIGHUP', () => void gateway.reload());
}

/** What the operator reads when the command fails: one plain line for what they can fix, the whole error otherwise. */
function failureText(err: unknown): unknown {
  if (err instanceof ConfigError || err instanceof StartupError) return err.message;
  // A port taken between the check and the real listen.
  if (isAddressInUse(err) && typeof err === 'object' && err !== null && 'port' in err && typeof err.port === 'number') {
    const host = 'address' in err && typeof err.address === 'string' ? err.address : 'this host';
    return portInUseError(portVariables.get(err.port) ?? 'PORT', host, err.port).message;
  }
  return err;
}

/** Runs a command; a failure prints `failureText` and exits 1. */
export function runCommand(command: () => Promise<void>): Promise<void> {
  return command().catch((err: unknown) => {
    console.error(failureText(err));
    process.exit(1);
  });
}
