/**
 * The gateway's HTTP client for subgraph calls: one keep-alive pool, and a poster that sends one
 * JSON POST and reads the whole answer, bounded by the call's deadline and its caller's signal.
 */
import { Agent } from 'undici';
import { DEADLINE_HEADER, parseDeadlineHeader } from '../kernel/deadline.ts';

/** What a subgraph answered: its status, content type and the whole body as text. */
export interface SubgraphReply {
  status: number;
  contentType: string | undefined;
  text: string;
}

/** Sends one JSON POST to a subgraph; rejects on connection failures and timeouts. */
export type SubgraphPoster = (url: URL, request: { headers: Record<string, string>; body: string; signal?: AbortSignal }) => Promise<SubgraphReply>;

/**
 * Keep-alive connections shared by the subgraph calls of one gateway, with up to `pipelining`
 * requests in flight on each (HTTP/1.1 pipelining; 1, the default, is one at a time). A pipelining
 * pool fills a connection before it opens the next: 32 queries in flight at depth 8 travel on 4
 * connections, and each side reads several requests or answers per system call and wake-up.
 */
export function createConnectionPool(pipelining = 1): Agent {
  // Under the subgraph servers' own keep-alive timeout (Node's default is 5 s), so the pool drops
  // an idle socket before the server closes it under a request.
  return new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000, connections: 128, pipelining });
}

/**
 * A poster over `pool`. Each attempt is aborted `marginMs` after the deadline it tells the
 * subgraph (`x-xentree-deadline-ms`), or after `timeoutMs` without one, or when `signal` aborts,
 * and rejects with the abort's reason.
 *
 * It hands the request to undici's dispatcher with a handler that collects the answer's bytes:
 * the same connection pool without `fetch`'s WHATWG layers (about a fifth of the gateway's CPU per
 * call) nor `request`'s readable stream and header object per answer.
 */
export function createSubgraphPoster(pool: Agent, timeoutMs: number, marginMs = 0, { idempotent = false }: { idempotent?: boolean } = {}): SubgraphPoster {
  return (url, { headers, body, signal }) =>
    new Promise<SubgraphReply>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const deadline = parseDeadlineHeader(headers[DEADLINE_HEADER]);
      let cancel: ((reason?: Error) => void) | null = null;
      let abortReason: unknown;
      let done = false;
      const abort = (reason: unknown): void => {
        if (done || abortReason !== undefined) return;
        abortReason = reason;
        // Before the connection is there, the handler's onConnect aborts with it.
        cancel?.(reason as Error);
      };
      // A timer cleared when the call settles (AbortSignal.timeout's cannot be, so every call's
      // would fire later anyway, building a TimeoutError with its stack trace).
      const timer = setTimeout(() => abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), deadline === null ? timeoutMs : deadline + marginMs);
      const onAbort = (): void => abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      let status = 0;
      let contentType: string | undefined;
      const chunks: Buffer[] = [];
      pool.dispatch(
        // `idempotent`: undici pipelines only such requests, and sends them again on a new
        // connection when the one they were waiting on closes (another call on it timed out).
        { origin: url.origin, path: url.pathname + url.search, method: 'POST', headers, body, idempotent },
        {
          onConnect(cancelCall) {
            if (abortReason !== undefined) cancelCall(abortReason as Error);
            else cancel = cancelCall;
          },
          onHeaders(statusCode, rawHeaders) {
            if (statusCode < 200) return true; // an informational answer: the real one follows
            status = statusCode;
            contentType = headerOf(rawHeaders, 'content-type');
            return true;
          },
          onData(chunk) {
            chunks.push(chunk);
            return true;
          },
          onComplete() {
            if (done) return;
            settle();
            resolve({ status, contentType, text: textOf(chunks) });
          },
          onError(err) {
            if (done) return;
            settle();
            reject(abortReason !== undefined ? abortReason : err);
          },
        },
      );
    });
}

/** The largest answer decoded through the shared buffer; a larger one is concatenated on its own. */
const SCRATCH_MAX = 1024 * 1024;
/** Where an answer that came in several chunks is put together to be decoded (decoding is synchronous). */
let scratch = Buffer.alloc(0);

/** The answer's bytes as UTF-8 text, without a new buffer per answer for the bytes put together. */
function textOf(chunks: readonly Buffer[]): string {
  if (chunks.length === 1) return (chunks[0] as Buffer).toString('utf8');
  let size = 0;
  for (const chunk of chunks) size += chunk.length;
  if (size > SCRATCH_MAX) return Buffer.concat(chunks, size).toString('utf8');
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX, Math.max(size, scratch.length * 2, 64 * 1024)));
  let at = 0;
  for (const chunk of chunks) at += chunk.copy(scratch, at);
  return scratch.toString('utf8', 0, size);
}

/** The first value of header `name` (lower case) among undici's raw headers (name, value, name, …), as text. */
function headerOf(raw: readonly Buffer[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i];
    if (key?.length === name.length && key.toString('latin1').toLowerCase() === name) return raw[i + 1]?.toString('latin1');
  }
  return undefined;
}
