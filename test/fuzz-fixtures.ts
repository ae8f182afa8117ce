/**
 * Generators for the fuzz test (test/fuzz.e2e.test.ts): a small seeded PRNG, hostile values
 * (wrong types, huge numbers, NULs, long strings, deep nesting), REST requests built from the
 * route table's own specs, and GraphQL documents built from the public schema. Everything is
 * derived from the seed, so a failure is replayed with `FUZZ_SEED=<seed>`.
 */
import { readFileSync } from 'node:fs';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isInterfaceType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import type { Route } from '../rest-compat/route.ts';
import type { FieldSpec, SpecMeta } from '../rest-compat/validation.ts';

/** mulberry32: small, fast, good enough to pick test inputs. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

// ---------------------------------------------------------------------------------------------
// Hostile values.

const NUMBERS = [0, 1, -1, 20, 100, 101, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, -(2 ** 53) - 2, 1e308, -1e308, 1.5, -0.5, 1e-300];

/** Strings a careless server chokes on. */
export function hostileString(rng: Rng): string {
  switch (rng.int(14)) {
    case 0: return '';
    case 1: return 'a\u0000b';
    case 2: return '\u0000';
    case 3: return 'x'.repeat(rng.pick([201, 1001, 20_001, 100_001]));
    case 4: return '💥ñ\u202e\u200bé\uFEFF';
    case 5: return '\ud800';
    case 6: return "' or 1=1 --";
    case 7: return '%_\\%';
    case 8: return '\t\r\n\u0001\u001f\u007f';
    case 9: return '{"a":1}';
    case 10: return rng.pick(['__proto__', 'constructor', 'prototype', 'toString']);
    case 11: return rng.pick(['2147483648', '-1', '1e400', 'NaN', 'Infinity', '0x10', '1_000']);
    case 12: return rng.pick(['null', 'true', 'undefined', '[]']);
    default: return `fuzz ${rng.int(1_000_000)}`;
  }
}

export function hostileNumber(rng: Rng): number {
  return rng.chance(0.8) ? rng.pick(NUMBERS) : (rng.next() - 0.5) * 10 ** rng.int(20);
}

/** Any JSON value, `depth` levels deep at most (one deep chain now and then). */
export function hostileJson(rng: Rng, depth = 3): unknown {
  if (rng.chance(0.02)) return deepNest(rng.pick([64, 1_000]), rng.chance(0.5));
  const kind = depth <= 0 ? rng.int(5) : rng.int(7);
  switch (kind) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return hostileNumber(rng);
    case 3:
    case 4: return hostileString(rng);
    case 5: return Array.from({ length: rng.int(4) }, () => hostileJson(rng, depth - 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) out[rng.chance(0.2) ? hostileString(rng).slice(0, 50) : `k${rng.int(9)}`] = hostileJson(rng, depth - 1);
      return out;
    }
  }
}

function deepNest(levels: number, arrays: boolean): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = arrays ? [value] : { a: value };
  return value;
}

/** Texts that are not JSON, or barely. */
export function garbageText(rng: Rng): string {
  return rng.pick(['{', '[1,2', '{"a":}', 'nul', '"unterminated', '\u0000', '{"a":1}x', '\uFEFF{}', '['.repeat(5_000), `${'['.repeat(50_000)}${']'.repeat(50_000)}`, `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`, '{"a":"\\u12"}', '1e999999', '-', '']);
}

// ---------------------------------------------------------------------------------------------
// REST requests from the route table.

/** Ids that exist in the fuzzed stack, by the field names that take them. */
export interface KnownIds {
  [field: string]: string[];
}

export interface RestRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** What was sent, for the failure report. */
  describe: string;
}

