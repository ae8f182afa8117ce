/**
 * Coalesces the gateway's session-status lookups into few calls to identity. Each lookup waits at
 * most until the event loop's check phase: everything asked within one turn (every socket's
 * `connection_init` and request that arrived together) goes out as one `sessionStatus` call of up
 * to 500 ids (about 150 UUIDs: a query's input travels in its URL, which tRPC clients keep under
 * TRPC_MAX_URL_LENGTH). At most a few calls are in flight; ids asked meanwhile wait for the next free slot
 * and go out together, so a crowd of fresh sessions costs identity a handful of calls rather than
 * one each (which queued behind one another until they timed out).
 */
import type { inferRouterOutputs } from '@trpc/server';
import type { IdentityRouter } from '../subgraphs/identity/router.ts';
import { TRPC_MAX_URL_LENGTH } from '../kernel/trpc.ts';

/** Identity's answer for one session family. */
export type SessionStatus = inferRouterOutputs<IdentityRouter>['sessionStatus'][number];

/** The most ids identity's `sessionStatus` accepts in one call. */
export const SESSION_STATUS_MAX_IDS = 500;
/** URL characters a batch's ids may take: the rest of the URL (base, path, wrapping) fits in what is left. */
const URL_BUDGET = TRPC_MAX_URL_LENGTH - 1_024;
/** Calls in flight at once; lookups beyond wait and are sent together when one returns. */
const MAX_CALLS_IN_FLIGHT = 4;

interface Waiter {
  id: string;
  resolve(status: SessionStatus | null): void;
  reject(err: unknown): void;
}

export class SessionStatusBatcher {
  private queue: Waiter[] = [];
  private scheduled = false;
  private inFlight = 0;

  /** `fetch` asks identity about up to SESSION_STATUS_MAX_IDS distinct ids in one call. */
  constructor(private readonly fetch: (sessionIds: string[]) => Promise<readonly SessionStatus[]>) {}

  /** The status of one session family; null when identity does not answer for it. A failed call rejects every lookup it carried. */
  load(sessionId: string): Promise<SessionStatus | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: sessionId, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_CALLS_IN_FLIGHT || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < MAX_CALLS_IN_FLIGHT && this.queue.length > 0) void this.send(this.takeBatch());
    });
  }

  /**
   * Takes waiters from the front of the queue while the batch's distinct ids stay within identity's
   * limit and, as a query's input travels in the URL, within the URL length tRPC clients keep to.
   */
  private takeBatch(): Waiter[] {
    const ids = new Set<string>();
    let urlChars = 0;
    let n = 0;
    for (const w of this.queue) {
      if (!ids.has(w.id)) {
        // The id as it appears in the URL: JSON string, percent-encoded, and an encoded comma.
        const chars = encodeURIComponent(JSON.stringify(w.id)).length + 3;
        if (ids.size > 0 && (ids.size === SESSION_STATUS_MAX_IDS || urlChars + chars > URL_BUDGET)) break;
        ids.add(w.id);
        urlChars += chars;
      }
      n += 1;
    }
    return this.queue.splice(0, n);
  }

  private async send(batch: Waiter[]): Promise<void> {
    this.inFlight += 1;
    try {
      const statuses = await this.fetch([...new Set(batch.map((w) => w.id))]);
      const byId = new Map(statuses.map((s) => [s.sessionId, s]));
      for (const w of batch) w.resolve(byId.get(w.id) ?? null);
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.inFlight -= 1;
      this.schedule();
    }
  }
}
