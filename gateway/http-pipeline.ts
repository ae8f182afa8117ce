/**
 * The gateway's own path for GraphQL over HTTP's common request: a POST of JSON whose document was
 * valid when last seen, asking for a query or mutation. It does what Apollo Server's request
 * pipeline does for such a request, with the same plugin objects and in the same order
 * (`requestDidStart`, `didResolveSource`, `didResolveOperation`, `responseForOperation`,
 * `executionDidStart`/`executionDidEnd`, `didEncounterErrors`, `willSendResponse`), the same error
 * formatting and the same statuses, headers and body bytes, but without what it costs Apollo Server
 * on every request: a SHA-256 of the document text, its document store lookup, the result
 * re-ordered into a new object, and a promise for every phase of every plugin.
 *
 * Everything else goes to Apollo Server unchanged (`null` from `run`): GET, uploads, batches,
 * APQ, a document not seen before (Apollo Server parses and validates it, with its tracing spans;
 * this path parses it the second time and keeps it from then on) or one that is invalid, no
 * operation to run or a subscription, an `Accept` it cannot answer, and a request whose
 * credentials are refused (handed over with the same refusal, so they are checked once). Tested
 * against Apollo Server's answers request by request in test/http-pipeline.e2e.test.ts.
 */
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestContextExecutionDidStart, type GraphQLRequestContextWillSendResponse, type GraphQLRequestListener, type HTTPGraphQLRequest } from '@apollo/server';
import Negotiator from 'negotiator';
import { getOperationAST, GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema, type ParseOptions, type ValidationRule } from 'graphql';
import type { Logger } from '../kernel/logger.ts';
import type { GatewayContext } from './context.ts';
import { answerSent, NO_CACHE, outsideRequestContext, WRITTEN, type LeanGateway, type WrittenData } from './executor/index.ts';
import { ensureError, ensureGraphQLError, formatErrors, type FormatError, type HttpHead } from './format-error.ts';

export interface HttpPipelineOptions {
  lean: LeanGateway;
  /** The plugins Apollo Server runs, in its order (the draining and landing-page ones have no request hooks). */
  plugins: readonly ApolloServerPlugin<GatewayContext>[];
  formatError: FormatError;
  parseOptions: ParseOptions;
  validationRules: readonly ValidationRule[];
  hideSuggestions: boolean;
  introspection: boolean;
  logger: Logger;
}

/** An answer: what the handler writes. */
export interface HttpAnswer {
  status: number;
  headers: HeaderMap;
  /** The JSON text, in UTF-8, with Apollo Server's trailing newline. */
  body: Buffer;
}

export interface HttpPipeline {
  /**
   * Answers `body` (a POST's parsed JSON, its document settled) if this path takes it; `null` hands
   * the request to Apollo Server, with the context's refusal when `context` threw.
   */
  run(http: HTTPGraphQLRequest, body: Record<string, unknown>, context: () => Promise<GatewayContext>): Promise<HttpAnswer | { refusal: Error } | null>;
}

/** A request's cache policy (Apollo Server's `CachePolicy`). */
type CachePolicy = RequestContext['overallCachePolicy'];

/** What every hook of a request on this path is handed: its operation is resolved before the first. */
type RequestContext = GraphQLRequestContextExecutionDidStart<GatewayContext> & GraphQLRequestContextWillSendResponse<GatewayContext>;

/** How many document texts are kept per schema, and how many characters of them at most. */
const DOCUMENTS_KEPT = 1000;
const DOCUMENT_CHARS_KEPT = 1_000_000;
/** How many `Accept` values' answers are kept. */
const ACCEPTS_KEPT = 64;

const MEDIA_TYPES = ['application/json; charset=utf-8', 'application/graphql-response+json; charset=utf-8', 'application/json; callbackSpec=1.0; charset=utf-8'];