/** Field values the route specs check with code (patterns, formats) that random text never passes. */
const GOOD: Record<string, (rng: Rng, n: number) => unknown> = {
  email: (_rng, n) => `fuzz${n}@example.com`,
  username: (_rng, n) => `fuzz_${n}`,
  password: () => 'correct horse battery',
  slug: (_rng, n) => `fuzz-org-${n}`,
  timezone: (rng) => rng.pick(['Europe/Lisbon', 'UTC', 'America/New_York']),
  preferred_language: (rng) => rng.pick(['en', 'pt-BR']),
  avatar_url: () => 'https://example.com/avatar.png',
  allowed_ips: (rng) => rng.pick([[], ['127.0.0.1'], ['10.0.0.0/8', '::1']]),
  grant_type: () => 'password',
  provider: (rng) => rng.pick(['auto', 'local', 'openai', 'anthropic']),
  types: (rng) => rng.pick(['conversations', 'messages,notes', 'notes']),
  expires_at: () => new Date(Date.now() + 86_400_000).toISOString(),
};

let serial = 0;

/** A value for one spec: mostly one it accepts, sometimes a hostile one. */
function valueFor(rng: Rng, name: string, spec: FieldSpec<unknown>, ids: KnownIds, depth = 0): unknown {
  if (rng.chance(0.2)) return hostileJson(rng, 2);
  const good = GOOD[name];
  if (good && rng.chance(0.8)) return good(rng, (serial += 1));
  return fromMeta(rng, name, spec.meta, ids, depth);
}

function fromMeta(rng: Rng, name: string, meta: SpecMeta, ids: KnownIds, depth: number): unknown {
  if (meta.nullable && rng.chance(0.15)) return null;
  switch (meta.kind) {
    case 'string': {
      if (rng.chance(0.3)) return hostileString(rng);
      const min = meta.min ?? 0;
      const max = Math.min(meta.max ?? 40, 40);
      return `fuzz ${'x'.repeat(Math.max(0, min - 5))}${rng.int(1000)}`.slice(0, Math.max(min, max));
    }
    case 'integer':
      return rng.chance(0.6) ? Math.max(meta.ge ?? 0, Math.min(meta.le ?? 50, rng.int(50))) : hostileNumber(rng);
    case 'boolean':
      return rng.chance(0.8) ? rng.chance(0.5) : rng.pick(['yes', 'maybe', 2, 'TRUE']);
    case 'uuid': {
      const known = ids[name] ?? ids.any ?? [];
      return rng.chance(0.7) && known.length > 0 ? rng.pick(known) : rng.pick([crypto.randomUUID(), '00000000-0000-0000-0000-000000000000', 'not-a-uuid', hostileString(rng)]);
    }
    case 'datetime':
      return rng.pick([new Date(Date.now() + rng.int(10) * 86_400_000).toISOString(), '2026-01-01', '9999-12-31T23:59:59Z', '0001-01-01T00:00:00+14:00', hostileString(rng)]);
    case 'enum':
      return rng.chance(0.8) ? rng.pick(meta.values) : hostileString(rng);
    case 'array':
      return Array.from({ length: rng.chance(0.1) ? 60 : rng.int(4) }, () => valueFor(rng, name, meta.item, ids, depth + 1));
    case 'object':
      return depth > 3 ? {} : objectFor(rng, meta.shape, ids, depth + 1);
    case 'file':
      return null;
  }
}

function objectFor(rng: Rng, shape: Record<string, FieldSpec<unknown>>, ids: KnownIds, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(shape)) {
    if (spec.meta.kind === 'file') continue;
    if (spec.optional && rng.chance(0.4)) continue;
    if (!spec.optional && rng.chance(0.05)) continue;
    out[name] = valueFor(rng, name, spec, ids, depth);
  }
  if (rng.chance(0.15)) out[rng.pick(['__proto__', 'extra', 'constructor'])] = hostileJson(rng, 1);
  return out;
}

