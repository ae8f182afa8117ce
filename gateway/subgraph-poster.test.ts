/** The subgraph poster (gateway/subgraph-poster.ts) against real HTTP servers, and how its network errors are classified. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyFailure } from './resilience.ts';
import { createConnectionPool, createSubgraphPoster } from './subgraph-poster.ts';

describe('the subgraph poster over real connections, and how classifyFailure reads its network errors', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('reads an answer that comes in many pieces, a character split between two, as the text sent: small, larger than its shared buffer, one after the other', async () => {
    // Pieces of 1,000 bytes: every 'é' (2 bytes) and '😀' (4 bytes) across a boundary somewhere.
    const texts = [`{"a":"${'é😀x'.repeat(30_000)}"}`, `{"b":"${'😀é'.repeat(200_000)}"}`, '{"c":"é"}'];
    const url = await listen((_req, res) => {
      const bytes = Buffer.from(texts[Number(_req.url?.slice(1))] ?? '', 'utf8');
      res.writeHead(200, { 'content-type': 'application/json' });
      let at = 0;
      const next = (): void => {
        if (at >= bytes.length) return void res.end();
        res.write(bytes.subarray(at, (at += 1_000)), next);
      };
      next();
    });
    const pool = createConnectionPool();
    const post = createSubgraphPoster(pool, 5_000);
    for (const i of [0, 1, 2, 0]) expect((await post(new URL(`${url}/${i}`), { headers: {}, body: '{}' })).text).toBe(texts[i]);
    await pool.close();
  });

  it('a refused connection is a retryable connection failure', async () => {
    const url = await listen(() => {});
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const pool = createConnectionPool();
    const err = await createSubgraphPoster(pool, 5_000)(new URL(url), { headers: {}, body: '{}' }).then(() => null, (e: unknown) => e);
    await pool.close();
    expect(classifyFailure(err)).toEqual({ reason: 'connection', retryable: true });
  });

  it('a subgraph that never answers is a timeout, not retried', async () => {
    const url = await listen(() => {}); // accepts, never responds
    const pool = createConnectionPool();
    const err = await createSubgraphPoster(pool, 100)(new URL(url), { headers: {}, body: '{}' }).then(() => null, (e: unknown) => e);
    await pool.destroy();
    expect(classifyFailure(err)).toEqual({ reason: 'timeout', retryable: false });
  });

  it('waits the deadline it sends plus the margin, not its default timeout', async () => {
    const url = await listen(() => {}); // accepts, never responds
    const pool = createConnectionPool();
    const post = createSubgraphPoster(pool, 50, 100);
    const started = performance.now();
    const err = await post(new URL(url), { body: '{}', headers: { 'x-xentree-deadline-ms': '400' } }).then(() => null, (e: unknown) => e);
    const waited = performance.now() - started;
    await pool.destroy();
    expect(classifyFailure(err)).toEqual({ reason: 'timeout', retryable: false });
    expect(waited).toBeGreaterThanOrEqual(400); // 400 + 100: far past the 50 ms default
  });

  it("stops at the caller's abort, with the caller's reason, and leaves no timer behind once answered", async () => {
    const url = await listen((req, res) => {
      if (req.url === '/answer') res.setHeader('content-type', 'application/json').end('{"data":{}}');
    }); // /hang: accepts, never responds
    const pool = createConnectionPool();
    const post = createSubgraphPoster(pool, 60_000);
    const caller = new AbortController();
    const pending = post(new URL(`${url}/hang`), { headers: {}, body: '{}', signal: caller.signal }).then(() => null, (e: unknown) => e);
    const reason = new Error('the client went away');
    setTimeout(() => caller.abort(reason), 50);
    expect(await pending).toBe(reason);
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const answered = await post(new URL(`${url}/answer`), { headers: {}, body: '{}' });
    expect([answered.status, answered.text, timers()]).toEqual([200, '{"data":{}}', before]);
    await pool.destroy();
  });

  it('reuses keep-alive connections for consecutive calls', async () => {
    const peers = new Set<number>();
    const url = await listen((req, res) => {
      peers.add(req.socket.remotePort ?? 0);
      res.setHeader('content-type', 'application/json');
      res.end('{"data":{}}');
    });
    const pool = createConnectionPool();
    const post = createSubgraphPoster(pool, 5_000);
    for (let i = 0; i < 10; i++) {
      const res = await post(new URL(url), { headers: {}, body: '{}' });
      expect([res.status, res.contentType, res.text]).toEqual([200, 'application/json', '{"data":{}}']);
    }
    await pool.close();
    // Without keep-alive every call would open its own connection.
    expect(peers.size).toBeLessThan(10);
  });

  it('reads an answer sent in pieces whole, a character split between them included, and its content type in any case', async () => {
    const url = await listen((_req, res) => {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      const bytes = Buffer.from('{"data":{"name":"Zoë ✓"}}', 'utf8');
      // Chunked, with the two bytes of "ë" in two writes.
      const split = bytes.indexOf(0xc3) + 1;
      res.write(bytes.subarray(0, split));
      setTimeout(() => res.end(bytes.subarray(split)), 10);
    });
    const pool = createConnectionPool();
    const res = await createSubgraphPoster(pool, 5_000)(new URL(url), { headers: {}, body: '{}' });
    await pool.close();
    expect(res).toEqual({ status: 200, contentType: 'application/json; charset=utf-8', text: '{"data":{"name":"Zoë ✓"}}' });
  });

  it('rejects at once with the reason of a signal aborted before the call, sending nothing', async () => {
    let received = 0;
    const url = await listen((_req, res) => {
      received += 1;
      res.end('{}');
    });
    const pool = createConnectionPool();
    const reason = new Error('the client went away');
    const controller = new AbortController();
    controller.abort(reason);
    const err = await createSubgraphPoster(pool, 5_000)(new URL(url), { headers: {}, body: '{}', signal: controller.signal }).then(() => null, (e: unknown) => e);
    await pool.close();
    expect(err).toBe(reason);
    expect(received).toBe(0);
  });
});
