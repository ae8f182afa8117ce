/**
 * argon2id password hashing with §4.1's parameters, and a dummy hash for unknown users.
 *
 * Each hash takes ~20–50 ms of a core and 19 MiB. @node-rs/argon2 runs them on libuv's thread pool
 * (four threads), so a burst of registrations and logins would take every core from the event loop
 * and every other request (health checks included) would wait seconds. Hashes run at most
 * `concurrency` at a time (default: one less than the cores, at least one) and the rest queue,
 * so one core always stays free for the event loop. A request that would wait longer than
 * `maxWaitMs` (below the gateway's timeout for identity) is refused at once with 503 instead:
 * otherwise the gateway would report a timeout while the account is still created afterwards.
 */
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { AppError } from '../../kernel/errors.ts';

// Algorithm.Argon2id is an ambient const enum (value 2), unusable under verbatimModuleSyntax.
const ARGON2ID = 2;
const PARAMS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** A task waiting for a slot: started by the task before it, or refused once `deadline` has passed. */
interface Waiter {
  deadline: number;
  start(): void;
  refuse(): void;
}

/** Runs tasks at most `limit` at a time, in arrival order; a task queued `maxWaitMs` is refused. */
class Gate {
  private running = 0;
  private readonly waiting = new Set<Waiter>();

  constructor(
    private readonly limit: number,
    private readonly maxWaitMs: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await this.queue();
    else this.running += 1;
    try {
      return await task();
    } finally {
      this.handOver();
    }
  }

  /**
   * Passes the slot straight to the next waiter still within its wait, so `running` stays as it
   * is. One past its deadline is refused here too: whether its timer or this release runs first
   * (a loaded machine can deliver both at once) must not decide.
   */
  private handOver(): void {
    for (const waiter of this.waiting) {
      if (performance.now() < waiter.deadline) {
        this.waiting.delete(waiter);
        waiter.start();
        return;
      }
      waiter.refuse();
    }
    this.running -= 1;
  }

  /** @throws SERVICE_UNAVAILABLE when no slot frees within `maxWaitMs`. */
  private queue(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        deadline: performance.now() + this.maxWaitMs,
        start: () => {
          clearTimeout(timer);
          resolve();
        },
        refuse: () => {
          clearTimeout(timer);
          this.waiting.delete(waiter);
          reject(new AppError('SERVICE_UNAVAILABLE', { message: 'Too many sign-ins at once; try again shortly' }));
        },
      };
      const timer = setTimeout(waiter.refuse, this.maxWaitMs);
      this.waiting.add(waiter);
    });
  }
}

/** Hashes at once by default: one less than the cores, at least one. */
export const DEFAULT_HASH_CONCURRENCY = Math.max(1, availableParallelism() - 1);
/** Longest wait for a hashing slot: well inside the gateway's default 10 s subgraph timeout. */
export const DEFAULT_HASH_MAX_WAIT_MS = 8_000;

export class PasswordHasher {
  private dummy: Promise<string> | null = null;
  private readonly gate: Gate;

  constructor(concurrency = DEFAULT_HASH_CONCURRENCY, maxWaitMs = DEFAULT_HASH_MAX_WAIT_MS) {
    this.gate = new Gate(Math.max(1, concurrency), maxWaitMs);
  }

  hash(password: string): Promise<string> {
    return this.gate.run(() => hash(password, PARAMS));
  }

  /** Verifies against `phc`, or against a dummy hash when the user is unknown, so both take as long. */
  async verify(phc: string | null, password: string): Promise<boolean> {
    if (phc === null) {
      this.dummy ??= this.hash('dummy-password-for-timing');
      const dummy = await this.dummy;
      await this.gate.run(() => verify(dummy, password).catch(() => false));
      return false;
    }
    return this.gate.run(() => verify(phc, password).catch(() => false));
  }
}
