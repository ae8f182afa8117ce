/**
 * The fastify handler of GraphQL over HTTP: the request's document is settled by the trusted
 * documents policy (trusted-documents.ts) — a manifest document put in place of its id, or the
 * request refused — and the request then goes to the gateway's own pipeline for a POST of JSON
 * (http-pipeline.ts), or to Apollo Server as `@as-integrations/fastify` would hand it over: every
 * other request, and one the own pipeline hands on.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import type { GatewayContext } from './context.ts';
import { Readable } from 'node:stream';
import type { HttpPipeline } from './http-pipeline.ts';
import { wantsLegacyJson } from './legacy-json-status.ts';
import { answerSent } from './executor/index.ts';
import { withoutPersistedQuery, type DocumentRefusal, type TrustedDocuments } from './trusted-documents.ts';

type ContextFunction = (req: FastifyRequest, reply: FastifyReply) => Promise<GatewayContext>;

function headerMapOf(req: FastifyRequest): HeaderMap {
  const map = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) if (value) map.set(key, Array.isArray(value) ? value.join(', ') : value);
  return map;
}

/** The query string of a request target, `?` included (what `new URL(target, base).search` gives, without building a URL). */
function searchOf(target: string): string {
  const start = target.indexOf('?');
  if (start === -1) return '';
  const end = target.indexOf('#', start);
  const search = end === -1 ? target.slice(start) : target.slice(start, end);
  return search === '?' ? '' : search;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x) && !Buffer.isBuffer(x);

function parseJsonParam(value: string | null): unknown {
  if (value === null) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined; // Apollo Server answers the malformed parameter itself
  }
}

/**
 * Settles the document of one HTTP request: the request to hand to Apollo Server (with the
 * manifest's document in place of an id), or the refusal to answer with.
 */
function settle(trusted: TrustedDocuments, req: FastifyRequest, request: HTTPGraphQLRequest): HTTPGraphQLRequest | DocumentRefusal {
  if (request.method === 'GET') {
    const params = new URLSearchParams(request.search);
    const resolution = trusted.resolve({ query: params.get('query') ?? undefined, documentId: params.get('documentId') ?? undefined, extensions: parseJsonParam(params.get('extensions')) });
    if (resolution.kind === 'refused') return resolution.refusal;
    if (resolution.kind === 'as-sent') return request;
    params.set('query', resolution.query);
    params.delete('documentId');
    const extensions = withoutPersistedQuery(parseJsonParam(params.get('extensions')));
    if (extensions) params.set('extensions', JSON.stringify(extensions));
    else params.delete('extensions');
    return { ...request, search: `?${params.toString()}` };
  }
  if (request.method !== 'POST' || !isRecord(req.body)) return request;
  const body = req.body;
  const resolution = trusted.resolve({ query: body.query, documentId: body.documentId, extensions: body.extensions });
  if (resolution.kind === 'refused') return resolution.refusal;
  if (resolution.kind === 'as-sent') return request;
  const { documentId: _id, extensions: _ext, ...rest } = body;
  const extensions = withoutPersistedQuery(body.extensions);
  return { ...request, body: { ...rest, query: resolution.query, ...(extensions ? { extensions } : {}) } };
}

/** A refusal as GraphQL over HTTP: 400 `application/graphql-response+json` (unless the client only takes `application/json`). */
function sendRefusal(req: FastifyRequest, reply: FastifyReply, refusal: DocumentRefusal): FastifyReply {
  const type = wantsLegacyJson(req.headers.accept) ? 'application/json; charset=utf-8' : 'application/graphql-response+json; charset=utf-8';
  return reply
    .code(refusal.status)
    .header('content-type', type)
    .header('cache-control', 'no-store')
    .send(JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] }));
}

/** A JSON body by its `Content-Type` (never one of the "simple" types CSRF prevention is about). */
const isJson = (type: string | undefined): boolean => type !== undefined && /^application\/json\s*(;|$)/i.test(type);

function sendAnswer(reply: FastifyReply, answer: { status?: number; headers: Map<string, string> }): void {
  for (const [name, value] of answer.headers) void reply.header(name, value);
  void reply.code(answer.status ?? 200);
}

/** Where POSTs of JSON go: the gateway's own pipeline (null: all to Apollo Server), and who is told which answered each. */
export interface PostRouting {
  pipeline: HttpPipeline | null;
  answered(by: 'gateway' | 'apollo'): void;
}

export function createGraphQLHandler(apollo: ApolloServer<GatewayContext>, trusted: TrustedDocuments, context: ContextFunction, posts: PostRouting) {
  apollo.assertStarted('createGraphQLHandler()');
  return async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const request: HTTPGraphQLRequest = {
      body: req.body,
      method: req.method.toUpperCase(),
      headers: headerMapOf(req),
      search: searchOf(req.url),
    };
    const settled = settle(trusted, req, request);
    if ('code' in settled) return sendRefusal(req, reply, settled);
    let contextOf = () => context(req, reply);
    if (settled.method === 'POST' && isRecord(settled.body) && isJson(req.headers['content-type'])) {
      const outcome = posts.pipeline && (await posts.pipeline.run(settled, settled.body, contextOf));
      posts.answered(outcome && 'status' in outcome ? 'gateway' : 'apollo');
      if (outcome && 'refusal' in outcome) {
        const { refusal } = outcome;
        contextOf = () => Promise.reject(refusal);
      } else if (outcome) {
        sendAnswer(reply, outcome);
        // Its buffer is used again once the socket has taken all of it (executor/answer-buffers.ts).
        const { body } = outcome;
        reply.raw.once('finish', () => answerSent(body));
        // Bytes already (the pipeline writes its answers as UTF-8): fastify sets content-length from
        // a buffer's length and writes it as it is, where a string would be measured and encoded again.
        return body;
      }
    }
    const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: settled, context: contextOf });
    sendAnswer(reply, response);
    // As bytes, for the same reason: one pass over an answer that can be 100 KB, not two.
    if (response.body.kind === 'complete') return Buffer.from(response.body.string, 'utf8');
    return reply.send(Readable.from(response.body.asyncIterator));
  };
}
