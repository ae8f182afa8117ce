/**
 * Server-Sent Events for REST streaming (CONV-2 streaming extension): each GraphQL
 * subscription result becomes one `event:`/`id:`/`data:` frame; comment pings keep idle
 * connections open; a client that goes away releases the subscription at once.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ExecutionResult } from 'graphql';

export interface SseFrame {
  event: string;
  id: string | number;
  data: unknown;
}

/**
 * Streams `results` as SSE. `frameOf` maps a result to a frame (null skips it). The response is
 * 200 `text/event-stream` with `Cache-Control: no-cache`; the iterator is returned when the client
 * disconnects or the stream ends.
 */
export async function sendSse(
  req: FastifyRequest,
  reply: FastifyReply,
  first: ExecutionResult | null,
  results: AsyncIterator<ExecutionResult>,
  frameOf: (result: ExecutionResult) => SseFrame | null,
  pingMs = 15_000,
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': req.id,
  });
  // The status line and headers go now, not with the first event (which may be a while).
  res.flushHeaders();
  let open = true;
  const stop = () => {
    if (!open) return;
    open = false;
    clearInterval(ping);
    void results.return?.();
  };
  const ping = setInterval(() => {
    if (open) res.write(': ping\n\n');
  }, pingMs);
  req.raw.on('close', stop);
  const write = (result: ExecutionResult) => {
    const frame = frameOf(result);
    if (frame && open) res.write(`event: ${frame.event}\nid: ${frame.id}\ndata: ${JSON.stringify(frame.data)}\n\n`);
  };
  try {
    if (first) write(first);
    while (open) {
      const next = await results.next();
      if (next.done) break;
      write(next.value);
    }
  } finally {
    stop();
    res.end();
  }
}
