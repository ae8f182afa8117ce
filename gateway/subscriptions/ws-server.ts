/**
 * graphql-ws for clients on the gateway's `/graphql`: authentication on
 * `connection_init` (bearer or API key, with scopes), 3 s init timeout (4408), pings every 12 s,
 * socket closed with 4403 when the bearer token expires or its credential is revoked (on any
 * replica), the credential checked again on every `subscribe`, the same rate limits as HTTP, frames
 * no larger than the HTTP body limit, limits on subscriptions per connection and connections per
 * principal. Subscriptions go to the engine; queries and mutations run on the gateway's executor
 * like HTTP ones. Documents are admitted by the same trusted documents policy as over HTTP.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, getOperationAST, parse, specifiedRules, validate, type DocumentNode, type ExecutionResult, type GraphQLSchema, type ParseOptions, type ValidationRule } from 'graphql';
import { inWsOperationSpan } from './trace-event.ts';
import type { AuthContext } from '../../kernel/context.ts';
import type { Revocation } from '../auth.ts';
import { revokedCode } from './revocable.ts';
import type { Logger } from '../../kernel/logger.ts';
import { AppError, toGraphQLExtensions } from '../../kernel/errors.ts';
import type { Deliver, EventResult, SubscriptionEngine } from './engine.ts';
import type { TrustedDocuments } from '../trusted-documents.ts';
import type { ApqCache } from '../apq-cache.ts';

export interface WsServerOptions {
  server: Server;
  path: string;
  engine: SubscriptionEngine;
  /** Authenticates connection params as if they were HTTP headers. */
  authenticate(headers: { authorization?: string; apiKey?: string }, req: IncomingMessage): Promise<AuthContext>;
  /** Runs a query or mutation on the gateway's executor. */
  execute(document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>, auth: AuthContext): Promise<ExecutionResult>;
  validationRules: readonly ValidationRule[];
  /** Which documents run (trusted-documents.ts), as for GraphQL over HTTP. */
  trustedDocuments: TrustedDocuments;
  /** Automatic persisted queries, on the cache GraphQL over HTTP uses (apq-cache.ts). */
  persistedQueries: ApqCache['lookup'];
  /** Parser limits (token count), as for GraphQL over HTTP. */
  parseOptions?: ParseOptions;
  /** Largest frame accepted, in bytes (the HTTP body limit): larger ones close the socket with 1009. */
  maxPayloadBytes: number;
  /** Registers for revocations; sockets of a revoked session or API key are closed with 4403. */
  onRevoked(listener: (revoked: Revocation) => void): () => void;
  /** Counts one operation against its rate policy; a refusal is returned as the operation's error. */
  rateLimit(document: DocumentNode, operationName: string | undefined, auth: AuthContext): Promise<GraphQLError | null>;
  maxSubscriptionsPerConnection: number;
  maxConnectionsPerPrincipal: number;
  onConnectionCount?(open: number): void;
  logger: Logger;
}

interface ConnectionState {
  auth: AuthContext;
  /** What `connection_init` presented, re-checked on every `subscribe`. */
  credentials: { authorization?: string; apiKey?: string };
  close(code: number, reason: string): void;
  principal: string;
  subscriptions: Set<string>;
  expiryTimer: NodeJS.Timeout | null;
}

const stringParam = (params: Record<string, unknown> | undefined, ...names: string[]): string | undefined => {
  for (const n of names) {
    const v = params?.[n];
    if (typeof v === 'string') return v;
  }
  return undefined;
};

