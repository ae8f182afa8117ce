/**
 * Fixtures of the streaming suites (CONV-2 streaming extension, CONV-2S): raw SSE over
 * `fetch` (read incrementally, so a test can drop the connection after a few events), graphql-ws
 * clients on the gateway, and the REST reads the suites assert against. Every helper takes a
 * gateway base URL so the multi-process suite can use them too.
 */
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import type { MessageBody } from './chat-fixtures.ts';

export interface SseEvent {
  event: string;
  id: string;
  data: unknown;
}

/** One SSE frame's text (without its blank line) → an event, or null for comment-only frames. */
function parseFrame(frame: string, comments: string[]): SseEvent | null {
  let event = 'message';
  let id = '';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) comments.push(line);
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
    else throw new Error(`unexpected SSE line: ${JSON.stringify(line)}`);
  }
  return data.length > 0 ? { event, id, data: JSON.parse(data.join('\n')) as unknown } : null;
}

/** A whole SSE body → its events (and comment lines). Fails on anything that is not SSE. */
export function parseSse(text: string): { events: SseEvent[]; comments: string[] } {
  const comments: string[] = [];
  if (text !== '' && !text.endsWith('\n\n')) throw new Error(`SSE body does not end with a blank line: ${JSON.stringify(text.slice(-80))}`);
  const events = text
    .split('\n\n')
    .filter((f) => f !== '')
    .map((f) => parseFrame(f, comments))
    .filter((e): e is SseEvent => e !== null);
  return { events, comments };
}

/** An SSE response read frame by frame; `abort()` drops the connection. */
export class SseReader {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly seen: SseEvent[] = [];

  constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {
    if (!response.body) throw new Error('response has no body');
    this.reader = response.body.getReader();
  }

  /** The next event, or null when the server ended the stream. */
  async next(): Promise<SseEvent | null> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const frame = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event = parseFrame(frame, []);
        if (event) {
          this.seen.push(event);
          return event;
        }
        continue;
      }
      const { value, done } = await this.reader.read();
      if (done) {
        if (this.buffer !== '') throw new Error(`SSE stream ended mid-frame: ${JSON.stringify(this.buffer)}`);
        return null;
      }
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** Every remaining event until the server ends the stream. */
  async rest(): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    for (let e = await this.next(); e; e = await this.next()) out.push(e);
    return out;
  }

  /** Drops the connection (the server sees the client go away). */
  abort(): void {
    this.controller.abort();
  }
}

/** Opens an SSE request; fails with the body when the answer is not a 200 event stream. */
export async function openSse(base: string, method: 'GET' | 'POST', path: string, token: string, opts: { json?: unknown; headers?: Record<string, string> } = {}): Promise<SseReader> {
  const controller = new AbortController();
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(opts.json !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    body: opts.json !== undefined ? JSON.stringify(opts.json) : undefined,
    signal: controller.signal,
  });
  if (res.status !== 200 || res.headers.get('content-type') !== 'text/event-stream; charset=utf-8') {
    throw new Error(`expected an event stream, got ${res.status} ${res.headers.get('content-type') ?? ''}: ${await res.text()}`);
  }
  return new SseReader(res, controller);
}

/** A REST call against a gateway (status, headers, parsed body), failing after `timeoutMs`. */
export async function restCall(
  base: string,
  method: string,
  path: string,
  token: string,
  json?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(json !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: json !== undefined ? JSON.stringify(json) : undefined,
    // A request that never ends fails the test instead of hanging it.
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // not JSON (an event stream, for instance): keep the text
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** CONV-6: every message of a conversation (oldest first). */
export async function messagesOf(base: string, token: string, conversationId: string): Promise<MessageBody[]> {
  const res = await restCall(base, 'GET', `/api/core/conversations/${conversationId}/messages?limit=100`, token);
  if (res.status !== 200) throw new Error(`CONV-6 failed: ${res.status} ${res.text}`);
  return (res.body as { items: MessageBody[] }).items;
}

/** A graphql-ws client on the gateway's /graphql, authenticated with a bearer token (or other params). */
export function wsClient(base: string, token: string, connectionParams: Record<string, string> = { authorization: `Bearer ${token}` }): Client {
  return createClient({ url: `${base.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

/** Every result of a subscription until it completes (a thrown protocol error ends the list). */
export async function collect(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<unknown[]> {
  const out: unknown[] = [];
  try {
    for await (const result of client.iterate({ query, variables })) out.push(result);
  } catch (err) {
    out.push({ thrown: err });
  }
  return out;
}

/** Waits until `check` holds (polling), failing after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The first result of a subscription that has no acknowledgement: `probe` (which publishes
 * something the subscription passes on) runs until that first result arrives.
 */
export async function firstWhileProbing<T>(watcher: AsyncIterator<T>, probe: () => Promise<void>): Promise<IteratorResult<T>> {
  const first = watcher.next();
  let received = false;
  void first.then(() => (received = true));
  await until(async () => {
    if (!received) await probe();
    return received;
  });
  return first;
}

/** The `start`, `chunk`… and `done` ids of a complete stream with `chunks` chunks. */
export const streamIds = (chunks: number): string[] => Array.from({ length: chunks + 2 }, (_, i) => String(i));

/** The concatenated `delta`s of chunk events. */
export const deltas = (events: readonly SseEvent[]): string =>
  events
    .filter((e) => e.event === 'chunk')
    .map((e) => (e.data as { delta: string }).delta)
    .join('');
