import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { GraphQLError } from 'graphql';
import { MessageType, stringifyMessage } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { EventResult, type Result } from './engine.ts';
import { nextFrameOf, nextWsFrameOf } from './ws-server.ts';

/** What graphql-ws's own `next` emission writes for `result` (server.ts: errors as toJSON(), after the rest). */
function graphqlWsFrame(id: string, result: Result): string {
  const { errors, ...rest } = result;
  return stringifyMessage({ id, type: MessageType.Next, payload: { ...rest, ...(errors ? { errors: errors.map((e) => e.toJSON()) } : {}) } });
}

describe('a subscription event serialised once for every subscriber', () => {
  const cases: [string, Result][] = [
    ['data', { data: { messageAdded: { id: 'm1', role: 'USER', content: 'héllo "quoted" \u2028 line' } } }],
    ['data and errors', { data: null, errors: [new GraphQLError('Not allowed', { path: ['messageAdded'], extensions: { code: 'FORBIDDEN', status: 403 } })] }],
    ['errors only', { errors: [new GraphQLError('Subscription source "chat" is unavailable', { extensions: { code: 'SERVICE_UNAVAILABLE', status: 503, serviceName: 'chat' } })] }],
  ];
  it.each(cases)('frames %s exactly as graphql-ws does, for each subscription id', (_, result) => {
    const event = new EventResult(result);
    for (const id of ['1', '0b4c6f1e-2f43-4c0e-9a55-7a2d2b8c9d10', 'id "with" quotes']) {
      expect(nextFrameOf(id)(event).toString('utf8')).toBe(graphqlWsFrame(id, result));
    }
    // Serialised once: the same bytes for every subscriber.
    expect(event.payloadBytes).toBe(event.payloadBytes);
  });
});

describe('a subscription event written as a whole WebSocket frame', () => {
  let server: Server;
  let wss: WebSocketServer;
  /** The raw TCP socket of the last upgraded connection, as the gateway writes to it. */
  let raw: Promise<Duplex>;

  beforeAll(async () => {
    wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    server = createServer();
    raw = new Promise((resolve) => server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, () => resolve(socket))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    wss.close();
    await new Promise((resolve) => server.close(resolve));
  });

  // Frame lengths on both sides of the 7-bit (125), 16-bit (65,535) limits of RFC 6455 §5.2.
  const sizes = [0, 60, 125 - 50, 200, 65_535 - 60, 70_000];
  it('is received by a WebSocket client as the graphql-ws message, at every length encoding', async () => {
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const received: string[] = [];
    client.on('message', (data: Buffer) => received.push(data.toString('utf8')));
    await new Promise((resolve) => client.once('open', resolve));
    const socket = await raw;
    const expected: string[] = [];
    for (const size of sizes) {
      const result: Result = { data: { messageAdded: { id: 'm1', content: 'é'.repeat(size / 2) + 'x'.repeat(size % 2) } } };
      const frame = nextWsFrameOf('7')(new EventResult(result));
      expected.push(graphqlWsFrame('7', result));
      socket.write(frame);
    }
    // A malformed frame makes the client fail the connection (1002) instead of delivering it.
    await new Promise<void>((resolve, reject) => {
      client.once('error', reject);
      client.once('close', (code) => reject(new Error(`closed with ${code} after ${received.length} messages`)));
      const check = () => (received.length === sizes.length ? resolve() : setTimeout(check, 10));
      check();
    });
    expect(received).toEqual(expected);
    // The lengths cover every encoding: 7-bit, 16-bit and 64-bit.
    expect(expected.map((m) => Buffer.byteLength(m)).some((n) => n <= 125)).toBe(true);
    expect(expected.map((m) => Buffer.byteLength(m)).some((n) => n > 125 && n < 65_536)).toBe(true);
    expect(expected.map((m) => Buffer.byteLength(m)).some((n) => n >= 65_536)).toBe(true);
    client.close();
  });
});
