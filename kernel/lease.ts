/**
 * Leases on work a process owns in the database (a running generation stream, a document being
 * ingested). The owner renews the lease of everything it holds every third of the lease; every
 * process sweeps, every half lease and once at start, the work whose lease nobody renewed in time.
 * So the work of a process that died (kill -9, out of memory, a lost machine) is ended by whichever
 * process is still up, or by the next one to start. Lease times are the database's `now()`, never a
 * process's clock, so replicas whose clocks disagree still agree on what has lapsed.
 */
import type { Logger } from './logger.ts';

export interface LeaseKeeperOptions {
  /** What the leases are on, for logs (`chat stream`, `ingestion`). */
  name: string;
  /** How long a lease lasts unless renewed (config: STREAM_LEASE_MS, INGESTION_LEASE_MS). */
  leaseMs: number;
  /** Extends the leases of `ids` (all held by this process) to the database's now + `leaseMs`. */
  renew(ids: readonly string[]): Promise<void>;
  /** Ends every piece of work whose lease has lapsed, whoever held it. */
  sweep(): Promise<void>;
  logger: Logger;
}

/** Renews this process's leases and sweeps lapsed ones on timers that never keep the process alive. */
export class LeaseKeeper {
  private readonly held = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** At most one renewal and one sweep in flight: a slow database never piles up statements. */
  private renewing: Promise<void> | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(private readonly opts: LeaseKeeperOptions) {}

  /** Sweeps once now (what a previous run of this process left), then keeps renewing and sweeping. */
  start(): void {
    if (this.timers.length > 0) return;
    void this.sweepNow();
    this.timers.push(
      setInterval(() => void this.renewNow(), Math.max(1, Math.floor(this.opts.leaseMs / 3))),
      setInterval(() => void this.sweepNow(), Math.max(1, Math.floor(this.opts.leaseMs / 2))),
    );
    for (const t of this.timers) t.unref();
  }

  /** This process now owns `id`: its lease is renewed until `release`. */
  hold(id: string): void {
    this.held.add(id);
  }

  /** This process no longer owns `id` (its work ended, well or not). */
  release(id: string): void {
    this.held.delete(id);
  }

  /** Stops the timers and waits for a renewal or sweep in flight. Held leases lapse by themselves. */
  async close(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    await Promise.all([this.renewing, this.sweeping]);
  }

  private renewNow(): Promise<void> {
    if (this.renewing || this.held.size === 0) return this.renewing ?? Promise.resolve();
    this.renewing = this.opts
      .renew([...this.held])
      .catch((err: unknown) => this.opts.logger.warn({ err, held: this.held.size }, `renewing ${this.opts.name} leases failed`))
      .finally(() => (this.renewing = null));
    return this.renewing;
  }

  private sweepNow(): Promise<void> {
    if (this.sweeping) return this.sweeping;
    this.sweeping = this.opts
      .sweep()
      .catch((err: unknown) => this.opts.logger.warn({ err }, `sweeping lapsed ${this.opts.name} leases failed`))
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }
}
