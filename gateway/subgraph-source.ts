/**
 * How the gateway reaches one subgraph over HTTP: a data source for @apollo/gateway's executor with
 * the breaker, retries and timing of resilience.ts around each call, the signed internal context
 * and the call's deadline on each request, and the revocations a subgraph reports read from its
 * response.
 *
 * It implements the executor's data-source interface directly rather than extending
 * `RemoteGraphQLDataSource`, which builds node-fetch `Headers` and `Request` objects on every call
 * and then goes through WHATWG fetch: the request here is a plain header record and one JSON body
 * sent with undici's `request` over the shared pool. The wire format is the same.
 */
import { STATUS_CODES } from 'node:http';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import type { Agent } from 'undici';
import type { Config } from '../kernel/config.ts';
import { CONTEXT_HEADER, REQUEST_ID_HEADER } from '../kernel/context.ts';
import { DEADLINE_HEADER } from '../kernel/deadline.ts';
import { traceSubgraphFetch } from './trace-fetch.ts';
import { signedContextOf, type GatewayContext } from './context.ts';
import type { PolicyTable } from './policies.ts';
import { callDeadlineMs, operationKindOf, subgraphPipeliningOf, subgraphTimeoutOf, SubgraphUnavailableError, unavailableErrors, type SubgraphGuard } from './resilience.ts';
import { createSubgraphPoster, type SubgraphPoster } from './subgraph-poster.ts';

/** Where revocations reported by subgraphs (`extensions.revokedSessions` / `revokedApiKeys`) go. */
export interface RevocationSink {
  markRevoked(sessionIds: readonly string[]): void;
  markApiKeysRevoked(keyIds: readonly string[]): void;
}

export interface SubgraphSourceOptions {
  config: Config;
  /** The connection pool of the calls sent one at a time per connection (mutations, and every call without pipelining). */
  pool: Agent;
  /** The pool whose connections carry up to `depth` queries at once (`config.subgraphResilience.pipelining`). */
  pipelinedPool(depth: number): Agent;
  policies: PolicyTable;
  revocations: RevocationSink;
}

type Options = GraphQLDataSourceProcessOptions<GatewayContext>;
type GatewayGraphQLResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

export class SubgraphSource implements GraphQLDataSource<GatewayContext> {
  readonly #url: URL;
  readonly #post: SubgraphPoster;
  /** Queries go pipelined where the subgraph's setting allows; mutations never do (a retry could apply one twice). */
  readonly #postQuery: SubgraphPoster;

  constructor(readonly guard: SubgraphGuard, url: string, private readonly settings: SubgraphSourceOptions) {
    const { config, pool } = settings;
    this.#url = new URL(url);
    const timeoutMs = subgraphTimeoutOf(config, guard.subgraph);
    const { deadlineMarginMs } = config.subgraphResilience;
    this.#post = createSubgraphPoster(pool, timeoutMs, deadlineMarginMs);
    const depth = subgraphPipeliningOf(config, guard.subgraph);
    this.#postQuery = depth > 1 ? createSubgraphPoster(settings.pipelinedPool(depth), timeoutMs, deadlineMarginMs, { idempotent: true }) : this.#post;
  }