/** A path segment: a known id, a random UUID or junk. */
function segmentFor(rng: Rng, name: string, ids: KnownIds, method: string): string {
  const known = ids[name] ?? [];
  // A DELETE with a real id would remove the fixtures every other request needs.
  if (method !== 'DELETE' && known.length > 0 && rng.chance(0.6)) return rng.pick(known);
  return encodePath(rng.pick([crypto.randomUUID(), 'x', '..', '%00', '00000000-0000-4000-8000-00000000000', 'A'.repeat(3_000), hostileString(rng).slice(0, 200)]));
}

/** encodeURIComponent, with lone surrogates (which it refuses) as U+FFFD. */
const encodePath = (s: string): string => encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

function queryFor(rng: Rng, route: Route, ids: KnownIds): string {
  const params = new URLSearchParams();
  for (const [name, spec] of Object.entries(route.query?.shape ?? {})) {
    if (rng.chance(0.5)) continue;
    const value = valueFor(rng, name, spec, ids);
    params.append(name, typeof value === 'string' ? value : JSON.stringify(value) ?? '');
    if (rng.chance(0.1)) params.append(name, hostileString(rng));
  }
  if (rng.chance(0.2)) params.append(rng.pick(['offset', 'limit', 'q', 'x', '']), String(hostileNumber(rng)));
  const text = params.toString();
  return text ? `?${text}` : '';
}

const CONTENT_TYPES: Record<'json' | 'form' | 'multipart', string> = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
  multipart: 'multipart/form-data; boundary=fuzz-boundary',
};

function multipartBody(rng: Rng, fields: Record<string, unknown>): Uint8Array {
  const parts: Buffer[] = [];
  const part = (head: string, value: Buffer) => parts.push(Buffer.from(`--fuzz-boundary\r\n${head}\r\n\r\n`), value, Buffer.from('\r\n'));
  if (rng.chance(0.85)) {
    const name = rng.pick(['notes.txt', 'a.md', 'doc.pdf', 'doc.docx', 'x.exe', '', 'a\u0000.txt', 'ü.txt']);
    const type = rng.pick(['text/plain', 'application/pdf', 'application/octet-stream', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', '', 'image/png']);
    const bytes = rng.pick([Buffer.from('hello fuzz world'), Buffer.alloc(0), Buffer.from('%PDF-1.4\n%garbage'), Buffer.from('PK\u0003\u0004garbage'), Buffer.from([0, 255, 254, 0]), Buffer.from('a\u0000b')]);
    part(`Content-Disposition: form-data; name="${rng.chance(0.9) ? 'file' : 'other'}"; filename="${name}"${type ? `\r\nContent-Type: ${type}` : ''}`, bytes);
  }
  for (const [name, value] of Object.entries(fields)) {
    part(`Content-Disposition: form-data; name="${name}"`, Buffer.from(typeof value === 'string' ? value : JSON.stringify(value) ?? ''));
  }
  const closing = rng.chance(0.9) ? '--fuzz-boundary--\r\n' : '--fuzz-bound';
  return new Uint8Array(Buffer.concat([...parts, Buffer.from(closing)]));
}

/** Credentials by who is calling. */
export interface Callers {
  bearer: string;
  apiKey: string;
  /** A bearer that may be revoked (AUTH-4 logs it out). */
  spare: string;
}

function authHeaders(rng: Rng, route: Route, callers: Callers): Record<string, string> {
  const bearer = route.path === '/api/auth/logout' ? callers.spare : callers.bearer;
  switch (rng.int(10)) {
    case 0: return {};
    case 1: return { authorization: rng.pick(['Bearer', 'Bearer ', 'Bearer x.y.z', 'Basic Zm9vOmJhcg==', `Bearer ${bearer}x`, `bearer ${bearer}`]) };
    case 2: return { 'x-api-key': rng.pick([callers.apiKey, 'xntr-short', `xntr-${'A'.repeat(86)}`]) };
    default: return { authorization: `Bearer ${bearer}` };
  }
}

function extraHeaders(rng: Rng): Record<string, string> {
  const headers: Record<string, string> = {};
  if (rng.chance(0.2)) headers['x-request-id'] = rng.pick(['fuzz-1', 'x'.repeat(200), 'a b', '../../etc']);
  if (rng.chance(0.2)) headers.accept = rng.pick(['text/event-stream', '*/*', 'application/xml', 'text/event-stream, application/json']);
  if (rng.chance(0.2)) headers['last-event-id'] = rng.pick(['0', '3', '-1', '2147483648', '99999999999999999999', 'abc', ' 7 ', '1e3']);
  if (rng.chance(0.1)) headers['x-forwarded-for'] = rng.pick(['1.2.3.4', 'garbage', '::1, 10.0.0.1', '']);
  if (rng.chance(0.1)) headers.origin = rng.pick(['https://evil.example', 'null']);
  return headers;
}

/** One generated request for `route`. */
export function restRequest(rng: Rng, route: Route, ids: KnownIds, callers: Callers): RestRequest {
  const method = rng.chance(0.03) ? rng.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) : route.method;
  const path = route.path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => segmentFor(rng, name, ids, method)) + queryFor(rng, route, ids);
  const headers = { ...authHeaders(rng, route, callers), ...extraHeaders(rng) };
  let body: string | Uint8Array | undefined;
  const kind = route.body?.kind ?? 'json';
  if (route.body || rng.chance(0.1)) {
    const fields = route.body ? objectFor(rng, route.body.spec.shape, ids) : {};
    const shape = rng.int(20);
    if (kind === 'multipart' && shape < 16) body = multipartBody(rng, fields);
    else if (kind === 'form' && shape < 16) body = new URLSearchParams(Object.entries(fields).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? ''])).toString();
    else if (shape < 15) body = JSON.stringify(fields);
    else if (shape < 17) body = JSON.stringify(hostileJson(rng));
    else if (shape < 19) body = garbageText(rng);
    if (body !== undefined) {
      headers['content-type'] = rng.chance(0.85) ? CONTENT_TYPES[kind] : rng.pick(['', ';', 'text/plain', 'application/json; charset=utf-16', 'multipart/form-data', 'application/x-www-form-urlencoded', 'application/json']);
    }
  }
  const shown = body === undefined ? '' : typeof body === 'string' ? body.slice(0, 300) : `<${body.length} bytes>`;
  return { method, path, headers, body, describe: `${method} ${path.slice(0, 300)} ${JSON.stringify(headers).slice(0, 300)} ${shown}` };
}

