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

/** A request's signal, and what ends it early or releases its timer. */
export interface RequestSignal {
  signal: AbortSignal;
  /** The caller hung up (e.g. the gateway gave up): aborts with `reason` unless already aborted. */
  hangUp(reason: Error): void;
  /** The answer is sent: the budget's timer is released. */
  end(): void;
}

/**
 * The signal a subgraph request runs under: it aborts when the header's budget runs out (with the
 * `TimeoutError` AbortSignal.timeout gives) or when the caller hangs up. Without a header only a
 * hang-up applies. One controller and at most one timer per request: AbortSignal.timeout joined
 * to a hang-up signal by AbortSignal.any cost several times as much, on every request.
 */
export function requestSignal(header: unknown): RequestSignal {
  const ms = parseDeadlineHeader(header);
  const controller = new AbortController();
  const timer = ms === null ? undefined : setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
  timer?.unref();
  return {
    signal: controller.signal,
    hangUp: (reason) => controller.abort(reason),
    end: () => clearTimeout(timer),
  };
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
