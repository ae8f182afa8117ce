/**
 * The one clock of the learning subgraph: every "now" of its services comes from here, so tests
 * can move time across local days, quest dates, booster expiry and idle timeouts without sleeping.
 */
export interface Clock {
  now(): Date;
}

/** The system clock, unless a test has stopped it at an instant (then it moves only when told). */
export class LearningClock implements Clock {
  private fixed: number | null = null;

  now(): Date {
    return new Date(this.fixed ?? Date.now());
  }

  /** Stops the clock at `at`. */
  set(at: Date): void {
    this.fixed = at.getTime();
  }

  /** Moves the clock forward by `ms` (from now, when it was running). */
  advance(ms: number): void {
    this.fixed = (this.fixed ?? Date.now()) + ms;
  }

  /** Back to the system clock. */
  reset(): void {
    this.fixed = null;
  }
}

/** The process's learning clock (a test running the stack in-process sets it). */
export const learningClock = new LearningClock();
