/**
 * OpenTelemetry traces end to end (issue 18, item 1), with the SDK's in-memory exporter: one
 * cross-subgraph query sent with a client `traceparent` is one trace with the client's trace id:
 * the gateway's request span (named after the operation), @apollo/gateway's plan/execute/fetch
 * spans, a client span per subgraph fetch with the subgraph's name, each subgraph's server span as
 * its child with parse/validate/execute, the tRPC call between subgraphs, and the SQL statements
 * (literals replaced, never the values). And one `chat` mutation whose reply reaches a subscriber on
 * another replica (a second chat subgraph and gateway on the shared PubSub) is one trace holding the
 * tRPC calls, SQL, the AI provider call, the PubSub publish spans, under and linked to each the
 * delivery span, and under that replica B's gateway processing the event (with its own fetch).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { bearer, SERVICES, startTestStack, type TestStack } from './harness.ts';
import { account, addMember, createOrg, person } from './org-fixtures.ts';
import { createConversation } from './chat-fixtures.ts';
import { firstWhileProbing, wsClient } from './chat-stream-fixtures.ts';
import { createLogger } from '../kernel/logger.ts';
import { createPubSub, type PubSub } from '../kernel/pubsub.ts';
import type { StartedSubgraph } from '../kernel/server.ts';
import { createGateway, type StartedGateway } from '../gateway/server.ts';
import { restCompat } from '../rest-compat/plugin.ts';
import { SUBGRAPHS } from '../subgraphs/index.ts';
import { messageChannel } from '../subgraphs/chat/message.events.ts';
import { ancestorsOf, clientTraceparent, parentIdOf, SpanKind, spansOf, startMemoryTracing, waitForSpans, wholeTrace, type ReadableSpan } from './trace-fixtures.ts';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { tracer, type Tracing } from '../kernel/telemetry.ts';
import { createInternalClient } from '../kernel/trpc.ts';
import type { IdentityRouter } from '../subgraphs/identity/router.ts';

let t: TestStack;
let exporter: InMemorySpanExporter;
let tracing: Tracing;
const logLines: string[] = [];

beforeAll(async () => {
  ({ exporter, tracing } = await startMemoryTracing());
  t = await startTestStack({ env: { LOG_LEVEL: 'info' }, logStream: { write: (line) => void logLines.push(line) } });
});
afterAll(async () => {
  await t?.close();
  await tracing?.shutdown();
});

const QUERY = `query OrgMembers($id: ID!) {
  organization(id: $id) { id name members(limit: 10) { total items { username email role user { id username } } } }
}`;

const attr = (span: ReadableSpan, name: string): unknown => span.attributes[name];
const named = (spans: readonly ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const sqlText = (span: ReadableSpan) => String(attr(span, 'db.statement') ?? attr(span, 'db.query.text') ?? '');

describe('a cross-subgraph query with a client traceparent', () => {
  it('is one trace from the gateway request to the SQL statements, with correct parents', async () => {
    const owner = await person(t, 'tracer');
    const other = await account(t, 'traced');
    const org = await createOrg(t, owner);
    await addMember(t, org.id, owner, other.id, 'member');

    const client = clientTraceparent();
    const res = await t.gql(QUERY, { id: org.id }, { ...bearer(owner.access), traceparent: client.header });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();

    const gatewaySpan = await waitForSpans(() => spansOf(exporter, client.traceId).find((s) => s.kind === SpanKind.SERVER && attr(s, 'http.route') === '/graphql' && !attr(s, 'xentree.subgraph')), 'gateway request span');
    // Subgraph server spans end as their replies close; wait until both subgraphs' have.
    await waitForSpans(() => (spansOf(exporter, client.traceId).filter((s) => s.kind === SpanKind.SERVER && attr(s, 'xentree.subgraph')).length >= 2 ? true : undefined), 'subgraph server spans');
    const spans = spansOf(exporter, client.traceId);

    // The gateway continues the client's span and names its span after the operation.
    expect(parentIdOf(gatewaySpan)).toBe(client.spanId);
    // Its log line names the trace.
    const logged = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request' && l.requestId === res.headers.get('x-request-id'));
    expect(logged).toEqual([expect.objectContaining({ path: '/graphql', status: 200, traceId: client.traceId })]);
    expect(gatewaySpan.name).toBe('query OrgMembers');
    expect(gatewaySpan.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/graphql', 'http.response.status_code': 200, 'graphql.operation.name': 'OrgMembers', 'graphql.operation.type': 'query' });
    for (const phase of ['graphql.parse', 'graphql.validate', 'gateway.request']) {
      expect(named(spans, phase).filter((s) => parentIdOf(s) === idOf(gatewaySpan)), phase).toHaveLength(1);
    }
    const [request] = named(spans, 'gateway.request');
    if (!request) throw new Error('no gateway.request span');
    expect(named(spans, 'gateway.plan').map(parentIdOf)).toEqual([idOf(request)]);
    const [execute] = named(spans, 'gateway.execute');
    if (!execute) throw new Error('no gateway.execute span');
    expect(parentIdOf(execute)).toBe(idOf(request));

    // One fetch per subgraph of the plan, each with a client span naming the subgraph, and the
    // subgraph's server span under it.
    for (const subgraph of ['orgs', 'identity']) {
      const fetch = named(spans, 'gateway.fetch').find((s) => attr(s, 'service') === subgraph);
      if (!fetch) throw new Error(`no gateway.fetch span for ${subgraph}`);
      expect(ancestorsOf(fetch, spans).map((s) => s.name)).toContain('gateway.execute');
      const calls = spans.filter((s) => s.name === `subgraph ${subgraph}` && parentIdOf(s) === idOf(fetch));
      expect(calls, `subgraph ${subgraph}`).toHaveLength(1);
      const [call] = calls;
      if (!call) throw new Error('unreachable');
      expect(call.kind).toBe(SpanKind.CLIENT);
      expect(call.attributes).toMatchObject({ 'xentree.subgraph': subgraph, 'http.request.method': 'POST' });
      const servers = spans.filter((s) => s.kind === SpanKind.SERVER && parentIdOf(s) === idOf(call));
      expect(servers, `${subgraph} server span`).toHaveLength(1);
      const [server] = servers;
      if (!server) throw new Error('unreachable');
      expect(server.attributes).toMatchObject({ 'xentree.subgraph': subgraph, 'http.route': '/graphql', 'http.response.status_code': 200, 'graphql.operation.type': 'query' });
      for (const phase of ['graphql.parse', 'graphql.validate', 'graphql.execute']) {
        expect(named(spans, phase).filter((s) => parentIdOf(s) === idOf(server)), `${subgraph} ${phase}`).toHaveLength(1);
      }
      // Its SQL statements are in the trace, under its server span.
      const sql = spans.filter((s) => attr(s, 'db.system') === 'postgresql' || attr(s, 'db.system.name') === 'postgresql');
      const own = sql.filter((s) => ancestorsOf(s, spans).includes(server));
      expect(own.length, `${subgraph} SQL spans`).toBeGreaterThan(0);
    }

    // orgs asks identity for the members' profiles over tRPC: a client span, the procedure's span
    // under it, and identity's SQL under that.
    const orgsServer = spans.find((s) => s.kind === SpanKind.SERVER && attr(s, 'xentree.subgraph') === 'orgs');
    const trpcCall = spans.find((s) => s.name === 'trpc identity.usersByIds');
    if (!trpcCall || !orgsServer) throw new Error(`no tRPC span: ${spans.map((s) => s.name).join(', ')}`);
    expect(trpcCall.kind).toBe(SpanKind.CLIENT);
    expect(ancestorsOf(trpcCall, spans)).toContain(orgsServer);
    const procedure = spans.find((s) => s.name === 'trpc.procedure usersByIds');
    if (!procedure) throw new Error('no tRPC procedure span');
    expect(ancestorsOf(procedure, spans)).toContain(trpcCall);
    expect(spans.some((s) => sqlText(s) !== '' && ancestorsOf(s, spans).includes(procedure))).toBe(true);

    // Every span of the request is in this one trace: each one's parent is in it, or is the client's.
    // Work the request started may still run after its answer (the chat's learning award): once
    // it has ended, every span's parent is in the trace, or is the client's.
    expect((await wholeTrace(exporter, client)).length).toBeGreaterThanOrEqual(spans.length);

    // SQL spans carry statements with placeholders, never the values (ids, emails).
    const statements = spans.map(sqlText).filter((s) => s !== '');
    expect(statements.some((s) => /= (\?|\$1)/.test(s))).toBe(true);
    for (const statement of statements) {
      for (const value of [org.id, owner.id, other.id, owner.email, other.email]) expect(statement).not.toContain(value);
    }
  });
});

describe('a REST request and health probes', () => {
  it('names a REST request after its route, and traces a probe only when its caller does', async () => {
    const owner = await person(t, 'tracer_rest');
    const client = clientTraceparent();
    const me = await t.rest('GET', '/api/auth/me', { headers: { ...bearer(owner.access), traceparent: client.header } });
    expect(me.status).toBe(200);
    const span = await waitForSpans(() => spansOf(exporter, client.traceId).find((s) => s.kind === SpanKind.SERVER && !attr(s, 'xentree.subgraph')), 'REST request span');
    expect(span.name).toBe('GET /api/auth/me');
    expect(span.attributes).toMatchObject({ 'http.route': '/api/auth/me', 'http.response.status_code': 200 });
    expect(parentIdOf(span)).toBe(client.spanId);

    const before = exporter.getFinishedSpans().length;
    expect((await t.rest('GET', '/api/health')).status).toBe(200);
    const probe = clientTraceparent();
    expect((await t.rest('GET', '/api/health', { headers: { traceparent: probe.header } })).status).toBe(200);
    await waitForSpans(() => spansOf(exporter, probe.traceId).find((s) => s.name === 'GET /api/health'), 'traced probe span');
    const probes = exporter.getFinishedSpans().slice(before).filter((s) => attr(s, 'url.path') === '/api/health');
    expect(probes.map((s) => s.spanContext().traceId)).toEqual([probe.traceId]);
  });
});

describe('a tRPC call over HTTP', () => {
  it('sends its traceparent in the batch, which the called subgraph continues', async () => {
    const owner = await person(t, 'tracer_trpc');
    // A target name no router is registered under in this process: the call goes over HTTP.
    const identity = createInternalClient<IdentityRouter>({ target: 'identity-remote', baseUrl: t.subgraphUrl('identity'), caller: 'tracing-test', secret: t.config.internalServiceKey, timeoutMs: 5_000, maxBatch: 10 });
    const users = await tracer().startActiveSpan('caller', async (root) => {
      try {
        return await identity.usersByIds.query({ ids: [owner.id] });
      } finally {
        root.end();
      }
    });
    expect(users.map((u) => u?.id)).toEqual([owner.id]);
    const call = await waitForSpans(() => exporter.getFinishedSpans().find((s) => s.name === 'trpc identity-remote.usersByIds'), 'tRPC client span');
    const spans = await wholeTrace(exporter, { traceId: call.spanContext().traceId, spanId: '' });
    const server = spans.find((s) => s.kind === SpanKind.SERVER && parentIdOf(s) === idOf(call));
    expect(server?.name).toBe('GET /trpc/:path');
    expect(server?.attributes).toMatchObject({ 'xentree.subgraph': 'identity', 'http.response.status_code': 200 });
    const procedure = spans.find((s) => s.name === 'trpc.procedure usersByIds');
    expect(procedure && ancestorsOf(procedure, spans)).toContain(server);
    expect(spans.some((s) => sqlText(s) !== '' && procedure !== undefined && ancestorsOf(s, spans).includes(procedure))).toBe(true);
  });
});

describe('a query over the gateway WebSocket', () => {
  it('is a trace of its own, from its request span down to the subgraph', async () => {
    const owner = await person(t, 'tracer_ws');
    const socket = wsClient(t.url, owner.access);
    try {
      const results: unknown[] = [];
      for await (const r of socket.iterate({ query: 'query WsMe { me { id } }' })) results.push(r);
      expect(results).toEqual([{ data: { me: { id: owner.id } } }]);
    } finally {
      await socket.dispose();
    }
    const span = await waitForSpans(() => exporter.getFinishedSpans().find((s) => s.name === 'query WsMe'), 'WebSocket operation span');
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.attributes).toMatchObject({ 'graphql.operation.name': 'WsMe', 'graphql.operation.type': 'query', 'network.protocol.name': 'websocket' });
    expect(parentIdOf(span)).toBeUndefined();
    const spans = await waitForSpans(() => {
      const all = spansOf(exporter, span.spanContext().traceId);
      return all.some((s) => s.kind === SpanKind.SERVER && attr(s, 'xentree.subgraph') === 'identity') ? all : undefined;
    }, 'identity server span');
    expect(named(spans, 'gateway.request').map(parentIdOf)).toEqual([idOf(span)]);
    const identity = spans.find((s) => s.kind === SpanKind.SERVER && attr(s, 'xentree.subgraph') === 'identity');
    expect(identity && ancestorsOf(identity, spans)).toContain(span);
  });
});

describe('a subscription opened over the gateway WebSocket', () => {
  it('is a span of its own, named after the operation, with no parent', async () => {
    const owner = await person(t, 'tracer_sub');
    const socket = wsClient(t.url, owner.access);
    try {
      const events = socket.iterate({ query: 'subscription WatchLive { liveEvents { type } }' });
      const span = await waitForSpans(() => exporter.getFinishedSpans().find((s) => s.name === 'subscription WatchLive'), 'subscription span');
      expect(span.kind).toBe(SpanKind.SERVER);
      expect(span.attributes).toMatchObject({ 'graphql.operation.name': 'WatchLive', 'graphql.operation.type': 'subscription', 'network.protocol.name': 'websocket' });
      expect(parentIdOf(span)).toBeUndefined();
      await events.return?.();
    } finally {
      await socket.dispose();
    }
  });
});

describe('a chat mutation whose reply reaches a subscriber on another replica', () => {
  let chatB: StartedSubgraph | undefined;
  let gatewayB: StartedGateway | undefined;
  let watcherClient: Client | undefined;
  let pubsubB: PubSub | null = null;
  beforeAll(async () => {
    // Replica B: its own chat subgraph and gateway, sharing the database and the PubSub (with
    // Redis, through connections of its own, as a separate process would).
    const logger = createLogger('silent');
    const chat = SUBGRAPHS.find((s) => s.name === 'chat');
    if (!chat) throw new Error('no chat subgraph');
    pubsubB = SERVICES ? createPubSub(t.config.redisUrl) : null;
    const pubsub = pubsubB ?? t.stack.pubsub;
    chatB = await chat.start({ config: t.config, port: 0, host: '127.0.0.1', pubsub, logger });
    const urls = { ...Object.fromEntries(t.stack.subgraphs.map((s) => [s.name, s.url])), chat: chatB.url };
    gatewayB = await createGateway({ config: t.config, logger, pubsub, port: 0, host: '127.0.0.1', subgraphUrls: urls, plugins: [restCompat()] });
  });
  afterAll(async () => {
    await watcherClient?.dispose();
    await gatewayB?.close();
    await chatB?.close();
    await pubsubB?.close();
  });

  it('is one trace from the mutation to the delivery, each delivery under and linked to its publish span', async () => {
    const alice = await person(t, 'trace_chat');
    const conv = await createConversation(t, alice);
    if (!gatewayB) throw new Error('no replica');
    watcherClient = wsClient(gatewayB.url, alice.access);
    const watcher = watcherClient.iterate<{ messageAdded: { id: string; role: string; content: string; user: { id: string } } }>({
      query: 'subscription($c: ID!) { messageAdded(conversationId: $c) { id role content user { id username } } }',
      variables: { c: conv.id },
    });
    // The subscription has no acknowledgement: probe the channel (outside any trace) until it receives.
    const probe = { id: 'probe', conversationId: conv.id, userId: alice.id, role: 'user', content: 'probe', provider: null, model: null, createdAt: new Date().toISOString() };
    await firstWhileProbing(watcher, () => t.stack.pubsub.publish(messageChannel(conv.id), probe));

    const client = clientTraceparent();
    const res = await t.gql('mutation Ask($i: ChatInput!) { chat(input: $i) { content messageId } }', { i: { message: 'Hello there', conversationId: conv.id } }, { ...bearer(alice.access), traceparent: client.header });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const seen: { id: string; role: string }[] = [];
    while (seen.length < 2) {
      const next = await watcher.next();
      const added = next.value?.data?.messageAdded;
      if (added && added.id !== 'probe') seen.push(added);
    }
    await watcher.return?.();
    expect(seen.map((m) => m.role)).toEqual(['USER', 'ASSISTANT']);

    await waitForSpans(() => spansOf(exporter, client.traceId).find((s) => s.kind === SpanKind.SERVER && attr(s, 'http.route') === '/graphql' && !attr(s, 'xentree.subgraph')), 'gateway request span');
    const spans = spansOf(exporter, client.traceId);
    const gatewaySpan = spans.find((s) => s.name === 'mutation Ask');
    if (!gatewaySpan) throw new Error(`no gateway span: ${spans.map((s) => s.name).join(', ')}`);
    expect(parentIdOf(gatewaySpan)).toBe(client.spanId);
    const chatServer = spans.find((s) => s.kind === SpanKind.SERVER && attr(s, 'xentree.subgraph') === 'chat');
    if (!chatServer) throw new Error('no chat server span');
    expect(ancestorsOf(chatServer, spans).map((s) => s.name)).toEqual(expect.arrayContaining(['subgraph chat', 'gateway.fetch', 'gateway.execute', 'gateway.request', 'mutation Ask']));

    // The provider call, SQL statements and both messages' publish spans are under the chat subgraph's span.
    const ai = spans.find((s) => attr(s, 'gen_ai.operation.name') === 'chat');
    if (!ai) throw new Error('no AI span');
    expect(ai.attributes).toMatchObject({ 'gen_ai.provider.name': 'local', 'gen_ai.request.model': 'local-grounded-1' });
    expect(ancestorsOf(ai, spans)).toContain(chatServer);
    expect(spans.some((s) => attr(s, 'db.system.name') === 'postgresql' && ancestorsOf(s, spans).includes(chatServer))).toBe(true);
    // The grounding look-up is a tRPC call to knowledge, whose procedure runs under it.
    const retrieve = spans.find((s) => s.name === 'trpc knowledge.retrieve');
    if (!retrieve) throw new Error('no tRPC span to knowledge');
    expect(ancestorsOf(retrieve, spans)).toContain(chatServer);
    expect(spans.filter((s) => s.name === 'trpc.procedure retrieve').map(parentIdOf)).toEqual([idOf(retrieve)]);
    const publishes = spans.filter((s) => s.name === 'pubsub publish' && attr(s, 'messaging.destination.name') === messageChannel(conv.id));
    expect(publishes).toHaveLength(2);
    for (const publish of publishes) {
      expect(publish.kind).toBe(SpanKind.PRODUCER);
      expect(ancestorsOf(publish, spans)).toContain(chatServer);
      // Replica B's subscriber got it: a delivery span under the publish span, linked to it.
      const deliveries = spans.filter((s) => s.name === 'pubsub deliver' && parentIdOf(s) === idOf(publish));
      expect(deliveries).toHaveLength(1);
      const [delivery] = deliveries;
      expect(delivery?.kind).toBe(SpanKind.CONSUMER);
      expect(delivery?.links.map((l) => l.context.spanId)).toEqual([idOf(publish)]);
      expect(delivery?.attributes).toMatchObject({ 'messaging.destination.name': messageChannel(conv.id), 'messaging.system': t.stack.pubsub.kind });
      // Replica B's gateway processed the event under that delivery: its span, and the fetch of
      // the event's `user` from identity under it.
      const events = spans.filter((s) => s.name === 'subscription event chat' && parentIdOf(s) === idOf(delivery ?? publish));
      expect(events).toHaveLength(1);
      const [event] = events;
      if (!event) throw new Error('unreachable');
      expect(event.kind).toBe(SpanKind.CONSUMER);
      expect(event.links.map((l) => l.context.spanId)).toEqual([idOf(delivery ?? publish)]);
      expect(spans.filter((s) => s.name === 'subgraph identity' && ancestorsOf(s, spans).includes(event))).toHaveLength(1);
      // Through Redis, the PUBLISH command is a span of its own, named by the command only.
      if (SERVICES) {
        const commands = spans.filter((s) => s.kind === SpanKind.CLIENT && parentIdOf(s) === idOf(publish));
        expect(commands.map((s) => [s.name, attr(s, 'db.statement') ?? attr(s, 'db.query.text')])).toEqual([['publish', 'publish']]);
      }
    }
    // Work the request started may still run after its answer (the chat's learning award): once
    // it has ended, every span's parent is in the trace, or is the client's.
    expect((await wholeTrace(exporter, client)).length).toBeGreaterThanOrEqual(spans.length);
  });
});