// ---------------------------------------------------------------------------------------------
// GraphQL documents from the public schema.

/** The public schema the gateway serves (schema/api.graphql). */
export function publicSchema(): GraphQLSchema {
  return buildSchema(readFileSync(new URL('../schema/api.graphql', import.meta.url), 'utf8'));
}

function inputValue(rng: Rng, type: GraphQLInputType, name: string, ids: KnownIds, depth = 0): unknown {
  if (rng.chance(0.1)) return hostileJson(rng, 1);
  if (isNonNullType(type)) return inputValue(rng, type.ofType, name, ids, depth);
  if (rng.chance(0.1)) return null;
  if (isListType(type)) return Array.from({ length: rng.int(3) }, () => inputValue(rng, type.ofType, name, ids, depth + 1));
  if (isEnumType(type)) return rng.chance(0.9) ? rng.pick(type.getValues()).name : 'NOT_A_VALUE';
  if (isInputObjectType(type)) {
    const out: Record<string, unknown> = {};
    if (depth > 3) return out;
    for (const [field, def] of Object.entries(type.getFields())) {
      if (!isNonNullType(def.type) && rng.chance(0.4)) continue;
      out[field] = inputValue(rng, def.type, field, ids, depth + 1);
    }
    return out;
  }
  switch (getNamedType(type).name) {
    case 'Int': return rng.chance(0.6) ? rng.int(50) : hostileNumber(rng);
    case 'Float': return hostileNumber(rng);
    case 'Boolean': return rng.chance(0.5);
    case 'ID': {
      const known = ids[name] ?? ids.any ?? [];
      return rng.chance(0.6) && known.length > 0 ? rng.pick(known) : rng.pick([crypto.randomUUID(), 'nope', hostileString(rng).slice(0, 100)]);
    }
    case 'DateTime': return rng.pick([new Date(Date.now() + 86_400_000).toISOString(), '2026-01-01', 'yesterday']);
    default: return rng.chance(0.4) ? hostileString(rng) : `fuzz ${rng.int(1000)}`;
  }
}

