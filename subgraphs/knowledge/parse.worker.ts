/**
 * The parser worker's body: one message in (`ParseRequest`), one out (`ParseReply`), for as many
 * documents as the pool sends it. Started by parse.worker.mjs; see parser-pool.ts.
 */
import { parentPort } from 'node:worker_threads';
import { OverBudget } from './inflate-guard.ts';
import { parseDocument, TextTooLong, type Block, type ParsedType } from './parse.ts';

export interface ParseRequest {
  id: number;
  bytes: Uint8Array;
  type: ParsedType;
}

/** `over_budget`: a decompression bomb; `unreadable`: not a readable file of its type. */
export type ParseFailure = 'too_large' | 'over_budget' | 'unreadable';

export type ParseReply = { id: number; ok: true; blocks: Block[] } | { id: number; ok: false; failure: ParseFailure; reason: string };

const port = parentPort;
if (port) {
  port.on('message', (req: ParseRequest) => {
    parseDocument(req.bytes, req.type).then(
      (blocks) => port.postMessage({ id: req.id, ok: true, blocks } satisfies ParseReply),
      (err: unknown) => {
        const failure: ParseFailure = err instanceof TextTooLong ? 'too_large' : err instanceof OverBudget ? 'over_budget' : 'unreadable';
        const reason = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : 'unknown error';
        port.postMessage({ id: req.id, ok: false, failure, reason } satisfies ParseReply);
      },
    );
  });
  port.postMessage('ready');
}
