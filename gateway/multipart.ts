/**
 * Uploads: `multipart/form-data` bodies, read with the platform's own parser (`Response#formData`),
 * for the REST layer (KB-3) and for the GraphQL multipart request spec on `/graphql`
 * (https://github.com/jaydenseric/graphql-multipart-request-spec).
 *
 * On `/graphql`, a multipart POST carries `operations` (one GraphQL request as JSON, its files
 * `null`), `map` (file part name → paths in `operations`) and the file parts. Each file replaces
 * the `null`s at its paths with the value of an `@upload` input (`{ filename, contentType,
 * contentBase64 }`, kernel/policy.graphql), and the request then runs as a plain JSON GraphQL request. Apollo's CSRF prevention still
 * applies: multipart is a "simple" content type, so clients must send `apollo-require-preflight`
 * (or `x-apollo-operation-name`); without it the body is not even parsed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RawServerDefault, RouteGenericInterface, RouteHandlerMethod } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_UPLOAD_BYTES, fileTooLarge, toGraphQLExtensions } from '../kernel/errors.ts';
/** Body limit of a multipart request: the largest file plus 1 MiB for the other fields and the framing. */
export const MULTIPART_BODY_LIMIT = MAX_UPLOAD_BYTES + 1024 * 1024;

/** Apollo's `csrfPrevention: true` headers (`recommendedCsrfPreventionRequestHeaders`, not exported). */
const PREFLIGHT_HEADERS = ['x-apollo-operation-name', 'apollo-require-preflight'] as const;

/** One file part of a multipart body. */
export class UploadedFile {
  constructor(
    /** The part's `filename` (may be empty). */
    readonly filename: string,
    /** The part's own `Content-Type`, or null when the part had none. */
    readonly contentType: string | null,
    readonly bytes: Buffer,
  ) {}

  get size(): number {
    return this.bytes.length;
  }

  /** What a 422 body shows as the `input` of a file sent where text was expected (never the bytes). */
  toJSON(): Record<string, unknown> {
    return { filename: this.filename, content_type: this.contentType, size: this.size };
  }
}

/** A multipart field: text, or a file. */
export type FormValue = string | UploadedFile;

/** True for a `multipart/form-data` content type (any parameters). */
export function isMultipart(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return (value ?? '').split(';')[0]?.trim().toLowerCase() === 'multipart/form-data';
}

/** The `boundary` parameter of a multipart content type (quoted or not). */
function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2] ?? null;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * The `Content-Type` of each file part (one with a `filename` parameter), in body order, null where
 * a part had none. The platform parser reports a missing type as `text/plain` (RFC 7578's default),
 * but an upload's type must fall back to its extension when the client sent none (§3.3).
 */
function filePartTypes(body: Buffer, boundary: string): (string | null)[] {
  const types: (string | null)[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const afterDelimiter = at + delimiter.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString('latin1') === '--') break;
    const headEnd = body.indexOf(CRLF2, afterDelimiter);
    if (headEnd < 0) break;
    const lines = body.subarray(afterDelimiter, headEnd).toString('utf8').split('\r\n');
    const header = (name: string): string | undefined =>
      lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
    // Quoted values (a field named "a; filename=b") must not look like a filename parameter.
    const disposition = (header('content-disposition') ?? '').replace(/"(?:[^"\\]|\\.)*"/g, '""');
    if (/;\s*filename\*?\s*=/i.test(disposition)) {
      const type = header('content-type');
      types.push(type === undefined || type === '' ? null : type);
    }
    at = body.indexOf(Buffer.from(`\r\n--${boundary}`), headEnd);
    if (at >= 0) at += 2;
  }
  return types;
}

/**
 * Reads a `multipart/form-data` body into its fields, in order (a repeated name appears once per
 * part). Returns null when the body is not valid multipart for `contentType`.
 */
export async function readMultipart(body: Buffer, contentType: string): Promise<[string, FormValue][] | null> {
  const boundary = boundaryOf(contentType);
  if (!boundary) return null;
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    return null;
  }
  const types = filePartTypes(body, boundary);
  const out: [string, FormValue][] = [];
  let fileIndex = 0;
  for (const [name, value] of form) {
    if (typeof value === 'string') {
      out.push([name, value]);
      continue;
    }
    const scanned = types[fileIndex++];
    // Should the scan and the platform ever disagree, the platform's type is the safer answer.
    const type = scanned === undefined ? value.type || null : scanned;
    out.push([name, new UploadedFile(value.name, type, Buffer.from(await value.arrayBuffer()))]);
  }
  return out;
}

/** A multipart GraphQL request that cannot run; rendered as a GraphQL `errors` body. */
export class MultipartRequestError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 413 = 400,
    readonly extensions: Record<string, unknown> = { code: 'BAD_REQUEST' },
  ) {
    super(message);
    this.name = 'MultipartRequestError';
  }
}

const bad = (message: string): MultipartRequestError => new MultipartRequestError(`Invalid multipart request: ${message}`);
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function parseJsonField(entries: Map<string, FormValue>, name: string): unknown {
  const text = entries.get(name);
  if (typeof text !== 'string') throw bad(`the '${name}' field is missing (or is a file).`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw bad(`the '${name}' field is not valid JSON.`);
  }
}