/** A selection set for `type`, `depth` levels of object fields at most. */
function selection(rng: Rng, type: GraphQLNamedType, schema: GraphQLSchema, depth: number): string {
  if (isScalarType(type) || isEnumType(type)) return '';
  if (isUnionType(type) || isInterfaceType(type)) {
    const members = isUnionType(type) ? type.getTypes() : schema.getPossibleTypes(type);
    const member = members.length > 0 ? rng.pick(members) : null;
    return `{ __typename ${member ? `... on ${member.name} ${selection(rng, member, schema, depth)}` : ''} }`;
  }
  if (!isObjectType(type)) return '';
  const fields = Object.values(type.getFields());
  const chosen = fields.filter(() => rng.chance(0.5)).slice(0, 8);
  const parts = ['__typename'];
  for (const field of chosen) {
    const named = getNamedType(field.type);
    const isLeaf = isScalarType(named) || isEnumType(named);
    if (!isLeaf && depth <= 0) continue;
    const args = field.args.length > 0 && rng.chance(0.5) ? literalArgs(rng, field.args) : '';
    parts.push(`${field.name}${args}${isLeaf ? '' : ` ${selection(rng, named, schema, depth - 1)}`}`);
  }
  return `{ ${parts.join(' ')} }`;
}

/** GraphQL literal text for a JSON value (enum-looking strings stay strings: the server decides). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (typeof value === 'object') return `{ ${Object.entries(value).filter(([k]) => /^[_A-Za-z][_0-9A-Za-z]*$/.test(k)).map(([k, v]) => `${k}: ${literal(v)}`).join(', ')} }`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '0';
  return JSON.stringify(value);
}

function literalArgs(rng: Rng, args: readonly GraphQLArgument[]): string {
  const text = args.filter(() => rng.chance(0.7)).map((a) => `${a.name}: ${literal(inputValue(rng, a.type, a.name, {}))}`);
  return text.length > 0 ? `(${text.join(', ')})` : '';
}

export interface GraphQLRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  query?: string;
  describe: string;
}

/** A root field called with variables (mostly) or literals, and a random selection. */
function rootOperation(rng: Rng, schema: GraphQLSchema, ids: KnownIds): { query: string; variables: Record<string, unknown>; operationName?: string } {
  const kind = rng.chance(0.5) ? 'query' : 'mutation';
  const root = kind === 'query' ? schema.getQueryType() : schema.getMutationType();
  if (!root) throw new Error(`schema has no ${kind} type`);
  const field: GraphQLField<unknown, unknown> = rng.pick(Object.values(root.getFields()));
  const variables: Record<string, unknown> = {};
  const defs: string[] = [];
  const args: string[] = [];
  for (const arg of field.args) {
    if (!isNonNullType(arg.type) && rng.chance(0.4)) continue;
    if (rng.chance(0.8)) {
      defs.push(`$${arg.name}: ${String(arg.type)}`);
      args.push(`${arg.name}: $${arg.name}`);
      if (rng.chance(0.95)) variables[arg.name] = inputValue(rng, arg.type, arg.name, ids);
    } else {
      args.push(`${arg.name}: ${literal(inputValue(rng, arg.type, arg.name, ids))}`);
    }
  }
  const sel = selection(rng, getNamedType(field.type), schema, 2);
  const query = `${kind} Fuzz${defs.length > 0 ? `(${defs.join(', ')})` : ''} { ${field.name}${args.length > 0 ? `(${args.join(', ')})` : ''} ${sel} }`;
  return { query, variables };
}