  /** Breaker, retries and timing around each call; a failed subgraph yields errors, not a throw (partial data). */
  async process(options: Options): Promise<GatewayGraphQLResponse> {
    const ended = (options.context as GatewayContext).timing?.subgraphCall();
    try {
      const kind = operationKindOf(this.#documentOf(options), options.request.query);
      const post = kind === 'query' ? this.#postQuery : this.#post;
      const send = () => traceSubgraphFetch(this.guard.subgraph, this.#url, options.request.operationName, (headers) => this.#send(options, headers, post));
      return await this.guard.run(kind, send);
    } catch (err) {
      if (err instanceof SubgraphUnavailableError) return { errors: unavailableErrors(err) };
      throw err;
    } finally {
      ended?.();
    }
  }

  #documentOf(options: Options) {
    return 'document' in options ? options.document : undefined;
  }

  /** One attempt; `headers` holds the trace context of the attempt's span (empty with tracing off). */
  async #send(options: Options, headers: Record<string, string>, post: SubgraphPoster): Promise<GatewayGraphQLResponse> {
    const { config, policies } = this.settings;
    const { request, context } = options;
    if (!request.query) throw new Error('Missing query');
    if (request.http?.headers) for (const [name, value] of request.http.headers) headers[name] = value;
    headers['content-type'] = 'application/json';
    if ('auth' in context && context.auth) {
      headers[CONTEXT_HEADER] = await signedContextOf(context as GatewayContext, config.internalServiceKey);
      headers[REQUEST_ID_HEADER] = (context as GatewayContext).auth.requestId;
    }
    // The subgraph stops at this deadline; the poster waits a margin longer (resilience.ts).
    headers[DEADLINE_HEADER] = String(callDeadlineMs(config, this.guard.subgraph, this.#documentOf(options), request.query, policies));
    const body = JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName, extensions: request.extensions });
    const reply = await post(this.#url, { headers, body });
    const json = reply.contentType?.startsWith('application/json') || reply.contentType?.startsWith('application/graphql-response+json');
    if (reply.status < 200 || reply.status > 299) throw errorFromReply(this.#url, reply.status, json ? parseJson(reply.text) : reply.text);
    const parsed: unknown = json ? JSON.parse(reply.text) : reply.text;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`Expected JSON response body, but received: ${String(parsed)}`);
    return this.#received(parsed as GatewayGraphQLResponse);
  }

  #received(response: GatewayGraphQLResponse): GatewayGraphQLResponse {
    const { revocations } = this.settings;
    const revoked: unknown = response.extensions?.revokedSessions;
    if (Array.isArray(revoked)) revocations.markRevoked(revoked.filter((x): x is string => typeof x === 'string'));
    const revokedKeys: unknown = response.extensions?.revokedApiKeys;
    if (Array.isArray(revokedKeys)) revocations.markApiKeysRevoked(revokedKeys.filter((x): x is string => typeof x === 'string'));
    return response;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A non-2xx answer, as @apollo/gateway reports it: `extensions.response` carries status and body. */
function errorFromReply(url: URL, status: number, body: unknown): GraphQLError {
  const badInput = badUserInputOf(body);
  if (status === 400 && badInput) return new GraphQLError(badInput, { extensions: { code: 'BAD_USER_INPUT' } });
  const statusText = STATUS_CODES[status] ?? '';
  const code = status === 401 ? { code: 'UNAUTHENTICATED' } : status === 403 ? { code: 'FORBIDDEN' } : {};
  return new GraphQLError(`${status}: ${statusText}`, { extensions: { response: { url: url.href, status, statusText, body }, ...code } });
}

/**
 * The message of a subgraph's 400 whose errors are all BAD_USER_INPUT: a variable that its scalar
 * refused (a DateTime out of range), which the gateway's schema cannot check as it has no scalar
 * parsers. The client's input was wrong, so it is the client's error, not an internal one.
 */
function badUserInputOf(body: unknown): string | null {
  const errors: unknown = body && typeof body === 'object' && 'errors' in body ? body.errors : null;
  if (!Array.isArray(errors) || errors.length === 0) return null;
  const read = errors.map((e: unknown) => ({
    code: e && typeof e === 'object' && 'extensions' in e && e.extensions && typeof e.extensions === 'object' && 'code' in e.extensions ? e.extensions.code : null,
    message: e && typeof e === 'object' && 'message' in e && typeof e.message === 'string' ? e.message : '',
  }));
  // A literal the scalar refused fails the subgraph's validation (graphql-js's "Expected value of
  // type …"); any other validation failure there would be the gateway's own fault.
  const refused = (e: { code: unknown; message: string }) => e.code === 'BAD_USER_INPUT' || (e.code === 'GRAPHQL_VALIDATION_FAILED' && e.message.startsWith('Expected value of type'));
  return read.every(refused) ? (read[0]?.message ?? null) : null;
}

/**
 * One data source per subgraph and address (`url`, default `urlOf(name)`: where the current
 * supergraph routes it), created on first use and shared by the gateway's executor and the
 * subscription engine (so both go through the same breaker, which is per subgraph).
 */
export function createSubgraphSources(options: SubgraphSourceOptions & { guardOf(name: string): SubgraphGuard; urlOf(name: string): string }): (name: string, url?: string) => SubgraphSource {
  const sources = new Map<string, SubgraphSource>();
  return (name, url = options.urlOf(name)) => {
    const key = `${name} ${url}`;
    let source = sources.get(key);
    if (!source) {
      source = new SubgraphSource(options.guardOf(name), url, options);
      sources.set(key, source);
    }
    return source;
  };
}
