/**
 * Small OpenAI- and Anthropic-compatible HTTP servers for tests (the real provider code paths
 * run against them). They record every request body so tests can assert what was sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export interface FakeAi {
  url: string;
  requests: { path: string; headers: IncomingMessage['headers']; body: unknown }[];
  /** What the next requests get: streamed words, an HTTP error, or a hang (for timeouts). */
  mode: { kind: 'stream'; words: string[]; delayMs?: number } | { kind: 'status'; status: number } | { kind: 'hang' };
  close(): Promise<void>;
}

function sse(res: ServerResponse, events: { event?: string; data: string }[], delayMs = 0): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const frame = (e: { event?: string; data: string }) => `${e.event ? `event: ${e.event}\n` : ''}data: ${e.data}\n\n`;
  if (delayMs <= 0) {
    for (const e of events) res.write(frame(e));
    res.end();
    return;
  }
  // Paced like a real model (used by the streaming benchmark).
  let i = 0;
  const timer = setInterval(() => {
    const e = events[i++];
    if (!e || res.destroyed) {
      clearInterval(timer);
      res.end();
      return;
    }
    res.write(frame(e));
  }, delayMs);
}

const notStarted = (): FakeAi => ({ url: '', requests: [], mode: { kind: 'stream', words: ['Hello', ' from', ' the', ' model.'] }, close: async () => {} });

export async function startFakeAi(): Promise<FakeAi> {
  const fake = notStarted();
  await listen(fake);
  return fake;
}

/**
 * The fake AI of a test file: a `beforeAll` starts it, an `afterAll` closes it. Call it before
 * `useTestStack` when the stack's settings name its `url`: it then starts first and closes last.
 */
export function useFakeAi(): FakeAi {
  const fake = notStarted();
  beforeAll(() => listen(fake));
  afterAll(() => fake.close());
  return fake;
}

/** Serves the fake on a free loopback port, setting its `url` and `close`. */
async function listen(fake: FakeAi): Promise<void> {
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      fake.requests.push({ path: req.url ?? '', headers: req.headers, body: raw ? (JSON.parse(raw) as unknown) : null });
      const mode = fake.mode;
      if (mode.kind === 'hang') return; // never answers
      if (mode.kind === 'status') {
        res.writeHead(mode.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'boom' } }));
        return;
      }
      if (req.url?.endsWith('/chat/completions')) {
        sse(res, [
          ...mode.words.map((w) => ({ data: JSON.stringify({ choices: [{ index: 0, delta: { content: w } }] }) })),
          { data: JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) },
          { data: '[DONE]' },
        ], mode.delayMs);
      } else if (req.url?.endsWith('/v1/messages')) {
        sse(res, [
          { event: 'message_start', data: JSON.stringify({ type: 'message_start', message: { usage: { input_tokens: 3 } } }) },
          { event: 'content_block_start', data: JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) },
          ...mode.words.map((w) => ({ event: 'content_block_delta', data: JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } }) })),
          { event: 'message_delta', data: JSON.stringify({ type: 'message_delta', usage: { output_tokens: 4 } }) },
          { event: 'message_stop', data: JSON.stringify({ type: 'message_stop' }) },
        ], mode.delayMs);
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
