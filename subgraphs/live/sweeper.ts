/**
 * Ends silent Live sessions on a timer in every live process (and once at start, for what a
 * stopped process left). Passes never overlap within a process; across processes the rows are
 * taken with `skip locked`, so each session is ended once whichever process gets there first.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../../kernel/logger.ts';
import type { LiveSessionService } from './session.service.ts';

export class LiveSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly orm: MikroORM,
    private readonly sessions: LiveSessionService,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.pass();
    this.timer = setInterval(() => void this.pass(), this.intervalMs);
    this.timer.unref();
  }

  /** One pass: ends every silent session, in batches. */
  pass(): Promise<void> {
    this.running ??= (async () => {
      try {
        while ((await this.sessions.sweep(this.orm.em.fork())) > 0) {
          // A full batch: more may be waiting.
        }
      } catch (err) {
        this.logger.warn({ err }, 'sweeping silent live sessions failed');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
