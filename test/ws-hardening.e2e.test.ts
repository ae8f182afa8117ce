/**
 * graphql-ws holds every limit HTTP holds: fragment bombs are refused on both
 * transports, frames larger than the HTTP body limit close the socket before authentication,
 * operations over a socket count against the same rate-limit counters as HTTP and REST, and a
 * socket whose session is logged out or whose API key is deleted is closed with 4403 — on the
 * replica that handled the revocation and on another one (a second gateway on its own PubSub
 * connection: Redis in the services suite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { createGateway, type StartedGateway } from '../gateway/server.ts';
import { restCompat } from '../rest-compat/plugin.ts';
import { createLogger } from '../kernel/logger.ts';
import { createPubSub, type PubSub } from '../kernel/pubsub.ts';
import { bearer, registerAndLogin, SERVICES, startTestStack, type TestStack, useTestStack } from './harness.ts';
import { apiKey, createKey, orgWith } from './org-fixtures.ts';

const wsUrlOf = (base: string): string => `${base.replace(/^http/, 'ws')}/graphql`;

/** A graphql-ws client that records how its socket closed. */
function socket(base: string, connectionParams: Record<string, string>): { client: Client; closed: Promise<number> } {
  let resolveClosed: (code: number) => void = () => {};
  const closed = new Promise<number>((r) => (resolveClosed = r));
  const client = createClient({
    url: wsUrlOf(base),
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: false,
    on: { closed: (event) => resolveClosed((event as { code: number }).code) },
  });
  return { client, closed };
}

/** The single result (or the error list) of one operation over `client`. */
async function once(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<unknown> {
  const out: unknown[] = [];
  try {
    for await (const result of client.iterate({ query, variables })) out.push(result);
  } catch (err) {
    return err;
  }
  return out.length === 1 ? out[0] : out;
}

function fragmentBomb(levels: number): string {
  let q = '{ ...F0 } ';
  for (let i = 0; i < levels; i++) q += `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} } `;
  return `${q}fragment F${levels} on Query { me { id } }`;
}

const BOMB_ERRORS = [
  { message: 'The operation selects 1099511627776 root fields; at most 20 are allowed.', locations: [{ line: 1, column: 1 }], extensions: { code: 'TOO_MANY_ROOT_FIELDS', status: 400 } },
  { message: 'The operation has an estimated cost of 2199023255552; at most 5000 is allowed.', locations: [{ line: 1, column: 1 }], extensions: { code: 'QUERY_TOO_COMPLEX', status: 400 } },
];

describe('limits and revocation on graphql-ws', () => {
  let t: TestStack;
  let replica: StartedGateway;
  let replicaPubSub: PubSub | null = null;
  beforeAll(async () => {
    t = await startTestStack();
    // Another gateway replica. With Redis it listens on its own connection, as a separate process would.
    replicaPubSub = SERVICES ? createPubSub(t.config.redisUrl) : null;
    replica = await createGateway({
      config: t.config,
      logger: createLogger('silent'),
      pubsub: replicaPubSub ?? t.stack.pubsub,
      port: 0,
      host: '127.0.0.1',
      subgraphUrls: Object.fromEntries(t.stack.subgraphs.map((s) => [s.name, s.url])),
      plugins: [restCompat()],
    });
  });
  afterAll(async () => {
    await replica?.close();
    await replicaPubSub?.close();
    await t?.close();
  });

  it('refuses a 40-level fragment bomb with 400 over HTTP and with the same errors over WebSocket', async () => {
    const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: fragmentBomb(40) }) });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: { errors: BOMB_ERRORS } });
    const { client } = socket(t.url, {});
    expect(await once(client, fragmentBomb(40))).toEqual([expect.objectContaining(BOMB_ERRORS[0]), expect.objectContaining(BOMB_ERRORS[1])]);
    await client.dispose();
  });

  it('closes a socket whose first frame is larger than the HTTP body limit (1009), before authentication', async () => {
    const ws = new WebSocket(wsUrlOf(t.url), 'graphql-transport-ws');
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(t.config.bodyLimitBytes) } }));
    expect(await closed).toBe(1009);
    // A frame within the limit is fine.
    const ok = new WebSocket(wsUrlOf(t.url), 'graphql-transport-ws');
    await new Promise((r) => ok.once('open', r));
    const ack = new Promise<string>((r) => ok.once('message', (m) => r(String(m))));
    ok.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(1024) } }));
    expect(JSON.parse(await ack)).toEqual({ type: 'connection_ack' });
    ok.close();
  });

  it('closes a bearer socket with 4403 when its session logs out, on this replica and on another', async () => {
    const u = await registerAndLogin(t, 'wslogout');
    const here = socket(t.url, bearer(u.access));
    const there = socket(replica.url, bearer(u.access));
    const me = { data: { me: { id: u.id } } };
    expect(await once(here.client, '{ me { id } }')).toEqual(me);
    expect(await once(there.client, '{ me { id } }')).toEqual(me);
    const out = await t.rest('POST', '/api/auth/logout', { json: { refresh_token: u.refresh }, headers: bearer(u.access) });
    expect(out.status).toBe(200);
    expect(await here.closed).toBe(4403);
    expect(await there.closed).toBe(4403);
    // A new socket with the revoked token is refused at connection_init.
    const again = socket(replica.url, bearer(u.access));
    expect(await again.closed).toBe(4403);
  });

  it('closes an API-key socket with 4403 when the key is deleted, on this replica and on another', async () => {
    const { org, owner } = await orgWith(t, {});
    const k = await createKey(t, owner, org.id, ['organizations:read']);
    const here = socket(t.url, apiKey(k.key));
    const there = socket(replica.url, apiKey(k.key));
    const orgs = { data: { organizations: [expect.objectContaining({ id: org.id })] } };
    expect(await once(here.client, '{ organizations { id } }')).toEqual(orgs);
    expect(await once(there.client, '{ organizations { id } }')).toEqual(orgs);
    expect((await t.rest('DELETE', `/api/api-keys/${k.id}`, { headers: bearer(owner.access) })).status).toBe(204);
    expect(await here.closed).toBe(4403);
    expect(await there.closed).toBe(4403);
  });
});

