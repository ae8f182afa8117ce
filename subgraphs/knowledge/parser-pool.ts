/**
 * Document parsing off the event loop (§4.10): a small pool of worker threads, each with a
 * V8 heap limit, and a time budget per document. A document that runs out of its budget has its
 * worker terminated (the next document gets a fresh one) and is refused as unreadable; other
 * requests never wait on a parse, and other uploads wait only for a free worker.
 *
 * A worker's heap limit does not cover array buffers (pdf.js decodes streams into them), so while
 * documents are being parsed a watchdog also bounds how much the process's resident memory may
 * grow; past that, the parses in progress are stopped too.
 */
import { Worker } from 'node:worker_threads';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import { MAX_DOCUMENT_CHARS, type Block, type ParsedType } from './parse.ts';
import type { ParseFailure, ParseReply, ParseRequest } from './parse.worker.ts';

/** How the pool runs (kernel/config.ts `knowledgeParser`). */
export interface ParserPoolOptions {
  /** Worker threads, hence documents parsed at once. */
  workers: number;
  /** Time budget of one document, from the moment a ready worker receives it. */
  timeoutMs: number;
  /** A worker's V8 old-generation limit; the process may grow by twice this per parse. */
  memoryMb: number;
  logger: Logger;
  /** The worker's entry (tests substitute their own). */
  entry?: URL;
}

const ENTRY = new URL('./parse.worker.mjs', import.meta.url);
/** A worker that is not ready by then is broken (not the document's fault). */
const STARTUP_MS = 60_000;
const WATCHDOG_MS = 50;

interface Job {
  id: number;
  bytes: Uint8Array;
  type: ParsedType;
  resolve(blocks: Block[]): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker | null;
  ready: boolean;
  job: Job | null;
  /** Set while the job runs: its budget timer and the process's resident memory at its start. */
  timer: NodeJS.Timeout | null;
  rssAtStart: number;
}

/** 413 `document_too_large` with the limit (§1.7's `max_chars`). */
export const documentTooLarge = (): AppError => new AppError('DOCUMENT_TOO_LARGE', { extras: { max_chars: MAX_DOCUMENT_CHARS } });

function failureError(failure: ParseFailure, reason: string): AppError {
  return failure === 'too_large' ? documentTooLarge() : new AppError('DOCUMENT_UNREADABLE', { cause: new Error(reason) });
}

export class ParserPool {
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private watchdog: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: ParserPoolOptions) {
    this.slots = Array.from({ length: Math.max(1, opts.workers) }, () => ({ worker: null, ready: false, job: null, timer: null, rssAtStart: 0 }));
  }

  /**
   * The document's blocks, parsed in a worker.
   * @throws DOCUMENT_TOO_LARGE past MAX_DOCUMENT_CHARS; DOCUMENT_UNREADABLE when the bytes are not
   *   a readable file of the type or the parse exceeds its time or memory budget
   */
  parse(bytes: Uint8Array, type: ParsedType): Promise<Block[]> {
    if (this.closed) return Promise.reject(new Error('the document parser is closed'));
    return new Promise<Block[]>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, bytes, type, resolve, reject });
      this.pump();
    });
  }

  /** Stops every worker; queued and running parses fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopWatchdog();
    for (const job of this.queue.splice(0)) job.reject(new Error('the document parser is closed'));
    await Promise.all(
      this.slots.map(async (slot) => {
        this.finish(slot)?.reject(new Error('the document parser is closed'));
        const worker = slot.worker;
        slot.worker = null;
        await worker?.terminate();
      }),
    );
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0 || this.closed) return;
      if (slot.job) continue;
      slot.job = this.queue.shift() ?? null;
      if (!slot.worker) this.spawn(slot);
      else if (slot.ready) this.send(slot);
    }
  }

  private spawn(slot: Slot): void {
    const worker = new Worker(this.opts.entry ?? ENTRY, { resourceLimits: { maxOldGenerationSizeMb: this.opts.memoryMb } });
    worker.unref();
    slot.worker = worker;
    slot.ready = false;
    const startup = setTimeout(() => this.stop(slot, worker, new Error('the document parser did not start')), STARTUP_MS);
    startup.unref();
    worker.on('message', (msg: ParseReply | 'ready') => {
      if (slot.worker !== worker) return;
      if (msg === 'ready') {
        clearTimeout(startup);
        slot.ready = true;
        if (slot.job) this.send(slot);
        return;
      }
      const job = slot.job?.id === msg.id ? this.finish(slot) : null;
      if (!job) return;
      if (msg.ok) job.resolve(msg.blocks);
      else {
        if (msg.failure === 'over_budget') this.opts.logger.warn({ type: job.type, bytes: job.bytes.length, reason: msg.reason }, 'document refused before parsing: over the parser budget');
        job.reject(failureError(msg.failure, msg.reason));
      }
      this.pump();
    });
    worker.on('error', (err: Error & { code?: string }) => {
      if (slot.worker !== worker) return;
      clearTimeout(startup);
      // Out of heap: the document's fault. An error before the worker was ready: the server's.
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') this.stop(slot, worker, failureError('over_budget', 'worker heap limit'), 'heap');
      else if (!slot.ready) this.stop(slot, worker, err);
      else this.stop(slot, worker, failureError('unreadable', err.message));
    });
    worker.on('exit', () => {
      clearTimeout(startup);
      if (slot.worker === worker) this.stop(slot, worker, failureError('unreadable', 'the parser exited'));
    });
  }

  private send(slot: Slot): void {
    const { job, worker } = slot;
    if (!job || !worker) return;
    // A copy, transferred: the caller's buffer may share memory (Buffer's pool) that must stay put.
    const bytes = new Uint8Array(job.bytes);
    slot.rssAtStart = process.memoryUsage.rss();
    slot.timer = setTimeout(() => this.stop(slot, worker, failureError('over_budget', 'time budget'), 'time'), this.opts.timeoutMs);
    worker.postMessage({ id: job.id, bytes, type: job.type } satisfies ParseRequest, [bytes.buffer]);
    this.startWatchdog();
  }

  /** Clears the slot's job and returns it. */
  private finish(slot: Slot): Job | null {
    const job = slot.job;
    slot.job = null;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    if (this.slots.every((s) => s.timer === null)) this.stopWatchdog();
    return job;
  }

  /** Terminates the slot's worker and fails its job with `err`; the next job gets a new worker. */
  private stop(slot: Slot, worker: Worker, err: Error, budget?: 'time' | 'heap' | 'rss'): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    slot.ready = false;
    const job = this.finish(slot);
    void worker.terminate();
    if (job) {
      if (budget) this.opts.logger.warn({ type: job.type, bytes: job.bytes.length, budget }, 'document parse stopped: over the parser budget');
      else if (!(err instanceof AppError)) this.opts.logger.error({ err }, 'the document parser failed');
      job.reject(err);
    }
    this.pump();
  }

  private startWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = setInterval(() => this.checkMemory(), WATCHDOG_MS);
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  /** Stops the running parses when the process grew by more than twice the heap limit per parse. */
  private checkMemory(): void {
    const running = this.slots.filter((s) => s.timer !== null);
    if (running.length === 0) return;
    const rss = process.memoryUsage.rss();
    const since = Math.min(...running.map((s) => s.rssAtStart));
    if (rss - since <= running.length * 2 * this.opts.memoryMb * 1024 * 1024) return;
    for (const slot of running) if (slot.worker) this.stop(slot, slot.worker, failureError('over_budget', 'process memory'), 'rss');
  }
}
