/** One operation over graphql-ws on a client of its own, for tests that compare every result. */
import WebSocket from 'ws';
import { createClient, type SubscribePayload } from 'graphql-ws';

/**
 * Every result graphql-ws delivers for `payload` on a fresh client of `base`'s /graphql (extra
 * payload fields such as `documentId` go as they are); an `error` message ends the list as
 * `{ error: <its errors> }`.
 */
export async function wsResults(base: string, payload: SubscribePayload & Record<string, unknown>, connectionParams: Record<string, string> = {}): Promise<unknown[]> {
  const client = createClient({ url: `${base.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0 });
  const out: unknown[] = [];
  try {
    for await (const result of client.iterate(payload)) out.push(result);
  } catch (err) {
    out.push({ error: err });
  } finally {
    await client.dispose();
  }
  return out;
}
