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
/** How long a background refresh may wait for others to share its call. */
const BACKGROUND_WINDOW_MS = 50;

interface Waiter {
  id: string;
  resolve(status: SessionStatus | null): void;
  reject(err: unknown): void;
}

export class SessionStatusBatcher {
  private queue: Waiter[] = [];
  private scheduled = false;
  private later: NodeJS.Timeout | null = null;
  private inFlight = 0;

  /** `fetch` asks identity about up to SESSION_STATUS_MAX_IDS distinct ids in one call. */
  constructor(private readonly fetch: (sessionIds: string[]) => Promise<readonly SessionStatus[]>) {}

  /**
   * The status of one session family; null when identity does not answer for it. A failed call
   * rejects every lookup it carried. A `background` lookup (a refresh nobody waits for) may wait up
   * to BACKGROUND_WINDOW_MS, so that the refreshes of many sessions share a call.
   */
  load(sessionId: string, background = false): Promise<SessionStatus | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: sessionId, resolve, reject });
      if (background) this.scheduleLater();
      else this.schedule();
    });
  }

  private scheduleLater(): void {
    if (this.later) return;
    this.later = setTimeout(() => {
      this.later = null;
      this.schedule();
    }, BACKGROUND_WINDOW_MS);
    this.later.unref();
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

/** How long a session's status is served from the cache; revocations evict it at once. */
export const SESSION_CACHE_MS = 10_000;

/** How soon a failed background refresh is tried again. */
const RETRY_MS = 1_000;

/** A looked-up value, and whether it may be cached. */
export interface Looked<T> {
  value: T;
  cache: boolean;
}

/**
 * Session statuses served from memory for SESSION_CACHE_MS each, refreshed ahead: a hit in the
 * last half or so of its life (the point drawn at random per entry, so that entries fetched
 * together do not come due together) starts a background refresh and is answered from the cache.
 * Without it every caller's entry expired on the request that found it, which then waited on
 * identity, and callers that connected together all expired together, every ten seconds. An
 * entry is never served past its life; concurrent lookups of one id share one.
 */
export class SessionCache<T> {
  private readonly entries = new Map<string, { value: T; until: number; refreshAt: number }>();
  private readonly pending = new Map<string, Promise<T>>();

  constructor(
    private readonly lookup: (id: string, background: boolean) => Promise<Looked<T>>,
    private readonly random: () => number = Math.random,
  ) {}

  get(id: string): Promise<T> {
    const entry = this.entries.get(id);
    const now = Date.now();
    if (entry && entry.until > now) {
      if (now >= entry.refreshAt && !this.pending.has(id)) void this.fetch(id, true).catch(() => {});
      return Promise.resolve(entry.value);
    }
    return this.pending.get(id) ?? this.fetch(id, false);
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  private fetch(id: string, background: boolean): Promise<T> {
    const pending = (async () => {
      try {
        const { value, cache } = await this.lookup(id, background);
        const now = Date.now();
        if (cache) this.entries.set(id, { value, until: now + SESSION_CACHE_MS, refreshAt: now + SESSION_CACHE_MS * (0.5 + 0.4 * this.random()) });
        else this.entries.delete(id);
        return value;
      } catch (err) {
        // A failed refresh is tried again a second later, not by every request until the entry expires.
        const entry = this.entries.get(id);
        if (entry) entry.refreshAt = Date.now() + RETRY_MS;
        throw err;
      } finally {
        this.pending.delete(id);
      }
    })();
    this.pending.set(id, pending);
    return pending;
  }
}

