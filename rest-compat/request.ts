/** A REST request read through its route's specs (§1.5 step 5): path, query, headers and body. */
import type { FastifyRequest } from 'fastify';
import { isMultipart, readMultipart } from '../gateway/multipart.ts';
import { v, validateRequest, type ObjectSpec, type Source } from './validation.ts';
import { parseJsonBody } from './json-body.ts';
import type { Route } from './route.ts';

export function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The fields of a multipart body (last part of a name wins, as in Starlette); none for any other body. */
async function multipartFields(req: FastifyRequest): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'];
  if (!Buffer.isBuffer(req.body) || !isMultipart(type)) return {};
  // An unreadable multipart body has no fields (so the file is `missing`) rather than a 400 that
  // the API's error catalogue has no code for.
  return Object.fromEntries((await readMultipart(req.body, String(type))) ?? []);
}

/** The body as text for JSON and form routes (a multipart body arrives as bytes). */
function bodyText(body: unknown): string | undefined {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
  return typeof text === 'string' && text.length > 0 ? text : undefined;
}

/** The `Idempotency-Key` header of idempotent routes: 1..255 printable ASCII characters, no spaces. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
const idempotencyHeaderSpec = v.object({ [IDEMPOTENCY_HEADER]: v.optional(v.str({ min: 1, max: 255, pattern: /^[\x21-\x7e]+$/ })) });

/** Path, query, headers and body through the route's specs (§1.5 step 5). */
export async function parseRequest(route: Route, req: FastifyRequest): Promise<{ params: unknown; query: unknown; body: unknown; idempotencyKey: string | null }> {
  const specs: Partial<Record<Source, ObjectSpec<unknown>>> = {};
  const raw: Partial<Record<Source, unknown>> = {};
  if (route.idempotent) {
    specs.header = idempotencyHeaderSpec;
    const key = headerOf(req, IDEMPOTENCY_HEADER);
    raw.header = key === undefined ? {} : { [IDEMPOTENCY_HEADER]: key };
  }
  if (route.params) {
    specs.path = route.params;
    raw.path = req.params;
  }
  if (route.query) {
    specs.query = route.query;
    raw.query = req.query;
  }
  let body: unknown;
  if (route.body) {
    const text = bodyText(req.body);
    if (route.body.kind === 'multipart') {
      body = await multipartFields(req);
      specs.form = route.body.spec;
      raw.form = body;
    } else if (route.body.kind === 'form') {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      body = text !== undefined && type === 'application/x-www-form-urlencoded' ? Object.fromEntries(new URLSearchParams(text)) : {};
      specs.form = route.body.spec;
      raw.form = body;
    } else {
      body = parseJsonBody(text);
      if (!(route.body.optional && body === undefined)) {
        specs.body = route.body.spec;
        raw.body = body;
      }
    }
  }
  const out = validateRequest(specs, raw);
  const header = out.header as Record<string, string | undefined> | undefined;
  return {
    params: out.path ?? {},
    query: out.query ?? {},
    body: route.body && route.body.kind !== 'json' ? out.form : out.body,
    idempotencyKey: header?.[IDEMPOTENCY_HEADER] ?? null,
  };
}