describe('rate limits on graphql-ws share the HTTP and REST counters', () => {
  // Day-long windows: a test never straddles a window boundary. 8 `auth` hits: 4 for the two
  // users of the first test, 2 for the third's, 2 guesses.
  const t = useTestStack({ env: { RATE_LIMIT_AUTH: '8/86400', RATE_LIMIT_DEFAULT: '4/86400' } });

  const tooMany = [{ message: 'Too many requests', extensions: { code: 'RATE_LIMITED', status: 429, retryAfter: expect.any(Number) } }];

  it('counts a user’s operations per principal over WebSocket, then GraphQL over HTTP is refused too', async () => {
    const u = await registerAndLogin(t, 'wsrlu');
    const other = await registerAndLogin(t, 'wsrlo');
    const { client } = socket(t.url, bearer(u.access));
    for (let i = 0; i < 4; i++) expect(await once(client, '{ me { id } }')).toEqual({ data: { me: { id: u.id } } });
    expect(await once(client, '{ me { id } }')).toEqual(tooMany);
    const http = await t.gql('{ me { id } }', {}, bearer(u.access));
    expect({ status: http.status, code: http.body.errors?.[0]?.extensions?.code }).toEqual({ status: 429, code: 'RATE_LIMITED' });
    // Another user is not affected.
    const otherSocket = socket(t.url, bearer(other.access));
    expect(await once(otherSocket.client, '{ me { id } }')).toEqual({ data: { me: { id: other.id } } });
    await client.dispose();
    await otherSocket.client.dispose();
  });

  it('counts anonymous login guesses per IP over one socket, then REST login is refused too', async () => {
    const u = await registerAndLogin(t, 'wsrl');
    const { client } = socket(t.url, {});
    const login = `mutation { login(input: { username: "${u.user.username}", password: "wrong-password-1" }) { accessToken } }`;
    const wrong = { data: null, errors: [expect.objectContaining({ message: 'Incorrect username or password', extensions: expect.objectContaining({ code: 'INVALID_CREDENTIALS' }) })] };
    for (let i = 0; i < 2; i++) expect(await once(client, login)).toEqual(wrong);
    const refused = (await once(client, login)) as { extensions?: { retryAfter?: number } }[];
    expect(refused).toEqual(tooMany);
    expect(refused[0]?.extensions?.retryAfter).toBeGreaterThanOrEqual(1);
    expect(refused[0]?.extensions?.retryAfter).toBeLessThanOrEqual(86_400);
    const rest = await t.rest('POST', '/api/auth/login', { json: { username: u.user.username, password: u.user.password } });
    expect(rest.status).toBe(429);
    expect(rest.headers.get('retry-after')).toBe(String(refused[0]?.extensions?.retryAfter));
    await client.dispose();
  });
});