/** `exp` of a (verified) bearer JWT, in ms. */
function expiryOf(authorization: string | undefined): number | null {
  const token = authorization?.replace(/^bearer\s+/i, '');
  const payload = token?.split('.')[1];
  if (!payload) return null;
  try {
    const exp: unknown = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

const FRAME_END = Buffer.from('}', 'utf8');
const SEND_TEXT = { binary: false } as const;

/**
 * The connections written to during one fan-out, corked until its loop is over: a connection that
 * carries several subscribers of the event gets all their frames in one system call instead of
 * one each. Uncorked in a microtask, not on the next tick: right after the loop's own microtask,
 * before the next event's execution (chained behind it) could run its loop too and hold this
 * event's frames back.
 */
export class CorkedWrites {
  private readonly corked = new Set<Duplex>();

  add(socket: Duplex): void {
    if (this.corked.has(socket)) return;
    if (this.corked.size === 0) queueMicrotask(this.flush);
    socket.cork();
    this.corked.add(socket);
  }

  private readonly flush = (): void => {
    for (const socket of this.corked) socket.uncork();
    this.corked.clear();
  };
}

/** Distinct documents kept parsed and validated (subscribers send the same few documents). */
const DOCUMENT_CACHE_SIZE = 1_000;

/**
 * Parses and validates each distinct subscription document once per schema: ten thousand clients
 * subscribing with the same document share one DocumentNode (which each open subscription keeps)
 * instead of parsing and validating it ten thousand times. A parse failure is a GraphQLError with
 * its code; validation errors are returned as they are.
 */
export function createDocumentCache(parseDocument: (query: string) => DocumentNode, rules: readonly ValidationRule[]): { check(query: string, schema: GraphQLSchema): DocumentNode | GraphQLError | readonly GraphQLError[] } {
  const cache = new Map<string, { schema: GraphQLSchema; document: DocumentNode }>();
  return {
    check(query, schema) {
      const hit = cache.get(query);
      if (hit?.schema === schema) return hit.document;
      let document: DocumentNode;
      try {
        document = parseDocument(query);
      } catch (err) {
        const message = err instanceof Error ? err.message : 'Syntax error';
        const code = /maximum number of tokens/i.test(message) ? 'TOO_MANY_TOKENS' : 'GRAPHQL_PARSE_FAILED';
        return new GraphQLError(message, { extensions: { code } });
      }
      const errors = validate(schema, document, rules);
      if (errors.length > 0) return errors;
      // Oldest first out: a Map iterates in insertion order.
      if (cache.size >= DOCUMENT_CACHE_SIZE) cache.delete(cache.keys().next().value ?? '');
      cache.set(query, { schema, document });
      return document;
    },
  };
}

const nextHeadOf = (id: string) => Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`, 'utf8');

/** The `next` message of subscription `id` for an event, as graphql-ws writes it (the shared payload between a per-id head and `}`). */
export function nextFrameOf(id: string): (event: EventResult) => Buffer {
  const head = nextHeadOf(id);
  return (event) => Buffer.concat([head, event.payloadBytes, FRAME_END]);
}

/**
 * The same message as one whole WebSocket frame (RFC 6455 §5.2: final, text, unmasked as a
 * server's are; the length in 7, 16 or 64 bits, as ws writes it), made in one allocation. Written
 * straight to the connection's socket, it spares ws's per-message work (its send checks, a header
 * buffer, two writes) for each of thousands of subscribers of an event.
 */
export function nextWsFrameOf(id: string): (event: EventResult) => Buffer {
  const head = nextHeadOf(id);
  return (event) => {
    const payload = event.payloadBytes;
    const length = head.length + payload.length + FRAME_END.length;
    const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(headerLength + length);
    frame[0] = 0x81;
    if (headerLength === 2) frame[1] = length;
    else if (headerLength === 4) {
      frame[1] = 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 127;
      frame.writeUInt16BE(0, 2);
      frame.writeUIntBE(length, 4, 6);
    }
    head.copy(frame, headerLength);
    payload.copy(frame, headerLength + head.length);
    FRAME_END.copy(frame, headerLength + head.length + payload.length);
    return frame;
  };
}

export function attachSubscriptionServer(opts: WsServerOptions): { close(): Promise<void>; handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean } {
  // No permessage-deflate (ws's default, said here because delivery relies on it: see `direct` below).
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes, perMessageDeflate: false });
  const states = new Map<object, ConnectionState>();
  /** Each client WebSocket's TCP socket, as the upgrade handed it to ws (corked during a fan-out). */
  const transports = new WeakMap<object, Duplex>();
  const corked = new CorkedWrites();
  const stopRevocations = opts.onRevoked((revoked) => {
    for (const state of states.values()) if (revokedCode(state.auth, revoked)) state.close(4403, 'Forbidden');
  });
  const perPrincipal = new Map<string, number>();
  let open = 0;
  const documents = createDocumentCache((query) => parse(query, opts.parseOptions), [...specifiedRules, ...opts.validationRules]);

  const server = useServer<Record<string, unknown>, { request: IncomingMessage; socket: { close(code: number, reason: string): void } }>(
    {
      connectionInitWaitTimeout: 3_000,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams;
        const authorization = stringParam(params, 'authorization', 'Authorization');
        const apiKey = stringParam(params, 'x-api-key', 'X-API-Key', 'apiKey');
        let auth: AuthContext;
        try {
          auth = await opts.authenticate({ authorization, apiKey }, ctx.extra.request);
        } catch (err) {
          if (err instanceof AppError) return false; // 4403 Forbidden
          throw err;
        }
        const principal = auth.apiKeyId ? `key:${auth.apiKeyId}` : auth.userId ? `user:${auth.userId}` : `ip:${auth.clientIp ?? ''}`;
        const count = perPrincipal.get(principal) ?? 0;
        if (count >= opts.maxConnectionsPerPrincipal) return false;
        perPrincipal.set(principal, count + 1);
        const close = (code: number, reason: string): void => ctx.extra.socket.close(code, reason);
        const state: ConnectionState = { auth, credentials: { authorization, apiKey }, close, principal, subscriptions: new Set(), expiryTimer: null };
        const exp = auth.mode === 'bearer' ? expiryOf(authorization) : null;
        if (exp !== null) {
          state.expiryTimer = setTimeout(() => close(4403, 'Forbidden'), Math.max(0, exp - Date.now()));
          state.expiryTimer.unref();
        }
        states.set(ctx.extra, state);
        open += 1;
        opts.onConnectionCount?.(open);
        return true;
      },
      onDisconnect: (ctx) => {
        const state = states.get(ctx.extra);
        if (!state) return;
        states.delete(ctx.extra);
        if (state.expiryTimer) clearTimeout(state.expiryTimer);
        const n = (perPrincipal.get(state.principal) ?? 1) - 1;
        if (n <= 0) perPrincipal.delete(state.principal);
        else perPrincipal.set(state.principal, n);
        open -= 1;
        opts.onConnectionCount?.(open);
      },
      onSubscribe: async (ctx, id, payload) => {
        // A burst of subscriptions is taken in slices (pacer.ts): between them the event loop answers
        // the subgraphs' pings, so the upstream subscriptions outlive the burst.
        await opts.engine.pacer.run(() => undefined);
        const state = states.get(ctx.extra);
        if (!state) return [new GraphQLError('Not connected', { extensions: { code: 'UNAUTHENTICATED' } })];
        // The same cached check as HTTP: a revocation this replica missed still ends the socket.
        try {
          state.auth = { ...(await opts.authenticate(state.credentials, ctx.extra.request)), requestId: state.auth.requestId };
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          state.close(4403, 'Forbidden');
          return [new GraphQLError(err.message, { extensions: toGraphQLExtensions(err) })];
        }
        if (state.subscriptions.size >= opts.maxSubscriptionsPerConnection) {
          return [new GraphQLError(`At most ${opts.maxSubscriptionsPerConnection} operations per connection`, { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', status: 429 } })];
        }
        // Trusted documents: a manifest document by its id, or a refusal, exactly as over HTTP.
        const settled = opts.trustedDocuments.resolve({ query: payload.query, documentId: (payload as { documentId?: unknown }).documentId, extensions: payload.extensions });
        if (settled.kind === 'refused') return [new GraphQLError(settled.refusal.message, { extensions: { code: settled.refusal.code } })];
        let query = settled.kind === 'manifest' ? settled.query : payload.query || undefined;
        // An APQ hash that is no manifest's: the query registered under it, as over HTTP.
        let remember: (() => void) | undefined;
        const persistedQuery = settled.kind === 'manifest' ? undefined : payload.extensions?.persistedQuery;
        if (persistedQuery) {
          const found = await opts.persistedQueries(query, persistedQuery);
          if (found instanceof GraphQLError) return [found];
          ({ query, remember } = found);
        }
        if (!query) return [new GraphQLError('GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.', { extensions: { code: 'BAD_REQUEST' } })];
        const checked = documents.check(query, opts.engine.apiSchema);
        if (checked instanceof GraphQLError) return [checked];
        if (!('kind' in checked)) return checked.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', ...e.extensions } }));
        const document = checked;
        if (!getOperationAST(document, payload.operationName ?? undefined)) {
          return [new GraphQLError('Unknown operation', { extensions: { code: 'BAD_REQUEST' } })];
        }
        const limited = await opts.rateLimit(document, payload.operationName ?? undefined, state.auth);
        if (limited) return [limited];
        remember?.();
        state.subscriptions.add(id);
        // Events are written here, each serialised once for all its subscribers (engine.ts): the
        // frame graphql-ws would write, {"id","type":"next","payload"}, around the shared payload.
        const socket = ctx.extra.socket;
        const transport = transports.get(socket);
        // Whole frames go straight to the TCP socket where ws would write the same bytes itself:
        // no extension was negotiated (ws would compress with permessage-deflate, which the server
        // does not offer), and ws writes each of its own frames whole, so none interleave.
        const direct = transport !== undefined && socket.extensions === '' ? transport : null;
        // The whole WebSocket frame for the direct write; graphql-ws's message for ws to frame.
        const frameOf = direct ? nextWsFrameOf(id) : nextFrameOf(id);
        const deliver: Deliver = (event) => {
          // After the client's `complete`, or once the socket is closing: nothing more for this id.
          if (!state.subscriptions.has(id) || socket.readyState !== socket.OPEN) return;
          if (transport) corked.add(transport);
          if (direct) direct.write(frameOf(event));
          else socket.send(frameOf(event), SEND_TEXT);
        };
        return {
          schema: opts.engine.apiSchema,
          document,
          operationName: payload.operationName ?? undefined,
          variableValues: payload.variables ?? {},
          contextValue: { auth: { ...state.auth, requestId: `${state.auth.requestId}:${id}` }, deliver },
        };
      },
      onComplete: (ctx, id) => {
        states.get(ctx.extra)?.subscriptions.delete(id);
      },
      subscribe: async (args) => {
        const ctx = args.contextValue as { auth: AuthContext; deliver: Deliver };
        // Opening it is a span of its own (`subscription <Name>`); each event is traced where it is processed.
        return inWsOperationSpan(args.document, args.operationName ?? undefined, () => opts.engine.subscribe(args.document, args.operationName ?? undefined, (args.variableValues ?? {}) as Record<string, unknown>, { auth: ctx.auth }, ctx.deliver));
      },
      execute: async (args) => {
        const ctx = args.contextValue as { auth: AuthContext };
        return opts.execute(args.document, args.operationName ?? undefined, (args.variableValues ?? {}) as Record<string, unknown>, ctx.auth);
      },
    },
    wss,
    12_000,
  );

  return {
    handleUpgrade(req, socket, head) {
      const path = req.url?.split('?')[0];
      if (path !== opts.path) return false;
      wss.handleUpgrade(req, socket, head, (ws) => {
        transports.set(ws, socket);
        wss.emit('connection', ws, req);
        // A socket error here is the peer breaking the protocol (a frame over maxPayload, bad UTF-8,
        // a bad opcode); ws closes the socket itself (1009, 1007, 1002). graphql-ws would print each
        // one to the console with the whole socket: a client could flood the logs. One line, no data.
        ws.removeAllListeners('error');
        ws.on('error', (err: Error & { code?: string }) => opts.logger.debug({ code: err.code ?? err.name }, 'websocket protocol error'));
      });
      return true;
    },
    async close() {
      stopRevocations();
      await server.dispose();
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