/** Documents that are wrong as a whole: syntax, depth, aliases, fragments, several operations. */
function hostileDocument(rng: Rng): { query: string; operationName?: string } {
  switch (rng.int(12)) {
    case 0: return { query: '{' };
    case 1: return { query: `{ ${'conversations { items { messages { items { id } } } } '.repeat(rng.int(3) + 1)}` };
    case 2: return { query: `{ ${Array.from({ length: 300 }, (_, i) => `a${i}: __typename`).join(' ')} }` };
    case 3: return { query: `query { ...F0 } ${Array.from({ length: 30 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F30 on Query { __typename }` };
    case 4: return { query: 'query A { __typename } query B { __typename }', operationName: rng.pick(['C', '', 'A', null]) ?? undefined };
    case 5: return { query: 'fragment F on Query { __typename } fragment F on Query { __typename }' };
    case 6: return { query: `{ ${'__typename @skip(if: false) '.repeat(200)} }` };
    case 7: return { query: `query ${'('.repeat(1000)}` };
    case 8: return { query: 'subscription { chatStream(input: { message: "hi" }) { type } }' };
    case 9: return { query: `{ __schema { types { name fields { name type { name ofType { name ofType { name } } } } } } }` };
    case 10: return { query: '{ conversations(limit: 2147483648, offset: -1) { total } }' };
    default: return { query: `{ __typename } ${'#'.repeat(10_000)}`, operationName: 'x'.repeat(5_000) };
  }
}

/** One generated GraphQL-over-HTTP request. */
export function graphqlRequest(rng: Rng, schema: GraphQLSchema, ids: KnownIds, callers: Callers): GraphQLRequest {
  const headers: Record<string, string> = rng.chance(0.85) ? { authorization: `Bearer ${callers.bearer}` } : rng.chance(0.5) ? { 'x-api-key': callers.apiKey } : {};
  const op = rng.chance(0.75) ? rootOperation(rng, schema, ids) : { ...hostileDocument(rng), variables: rng.chance(0.3) ? hostileJson(rng) : undefined };
  // Logging out would revoke the bearer every later request uses.
  if (/\blogout\b/.test(op.query)) headers.authorization = `Bearer ${callers.spare}`;
  if (rng.chance(0.1)) {
    const params = new URLSearchParams({ query: op.query });
    if (op.variables !== undefined) params.set('variables', rng.chance(0.8) ? JSON.stringify(op.variables) : garbageText(rng));
    if (op.operationName !== undefined) params.set('operationName', op.operationName);
    headers['apollo-require-preflight'] = 'true';
    return { method: 'GET', headers, query: params.toString(), describe: `GET /graphql?${params.toString().slice(0, 500)}` };
  }
  const shape = rng.int(20);
  let body: string;
  if (shape < 16) body = JSON.stringify({ query: op.query, variables: op.variables, operationName: op.operationName });
  else if (shape === 16) body = JSON.stringify([{ query: op.query }, { query: '{ __typename }' }]);
  else if (shape === 17) body = JSON.stringify({ query: hostileJson(rng, 1), variables: 'x', extensions: hostileJson(rng, 1) });
  else body = garbageText(rng);
  headers['content-type'] = rng.chance(0.9) ? 'application/json' : rng.pick(['', 'text/plain', 'application/graphql-response+json', 'multipart/form-data; boundary=x']);
  if (rng.chance(0.2)) headers.accept = rng.pick(['application/graphql-response+json', 'application/json', 'text/html', 'multipart/mixed']);
  return { method: 'POST', headers, body, describe: `POST /graphql ${JSON.stringify(headers).slice(0, 200)} ${body.slice(0, 600)}` };
}
