/**
 * The one clock of the learning subgraph: every "now" of its services comes from here, so tests
 * can move time across local days, quest dates and booster expiry without sleeping.
 */
export interface Clock {
  now(): Date;
}

/** The system clock, shifted by an offset tests may set (0 in production). */
export class LearningClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Makes `now()` return `at` (then advance in real time from there). */
  set(at: Date): void {
    this.offsetMs = at.getTime() - Date.now();
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  reset(): void {
    this.offsetMs = 0;
  }
}

/** The process's learning clock (a test running the stack in-process sets it). */
export const learningClock = new LearningClock();