/**
 * The fields of every `@upload` input, in the order `fileInput` fills them; the gateway refuses to
 * start when the supergraph declares an upload input of another shape (gateway/policies.ts).
 */
export const UPLOAD_INPUT_FIELDS = ['filename', 'contentType', 'contentBase64'] as const;

/** The `@upload` input value of a file. */
function fileInput(file: UploadedFile): Record<(typeof UPLOAD_INPUT_FIELDS)[number], string | null> {
  if (file.size > MAX_UPLOAD_BYTES) {
    const err = fileTooLarge();
    throw new MultipartRequestError(err.message, 413, toGraphQLExtensions(err));
  }
  return { filename: file.filename, contentType: file.contentType, contentBase64: file.bytes.toString('base64') };
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Puts `value` at a `map` path (`variables.input.file`, `variables.files.0`), where `operations` holds null. */
function placeAt(operations: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  if (keys[0] !== 'variables' || keys.length < 2) throw bad(`map path '${path}' does not start with 'variables.' (batching is not supported).`);
  if (keys.some((k) => UNSAFE_KEYS.has(k))) throw bad(`map path '${path}' does not lead to a null in 'operations'.`);
  let parent: unknown = operations;
  for (const key of keys.slice(0, -1)) {
    parent = isRecord(parent) || Array.isArray(parent) ? (parent as Record<string, unknown>)[key] : undefined;
  }
  const last = keys.at(-1) ?? '';
  const container = isRecord(parent) || Array.isArray(parent) ? (parent as Record<string, unknown>) : null;
  if (!container || !Object.hasOwn(container, last) || container[last] !== null) {
    throw bad(`map path '${path}' does not lead to a null in 'operations'.`);
  }
  container[last] = value;
}

/**
 * Turns the fields of a multipart GraphQL request into the JSON request it stands for.
 * @throws MultipartRequestError 400 for invalid `operations`/`map`, batches or missing files; 413
 * `FILE_TOO_LARGE` for a file over MAX_UPLOAD_BYTES.
 */
export function graphqlRequestFromForm(fields: [string, FormValue][]): Record<string, unknown> {
  const entries = new Map(fields); // Starlette and busboy alike: the last part of a name wins
  const operations = parseJsonField(entries, 'operations');
  if (Array.isArray(operations)) throw new MultipartRequestError('Batched operations are not supported.');
  if (!isRecord(operations)) throw bad("'operations' must be a JSON object.");
  const map = parseJsonField(entries, 'map');
  if (!isRecord(map)) throw bad("'map' must be a JSON object of file field name → array of paths.");
  for (const [name, paths] of Object.entries(map)) {
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string')) {
      throw bad(`map entry '${name}' must be a non-empty array of paths.`);
    }
    const file = entries.get(name);
    if (!(file instanceof UploadedFile)) throw bad(`no file part named '${name}'.`);
    const value = fileInput(file);
    for (const path of paths) placeAt(operations, path, { ...value });
  }
  return operations;
}

function hasPreflightHeader(req: FastifyRequest): boolean {
  return PREFLIGHT_HEADERS.some((name) => {
    const value = req.headers[name];
    return typeof value === 'string' ? value.length > 0 : Array.isArray(value) && value.some((x) => x.length > 0);
  });
}

function sendGraphQLError(reply: FastifyReply, status: number, message: string, extensions: Record<string, unknown>): FastifyReply {
  return reply.status(status).type('application/json; charset=utf-8').send({ errors: [{ message, extensions }] });
}

/**
 * Registers `POST path` with the GraphQL multipart request spec next to JSON, in its own scope so
 * the multipart parser, its body limit and its error bodies apply to this route only. Errors other
 * than multipart ones go on to the parent's error handler.
 */
export function registerGraphQLPost<R extends RouteGenericInterface>(app: FastifyInstance, path: string, handler: RouteHandlerMethod<RawServerDefault, IncomingMessage, ServerResponse, R>): void {
  app.register(async (scope) => {
    scope.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: MULTIPART_BODY_LIMIT }, async (req: FastifyRequest, body: Buffer) => {
      // Not parsed without the CSRF header: Apollo refuses the request as it is (400).
      if (!hasPreflightHeader(req)) return {};
      const fields = await readMultipart(body, String(req.headers['content-type']));
      if (!fields) throw bad('the body is not valid multipart/form-data.');
      return graphqlRequestFromForm(fields);
    });
    scope.setErrorHandler((err: Error & { code?: string }, req, reply) => {
      if (err instanceof MultipartRequestError) return sendGraphQLError(reply, err.status, err.message, err.extensions);
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && isMultipart(req.headers['content-type'])) {
        return sendGraphQLError(reply, 413, `Request body is larger than ${MULTIPART_BODY_LIMIT} bytes.`, { code: 'REQUEST_TOO_LARGE', status: 413 });
      }
      throw err;
    });
    scope.post<R>(path, handler);
  });
}