/** Apollo Server's rule when introspection is off: no `__schema` or `__type` field. */
const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '__schema' || node.name.value === '__type') context.reportError(new GraphQLError('GraphQL introspection is not allowed', { nodes: [node] }));
  },
});

/** A document as this path keeps it: the parse of a valid text and its plan key, or `null` for an invalid one. */
interface Kept {
  document: DocumentNode | null;
  /** The plan cache's key for this text (Apollo Server's is the text's SHA-256; this one is never hex). */
  key: string;
}

/** A text seen once, not parsed here yet. */
const SEEN = 'seen';

interface DocumentCache {
  texts: Map<string, Kept | typeof SEEN>;
  chars: number;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x) && !Buffer.isBuffer(x);
const isAbsentOr = (x: unknown, test: (x: unknown) => boolean): boolean => x === undefined || x === null || test(x);
const isString = (x: unknown): x is string => typeof x === 'string';

/** Apollo Server's request cache policy (its `newCachePolicy`, not exported), which its cache control plugin reads. */
function newCachePolicy(): CachePolicy {
  return {
    maxAge: undefined,
    scope: undefined,
    restrict(hint) {
      if (hint.maxAge !== undefined && (this.maxAge === undefined || hint.maxAge < this.maxAge)) this.maxAge = hint.maxAge;
      if (hint.scope !== undefined && this.scope !== 'PRIVATE') this.scope = hint.scope;
    },
    replace(hint) {
      if (hint.maxAge !== undefined) this.maxAge = hint.maxAge;
      if (hint.scope !== undefined) this.scope = hint.scope;
    },
    policyIfCacheable() {
      if (this.maxAge === undefined || this.maxAge === 0) return null;
      return { maxAge: this.maxAge, scope: this.scope ?? 'PUBLIC' };
    },
  };
}

/**
 * The hooks of one phase, run together as Apollo Server runs them (`Promise.all`); without a
 * listener for it, no promise and no turn of the event loop (most phases have none here).
 */
function together<T>(calls: readonly (Promise<T> | undefined)[]): Promise<T[]> | undefined {
  let pending: Promise<T>[] | undefined;
  for (const call of calls) if (call) (pending ??= []).push(call);
  return pending && Promise.all(pending);
}

/** graphql-js's variable coercion errors, which Apollo Server reports as `BAD_USER_INPUT`. */
function isBadUserInput(error: GraphQLError): boolean {
  const node = error.nodes?.length === 1 ? error.nodes[0] : undefined;
  if (node?.kind !== 'VariableDefinition') return false;
  const name = node.variable.name.value;
  return ['has invalid value', 'got invalid value ', 'of required type ', 'of non-null type '].some((tail) => error.message.startsWith(`Variable "$${name}" ${tail}`));
}

