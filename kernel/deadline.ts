/**
 * Deadlines between the gateway and subgraphs. The gateway tells a subgraph how long
 * it has for a call (`x-xentree-deadline-ms`, milliseconds from when the subgraph reads the
 * request) and itself waits that long plus a margin, so the subgraph always stops first: past
 * its deadline a service writes nothing and answers DEADLINE_EXCEEDED, instead of storing a
 * result after the caller was told the request failed.
 *
 * The budget travels as a duration rather than an absolute time so that clock skew between
 * machines cannot move it (as gRPC's `grpc-timeout`); the network latency it ignores is covered by
 * the gateway's margin.
 */
import { AppError } from './errors.ts';

export const DEADLINE_HEADER = 'x-xentree-deadline-ms';

/** A budget in the header: a positive integer of milliseconds (at most a day). */
export function parseDeadlineHeader(value: unknown): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || !/^[0-9]{1,9}$/.test(text)) return null;
  const ms = Number(text);
  return ms >= 1 && ms <= 86_400_000 ? ms : null;
}

/**
 * The signal a subgraph request runs under: it aborts when the header's budget runs out or when
 * `closed` fires (the caller hung up, e.g. the gateway gave up). Without a header only `closed`
 * applies.
 */
export function requestSignal(header: unknown, closed?: AbortSignal): AbortSignal {
  const ms = parseDeadlineHeader(header);
  const signals = [...(ms === null ? [] : [AbortSignal.timeout(ms)]), ...(closed ? [closed] : [])];
  if (signals.length === 0) return new AbortController().signal;
  return signals.length === 1 && signals[0] ? signals[0] : AbortSignal.any(signals);
}

/** 504 DEADLINE_EXCEEDED: the call ran out of time and stored nothing. */
export function deadlineExceeded(cause?: unknown): AppError {
  return new AppError('DEADLINE_EXCEEDED', { cause });
}

/**
 * Stops work whose caller has given up. Call it before each step that writes, and inside the
 * writing transaction just before it commits.
 * @throws DEADLINE_EXCEEDED when `signal` has aborted.
 */
export function checkDeadline(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw deadlineExceeded(signal.reason);
}
