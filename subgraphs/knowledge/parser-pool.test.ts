/**
 * The parser pool's budgets, with a stand-in worker (parser-pool.fake-worker.mjs) that misbehaves
 * on command: a parse that never ends, one that fills its heap, one that fills memory outside the
 * heap (as pdf.js does with decoded streams), one whose worker exits. Each is refused with the
 * registry's error, and the pool goes on with a fresh worker. Real documents: knowledge-bombs.e2e.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../kernel/errors.ts';
import { ParserPool, type ParserPoolOptions } from './parser-pool.ts';

const FAKE = new URL('./parser-pool.fake-worker.mjs', import.meta.url);
const pools: ParserPool[] = [];
/** The pool's log lines (which budget stopped a parse). */
let logs: Record<string, unknown>[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  logs = [];
});
const logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
const budgetsLogged = () => logs.map((l) => l.budget);

function pool(opts: Partial<ParserPoolOptions> = {}): ParserPool {
  const p = new ParserPool({ workers: 1, timeoutMs: 10_000, memoryMb: 64, logger, entry: FAKE, ...opts });
  pools.push(p);
  return p;
}

const parse = (p: ParserPool, text: string) => p.parse(Buffer.from(text), 'text/plain');

/** What a parse rejected with, as the registry renders it. */
async function failureOf(work: Promise<unknown>): Promise<{ code: string; extras: Record<string, unknown> }> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const { code, extras } = err as AppError;
  return { code, extras };
}

const UNREADABLE = { code: 'DOCUMENT_UNREADABLE', extras: {} };
const para = (text: string) => [{ kind: 'paragraph', level: 0, text }];

describe('ParserPool', () => {
  it('parses in a worker and reuses it', async () => {
    const p = pool();
    expect(await parse(p, 'one')).toEqual(para('one'));
    expect(await parse(p, 'two')).toEqual(para('two'));
  });

  it('maps too_large to 413 DOCUMENT_TOO_LARGE with max_chars', async () => {
    expect(await failureOf(parse(pool(), 'long'))).toEqual({ code: 'DOCUMENT_TOO_LARGE', extras: { max_chars: 5_000_000 } });
  });

  it('stops a parse past its time budget (DOCUMENT_UNREADABLE); the document queued behind it is parsed by a fresh worker', async () => {
    const p = pool({ timeoutMs: 300 });
    const started = Date.now();
    const [spin, next] = [parse(p, 'spin'), parse(p, 'after')];
    expect(await failureOf(spin)).toEqual(UNREADABLE);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(await next).toEqual(para('after'));
    expect(budgetsLogged()).toEqual(['time']);
  });

  it('stops a parse that fills its heap (DOCUMENT_UNREADABLE), then goes on', async () => {
    const p = pool({ memoryMb: 64 });
    expect(await failureOf(parse(p, 'heap'))).toEqual(UNREADABLE);
    expect(await parse(p, 'after')).toEqual(para('after'));
    expect(budgetsLogged()).toEqual(['heap']);
  });

  it('stops a parse that fills memory outside its heap (the resident-memory watchdog), then goes on', async () => {
    const p = pool({ memoryMb: 64 });
    expect(await failureOf(parse(p, 'buffers'))).toEqual(UNREADABLE);
    expect(await parse(p, 'after')).toEqual(para('after'));
    expect(budgetsLogged()).toEqual(['rss']);
  });

  it('a worker that exits mid-parse fails that document only', async () => {
    const p = pool();
    expect(await failureOf(parse(p, 'exit'))).toEqual(UNREADABLE);
    expect(await parse(p, 'after')).toEqual(para('after'));
  });

  it('runs as many parses at once as it has workers', async () => {
    const p = pool({ workers: 2, timeoutMs: 1_000 });
    const started = Date.now();
    // Two spins at once: both budgets run together, so both end after about one budget.
    const results = await Promise.all([failureOf(parse(p, 'spin')), failureOf(parse(p, 'spin')), parse(p, 'after')]);
    expect(results).toEqual([UNREADABLE, UNREADABLE, para('after')]);
    expect(budgetsLogged()).toEqual(['time', 'time']);
    expect(Date.now() - started).toBeLessThan(1_900 + 5_000);
  });

  it('close() fails the parses still queued or running', async () => {
    const p = pool();
    const outcome = (work: Promise<unknown>) => work.then(() => 'parsed', (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : 'not an Error'));
    const running = outcome(parse(p, 'spin'));
    const queued = outcome(parse(p, 'later'));
    await new Promise((r) => setTimeout(r, 200));
    await p.close();
    const closed = 'Error: the document parser is closed';
    expect(await Promise.all([running, queued, outcome(parse(p, 'after'))])).toEqual([closed, closed, closed]);
  });
});