export function createHttpPipeline(opts: HttpPipelineOptions): HttpPipeline {
  const { lean, plugins, formatError, logger } = opts;
  const rules = [...specifiedRules, ...(opts.introspection ? [] : [noIntrospection]), ...opts.validationRules];
  const caches = new WeakMap<GraphQLSchema, DocumentCache>();
  let keys = 0;
  const accepts = new Map<string, string | null>();

  /** The kept document of `text` (its parse if valid), or undefined the first time it is seen. */
  const keptOf = (schema: GraphQLSchema, text: string): Kept | undefined => {
    let cache = caches.get(schema);
    if (!cache) caches.set(schema, (cache = { texts: new Map(), chars: 0 }));
    const kept = cache.texts.get(text);
    if (kept !== undefined && kept !== SEEN) return kept;
    if (kept === undefined) {
      // The first sight: Apollo Server parses and validates it, and this path only notes the text,
      // so a stream of documents each sent once costs no second parse.
      if (cache.texts.size >= DOCUMENTS_KEPT || cache.chars + text.length > DOCUMENT_CHARS_KEPT) {
        cache.texts.clear();
        cache.chars = 0;
      }
      cache.texts.set(text, SEEN);
      cache.chars += text.length;
      return undefined;
    }
    let document: DocumentNode | null = null;
    try {
      const parsed = parse(text, opts.parseOptions);
      if (validate(schema, parsed, rules, { hideSuggestions: opts.hideSuggestions }).length === 0) document = parsed;
    } catch {
      // a syntax error: Apollo Server answers it, every time
    }
    const parsed: Kept = { document, key: `http:${++keys}` };
    cache.texts.set(text, parsed);
    return parsed;
  };

  /** The content type Apollo Server answers a single result with for `accept` (null: 406). */
  const contentTypeOf = (accept: string | undefined): string | null => {
    if (!accept) return MEDIA_TYPES[0] ?? null;
    let type = accepts.get(accept);
    if (type === undefined) {
      if (accepts.size >= ACCEPTS_KEPT) accepts.clear();
      accepts.set(accept, (type = new Negotiator({ headers: { accept } }).mediaType(MEDIA_TYPES) ?? null));
    }
    return type;
  };

  return {
    async run(http, body, context) {
      const { query, variables, extensions, operationName } = body;
      if (!isString(query) || query === '' || !isAbsentOr(variables, isRecord) || !isAbsentOr(operationName, isString) || !isAbsentOr(extensions, isRecord)) return null;
      if (isRecord(extensions) && extensions.persistedQuery) return null;
      const contentType = contentTypeOf(http.headers.get('accept'));
      if (contentType === null) return null;
      const schema = lean.schema();
      const kept = keptOf(schema, query);
      if (!kept?.document) return null;
      const document = kept.document;
      const name = isString(operationName) ? operationName : undefined;
      const operation = getOperationAST(document, name);
      if (!operation || operation.operation === 'subscription') return null;

      let contextValue: GatewayContext;
      try {
        contextValue = await context();
      } catch (refusal) {
        return { refusal: ensureError(refusal) };
      }

      const response: RequestContext['response'] = { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: {} } };
      const request = { query, operationName: name, variables: isRecord(variables) ? variables : undefined, extensions: isRecord(extensions) ? extensions : undefined, http };
      const rc: RequestContext = {
        logger,
        cache: NO_CACHE,
        schema,
        request,
        response,
        contextValue,
        metrics: { persistedQueryHit: false, persistedQueryRegister: false },
        overallCachePolicy: newCachePolicy(),
        requestIsBatched: false,
        queryHash: kept.key,
        source: query,
        document,
        operation,
        operationName: operation.name?.value ?? null,
      };
      let listeners: GraphQLRequestListener<GatewayContext>[] = [];
      /** The data as the executor wrote it, while the result's `data` is still its `WRITTEN`. */
      let json: WrittenData | undefined;

      const answer = (): HttpAnswer => {
        const headers = response.http.headers;
        const { errors, data, extensions } = response.body.kind === 'single' ? response.body.singleResult : {};
        if (!headers.get('content-type')) headers.set('content-type', contentType);
        const status = response.http.status ?? 200;
        if (data === WRITTEN && json) return { status, headers, body: withWrittenData(errors, json, extensions) };
        // Apollo Server's order of a result's fields, and its trailing newline.
        return { status, headers, body: Buffer.from(`${JSON.stringify({ errors, data, extensions })}\n`, 'utf8') };
      };
      const didEncounterErrors = async (errors: readonly GraphQLError[]): Promise<void> => {
        // The same object for every hook, as Apollo Server hands it on; from here on it has the errors.
        const withErrors = Object.assign(rc, { errors });
        await together(listeners.map((l) => l.didEncounterErrors?.(withErrors)));
      };
      const merge = (head: HttpHead): void => {
        if (head.status) response.http.status = head.status;
        for (const [name, value] of head.headers) response.http.headers.set(name, value);
      };
      const sendErrors = async (errors: readonly GraphQLError[]): Promise<HttpAnswer> => {
        await didEncounterErrors(errors);
        const { formatted, http: fromErrors } = formatErrors(formatError, errors);
        response.body = { kind: 'single', singleResult: { errors: formatted } };
        merge(fromErrors);
        response.http.status ??= 500;
        await together(listeners.map((l) => l.willSendResponse?.(rc)));
        return answer();
      };

      try {
        listeners = (await Promise.all(plugins.map((p) => p.requestDidStart?.(rc)))).filter((l) => !!l);
        await together(listeners.map((l) => l.didResolveSource?.(rc)));
        try {
          await together(listeners.map((l) => l.didResolveOperation?.(rc)));
        } catch (err) {
          return await sendErrors([ensureGraphQLError(err)]);
        }
        let fromPlugin = null;
        for (const l of listeners) if (l.responseForOperation && (fromPlugin = (await l.responseForOperation(rc)) ?? null)) break;
        if (fromPlugin) {
          response.body = fromPlugin.body;
          merge(fromPlugin.http);
        } else {
          const executionListeners = ((await together(listeners.map((l) => l.executionDidStart?.(rc)))) ?? []).filter((l) => !!l).reverse();
          try {
            const result = await lean.executeJson(outsideRequestContext({ source: query, document, operation, operationName: request.operationName, variables: request.variables ?? {}, schema, context: contextValue, logger, queryHash: kept.key }));
            const errors = result.errors?.map((e) => (isBadUserInput(e) && e.extensions.code == null ? new GraphQLError(e.message, { nodes: e.nodes, originalError: e.originalError ?? e, extensions: { ...e.extensions, code: 'BAD_USER_INPUT' } }) : e));
            if (errors) await didEncounterErrors(errors);
            const { formatted, http: fromErrors }: { formatted?: GraphQLFormattedError[]; http: HttpHead } = errors ? formatErrors(formatError, errors) : { http: { headers: new HeaderMap() } };
            if (errors?.length && result.data === undefined && !fromErrors.status) fromErrors.status = 400;
            merge(fromErrors);
            json = result.json;
            response.body = { kind: 'single', singleResult: { data: result.data, errors: formatted, extensions: result.extensions } };
          } catch (err) {
            await together(executionListeners.map((l) => l.executionDidEnd?.(ensureError(err))));
            return await sendErrors([ensureGraphQLError(err)]);
          }
          await together(executionListeners.map((l) => l.executionDidEnd?.()));
        }
        await together(listeners.map((l) => l.willSendResponse?.(rc)));
        return answer();
      } catch (err) {
        // Apollo Server answers an error of its own pipeline (a plugin's hook that threw) with 500.
        await Promise.all(plugins.map((p) => p.unexpectedErrorProcessingRequest?.({ requestContext: rc, error: ensureError(err) }))).catch(() => {});
        logger.error({ err }, 'unexpected error processing a GraphQL request');
        const { formatted, http: fromError } = formatErrors(formatError, [new Error('Internal server error')]);
        const headers = new HeaderMap([...fromError.headers, ['content-type', contentType]]);
        return { status: fromError.status ?? 500, headers, body: Buffer.from(`${JSON.stringify({ errors: formatted })}\n`, 'utf8') };
      }
    },
  };
}

/** `JSON.stringify({ errors, data, extensions })` and a newline, with the data's JSON already written. */
function withWrittenData(errors: readonly GraphQLFormattedError[] | undefined, data: WrittenData, extensions: Record<string, unknown> | undefined): Buffer {
  if (errors === undefined && extensions === undefined) return data.answer;
  const head = errors === undefined ? '{"data":' : `{"errors":${JSON.stringify(errors)},"data":`;
  const tail = extensions === undefined ? '}\n' : `,"extensions":${JSON.stringify(extensions)}}\n`;
  const body = Buffer.concat([Buffer.from(head, 'utf8'), data.answer.subarray(data.start, data.end), Buffer.from(tail, 'utf8')]);
  answerSent(data.answer);
  return body;
}
