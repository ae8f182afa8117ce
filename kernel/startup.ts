/**
 * Failures to start that the operator can fix (an unreachable database or Redis, a port in use, a
 * data directory held by another process). Each becomes one line naming the setting and what to
 * do; the CLI prints that line alone and exits 1, where a stack trace would bury the cause.
 */
import { createServer } from 'node:net';

/** A startup failure whose `message` is one plain line for the operator. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** `scheme://host:port/path` of a URL, without the credentials it may carry. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** The most telling text of an error: its code and message, or those of the first error it aggregates. */
export function reasonOf(err: unknown): string {
  const inner = err instanceof AggregateError && err.errors.length > 0 ? err.errors[0] : err;
  if (!(inner instanceof Error)) return String(inner);
  const first = inner.message.split('\n')[0] ?? '';
  return first || (errorCode(inner) ?? inner.name);
}

/** `err.code` when it is a string (Node system errors, PostgreSQL SQLSTATEs). */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** Whether `err` is a failure to bind a port that another process holds. */
export function isAddressInUse(err: unknown): boolean {
  return errorCode(err) === 'EADDRINUSE';
}

/** The line for a port held by another process, naming the variable that sets it. */
export function portInUseError(variable: string, host: string, port: number, cause?: unknown): StartupError {
  return new StartupError(
    `${variable}: port ${port} on ${host} is already in use by another process; stop that process or set ${variable} to a free port`,
    { cause },
  );
}

/**
 * Fails before anything starts when `port` cannot be bound on `host` (0 needs no check), so that
 * the operator sees one line instead of half a system that started and stopped again.
 * @throws StartupError naming `variable` when the port is in use.
 */
export async function requirePortFree(variable: string, host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err) => reject(isAddressInUse(err) ? portInUseError(variable, host, port, err) : err));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}
