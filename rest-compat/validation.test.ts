import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type Infer,
  type ValidationErrorItem,
  RequestValidationError,
  isEmail,
  isHttpsUrl,
  isIanaZone,
  v,
  validate,
  validateRequest,
  validationErrorBody,
  codePoints,
} from './validation.ts';
import { MAX_JSON_DEPTH, parseJsonBody } from './json-body.ts';

/** Runs `fn`, expecting a RequestValidationError, and returns its items. */
function itemsOf(fn: () => unknown): ValidationErrorItem[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof RequestValidationError) return e.items;
    throw e;
  }
  throw new Error('expected RequestValidationError');
}

const Login = v.object({
  email: v.custom(v.str({ max: 254 }), (s) => (isEmail(s) ? null : 'value is not a valid email address')),
  password: v.str({ min: 8 }),
});

const ListQuery = v.object({
  limit: v.optional(v.int({ ge: 1, le: 100 }), 20),
  include_archived: v.optional(v.bool(), false),
  cursor: v.optional(v.str()),
});

describe('body fields', () => {
  it('reports a missing field with the enclosing object as input', () => {
    const body = { email: 'a@example.com' };
    expect(itemsOf(() => validate(Login, body, 'body'))).toEqual([
      { type: 'missing', loc: ['body', 'password'], msg: 'Field required', input: body },
    ]);
  });

  it('reports a wholly absent or null body as a single item at ["body"]', () => {
    const expected = [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }];
    expect(itemsOf(() => validate(Login, parseJsonBody(undefined), 'body'))).toEqual(expected);
    expect(itemsOf(() => validate(Login, parseJsonBody(''), 'body'))).toEqual(expected);
    expect(itemsOf(() => validate(Login, parseJsonBody('null'), 'body'))).toEqual(expected);
  });

  it('rejects a non-object body', () => {
    expect(itemsOf(() => validate(Login, [1], 'body'))).toEqual([
      { type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: [1] },
    ]);
  });

  it('reports string_too_short with ctx, singular for 1', () => {
    expect(itemsOf(() => validate(Login, { email: 'a@example.com', password: 'short' }, 'body'))).toEqual([
      { type: 'string_too_short', loc: ['body', 'password'], msg: 'String should have at least 8 characters', input: 'short', ctx: { min_length: 8 } },
    ]);
    const One = v.object({ name: v.str({ min: 1, max: 3 }) });
    expect(itemsOf(() => validate(One, { name: '' }, 'body'))).toEqual([
      { type: 'string_too_short', loc: ['body', 'name'], msg: 'String should have at least 1 character', input: '', ctx: { min_length: 1 } },
    ]);
    expect(itemsOf(() => validate(One, { name: 'abcd' }, 'body'))).toEqual([
      { type: 'string_too_long', loc: ['body', 'name'], msg: 'String should have at most 3 characters', input: 'abcd', ctx: { max_length: 3 } },
    ]);
  });

  it('counts string lengths in code points: a surrogate pair is one character, a lone surrogate one', () => {
    const Three = v.object({ name: v.str({ max: 3 }) });
    expect(validate(Three, { name: '😀😀😀' }, 'body')).toEqual({ name: '😀😀😀' });
    expect(itemsOf(() => validate(Three, { name: 'a😀\ud800b' }, 'body'))).toEqual([
      { type: 'string_too_long', loc: ['body', 'name'], msg: 'String should have at most 3 characters', input: 'a😀\ud800b', ctx: { max_length: 3 } },
    ]);
    for (const s of ['', 'abc', '😀', 'a😀b', '\ud800', '\udc00', '\udc00\ud800', 'x\ud800', '\ud800\ud800\udc00', 'é😀\u0000z', '\ud83d\ude00\ud83d']) {
      expect(codePoints(s)).toBe([...s].length);
    }
  });

  it('reports string_pattern_mismatch with the pattern text, checking after lowercasing', () => {
    const Grant = v.object({ grant_type: v.str({ pattern: /^password$/, lower: true }) });
    expect(validate(Grant, { grant_type: 'PASSWORD' }, 'body')).toEqual({ grant_type: 'password' });
    expect(itemsOf(() => validate(Grant, { grant_type: 'client' }, 'body'))).toEqual([
      { type: 'string_pattern_mismatch', loc: ['body', 'grant_type'], msg: "String should match pattern '^password$'", input: 'client', ctx: { pattern: '^password$' } },
    ]);
    const Custom = v.object({ slug: v.str({ pattern: /^[a-z]+$/g, patternText: 'lowercase letters' }) });
    // The /g flag must not make consecutive validations alternate between pass and fail.
    expect(validate(Custom, { slug: 'abc' }, 'body')).toEqual({ slug: 'abc' });
    expect(validate(Custom, { slug: 'abc' }, 'body')).toEqual({ slug: 'abc' });
    expect(itemsOf(() => validate(Custom, { slug: 'A1' }, 'body'))[0]?.ctx).toEqual({ pattern: 'lowercase letters' });
  });

  it('reports string_type for a number, int_type/int_from_float for non-integers', () => {
    const S = v.object({ name: v.str(), n: v.int() });
    expect(itemsOf(() => validate(S, { name: 42, n: true }, 'body'))).toEqual([
      { type: 'string_type', loc: ['body', 'name'], msg: 'Input should be a valid string', input: 42 },
      { type: 'int_type', loc: ['body', 'n'], msg: 'Input should be a valid integer', input: true },
    ]);
    expect(itemsOf(() => validate(S, { name: 'x', n: 1.5 }, 'body'))).toEqual([
      { type: 'int_from_float', loc: ['body', 'n'], msg: 'Input should be a valid integer, got a number with a fractional part', input: 1.5 },
    ]);
  });

  it('reports enum with expected in ctx', () => {
    const E = v.object({ role: v.enumOf(['owner', 'admin', 'member'] as const), two: v.optional(v.enumOf(['a', 'b'])) });
    expect(itemsOf(() => validate(E, { role: 'root', two: 'c' }, 'body'))).toEqual([
      { type: 'enum', loc: ['body', 'role'], msg: "Input should be 'owner', 'admin' or 'member'", input: 'root', ctx: { expected: "'owner', 'admin' or 'member'" } },
      { type: 'enum', loc: ['body', 'two'], msg: "Input should be 'a' or 'b'", input: 'c', ctx: { expected: "'a' or 'b'" } },
    ]);
    expect(validate(E, { role: 'admin' }, 'body')).toEqual({ role: 'admin' });
  });

  it('puts list indexes in loc and checks list shape and length', () => {
    const Key = v.object({ scopes: v.list(v.enumOf(['read', 'write']), { min: 1, max: 3, unique: true }) });
    expect(itemsOf(() => validate(Key, { scopes: ['read', 'write', 'admin'] }, 'body'))).toEqual([
      { type: 'enum', loc: ['body', 'scopes', 2], msg: "Input should be 'read' or 'write'", input: 'admin', ctx: { expected: "'read' or 'write'" } },
    ]);
    expect(itemsOf(() => validate(Key, { scopes: 'read' }, 'body'))).toEqual([
      { type: 'list_type', loc: ['body', 'scopes'], msg: 'Input should be a valid list', input: 'read' },
    ]);
    expect(itemsOf(() => validate(Key, { scopes: [] }, 'body'))).toEqual([
      { type: 'too_short', loc: ['body', 'scopes'], msg: 'List should have at least 1 item after validation, not 0', input: [], ctx: { field_type: 'List', min_length: 1, actual_length: 0 } },
    ]);
    const four = ['read', 'read', 'read', 'read'];
    expect(itemsOf(() => validate(Key, { scopes: four }, 'body'))).toEqual([
      { type: 'too_long', loc: ['body', 'scopes'], msg: 'List should have at most 3 items after validation, not 4', input: four, ctx: { field_type: 'List', max_length: 3, actual_length: 4 } },
    ]);
    expect(itemsOf(() => validate(Key, { scopes: ['read', 'read'] }, 'body'))).toEqual([
      { type: 'value_error', loc: ['body', 'scopes'], msg: 'Value error, items must be unique', input: ['read', 'read'], ctx: { error: {} } },
    ]);
  });

  it('reports custom checks as value_error, and cross-field rules at ["body"]', () => {
    expect(itemsOf(() => validate(Login, { email: 'nope', password: 'long enough' }, 'body'))).toEqual([
      { type: 'value_error', loc: ['body', 'email'], msg: 'Value error, value is not a valid email address', input: 'nope', ctx: { error: {} } },
    ]);
    const Range = v.custom(v.object({ start: v.int(), end: v.int() }), (r) => (r.start <= r.end ? null : 'start must not be after end'));
    const body = { start: 5, end: 1 };
    expect(itemsOf(() => validate(Range, body, 'body'))).toEqual([
      { type: 'value_error', loc: ['body'], msg: 'Value error, start must not be after end', input: body, ctx: { error: {} } },
    ]);
    // The cross-field rule only runs once every field is valid, as a Pydantic after-validator does.
    expect(itemsOf(() => validate(Range, { start: 'x', end: 1 }, 'body')).map((i) => i.type)).toEqual(['int_parsing']);
  });

  it('ignores unknown fields and leaves absent optionals out', () => {
    expect(validate(Login, { email: 'a@example.com', password: 'hunter2!!', admin: true }, 'body')).toEqual({
      email: 'a@example.com',
      password: 'hunter2!!',
    });
    const P = v.object({ note: v.optional(v.nullable(v.str())), tags: v.optional(v.list(v.str()), []) });
    expect(validate(P, {}, 'body')).toEqual({ tags: [] });
    expect(validate(P, { note: null }, 'body')).toEqual({ note: null, tags: [] });
    const a = validate(P, {}, 'body');
    a.tags?.push('mutated');
    expect(validate(P, {}, 'body').tags).toEqual([]); // defaults are copied, not shared
  });

  it('collects every error in schema field order, not input order', () => {
    const S = v.object({ a: v.str({ min: 2 }), b: v.int({ le: 5 }), c: v.bool(), d: v.str() });
    const body = { c: 'maybe', b: 9, a: 'x' };
    expect(itemsOf(() => validate(S, body, 'body'))).toEqual([
      { type: 'string_too_short', loc: ['body', 'a'], msg: 'String should have at least 2 characters', input: 'x', ctx: { min_length: 2 } },
      { type: 'less_than_equal', loc: ['body', 'b'], msg: 'Input should be less than or equal to 5', input: 9, ctx: { le: 5 } },
      { type: 'bool_parsing', loc: ['body', 'c'], msg: 'Input should be a valid boolean, unable to interpret input', input: 'maybe' },
      { type: 'missing', loc: ['body', 'd'], msg: 'Field required', input: body },
    ]);
  });

  it('validates nested objects with the nested object as missing input', () => {
    const S = v.object({ owner: v.object({ id: v.uuid(), name: v.str() }) });
    expect(itemsOf(() => validate(S, { owner: { id: 'x' } }, 'body'))).toEqual([
      expect.objectContaining({ type: 'uuid_parsing', loc: ['body', 'owner', 'id'] }),
      { type: 'missing', loc: ['body', 'owner', 'name'], msg: 'Field required', input: { id: 'x' } },
    ]);
  });
});

describe('query, path, header and form values', () => {
  it('parses ints and enforces bounds with ctx', () => {
    expect(validate(ListQuery, { limit: '50' }, 'query')).toEqual({ limit: 50, include_archived: false });
    expect(validate(ListQuery, {}, 'query')).toEqual({ limit: 20, include_archived: false });
    expect(itemsOf(() => validate(ListQuery, { limit: '0' }, 'query'))).toEqual([
      { type: 'greater_than_equal', loc: ['query', 'limit'], msg: 'Input should be greater than or equal to 1', input: '0', ctx: { ge: 1 } },
    ]);
    expect(itemsOf(() => validate(ListQuery, { limit: '101' }, 'query'))).toEqual([
      { type: 'less_than_equal', loc: ['query', 'limit'], msg: 'Input should be less than or equal to 100', input: '101', ctx: { le: 100 } },
    ]);
    expect(itemsOf(() => validate(ListQuery, { limit: 'abc' }, 'query'))).toEqual([
      { type: 'int_parsing', loc: ['query', 'limit'], msg: 'Input should be a valid integer, unable to parse string as an integer', input: 'abc' },
    ]);
    expect(itemsOf(() => validate(ListQuery, { limit: '' }, 'query'))[0]?.type).toBe('int_parsing');
  });

  it('bounds an integer the spec leaves open to a 32-bit GraphQL Int', () => {
    const Page = v.object({ offset: v.optional(v.int({ ge: 0 }), 0), n: v.optional(v.int()) });
    expect(validate(Page, { offset: '2147483647', n: '-2147483648' }, 'query')).toEqual({ offset: 2147483647, n: -2147483648 });
    expect(itemsOf(() => validate(Page, { offset: '2147483648', n: '-2147483649' }, 'query'))).toEqual([
      { type: 'less_than_equal', loc: ['query', 'offset'], msg: 'Input should be less than or equal to 2147483647', input: '2147483648', ctx: { le: 2147483647 } },
      { type: 'greater_than_equal', loc: ['query', 'n'], msg: 'Input should be greater than or equal to -2147483648', input: '-2147483649', ctx: { ge: -2147483648 } },
    ]);
    expect(Page.shape.offset?.meta).toEqual({ kind: 'integer', ge: 0, le: 2147483647 });
  });

  it('refuses NUL in any string, after its other checks, as a value_error', () => {
    const Note = v.object({ title: v.str({ min: 1, max: 5 }), tags: v.optional(v.list(v.str())) });
    const nul = (loc: (string | number)[], input: string) => ({ type: 'value_error', loc, msg: 'Value error, String should not contain NUL characters', input, ctx: { error: {} } });
    expect(itemsOf(() => validate(Note, { title: 'a\u0000b', tags: ['ok', '\u0000'] }, 'body'))).toEqual([nul(['body', 'title'], 'a\u0000b'), nul(['body', 'tags', 1], '\u0000')]);
    expect(itemsOf(() => validate(Note, { title: 'toolong\u0000' }, 'body'))[0]?.type).toBe('string_too_long');
    expect(itemsOf(() => validate(v.object({ q: v.str() }), { q: '\u0000' }, 'query'))).toEqual([nul(['query', 'q'], '\u0000')]);
  });

  it("accepts Pydantic's lax integer spellings", () => {
    for (const [text, n] of [[' 12 ', 12], ['+7', 7], ['1_000', 1000], ['12.0', 12], ['-0', -0]] as const) {
      expect(validate(v.object({ n: v.int() }), { n: text }, 'query')).toEqual({ n });
    }
    expect(itemsOf(() => validate(v.object({ n: v.int() }), { n: '1.5' }, 'query'))[0]?.type).toBe('int_parsing');
  });

  it('parses booleans case-insensitively', () => {
    expect(validate(ListQuery, { include_archived: 'TRUE' }, 'query').include_archived).toBe(true);
    expect(validate(ListQuery, { include_archived: '1' }, 'query').include_archived).toBe(true);
    expect(validate(ListQuery, { include_archived: 'False' }, 'query').include_archived).toBe(false);
    expect(validate(ListQuery, { include_archived: '0' }, 'query').include_archived).toBe(false);
    expect(validate(ListQuery, { include_archived: 'Yes' }, 'query').include_archived).toBe(true);
    expect(validate(ListQuery, { include_archived: 'off' }, 'query').include_archived).toBe(false);
    expect(itemsOf(() => validate(ListQuery, { include_archived: 'constructor' }, 'query'))[0]?.type).toBe('bool_parsing');
    expect(itemsOf(() => validate(ListQuery, { include_archived: 'maybe' }, 'query'))).toEqual([
      { type: 'bool_parsing', loc: ['query', 'include_archived'], msg: 'Input should be a valid boolean, unable to interpret input', input: 'maybe' },
    ]);
  });

  it('reports a missing query param with input null and takes the last repeated value', () => {
    const Q = v.object({ q: v.str(), tag: v.optional(v.list(v.str())) });
    expect(itemsOf(() => validate(Q, {}, 'query'))).toEqual([{ type: 'missing', loc: ['query', 'q'], msg: 'Field required', input: null }]);
    expect(validate(Q, { q: ['a', 'b'], tag: 'x' }, 'query')).toEqual({ q: 'b', tag: ['x'] });
    expect(validate(Q, { q: 'a', tag: ['x', 'y'] }, 'query')).toEqual({ q: 'a', tag: ['x', 'y'] });
  });

  it('reports uuid_parsing in path params and lowercases valid UUIDs', () => {
    const P = v.object({ key_id: v.uuid() });
    const error = 'invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `x` at 1';
    expect(itemsOf(() => validate(P, { key_id: 'x' }, 'path'))).toEqual([
      { type: 'uuid_parsing', loc: ['path', 'key_id'], msg: `Input should be a valid UUID, ${error}`, input: 'x', ctx: { error } },
    ]);
    expect(itemsOf(() => validate(P, { key_id: '1234' }, 'path'))[0]?.ctx).toEqual({
      error: 'invalid length: expected length 32 for simple format, found 4',
    });
    expect(itemsOf(() => validate(P, { key_id: '1234-5678' }, 'path'))[0]?.ctx).toEqual({ error: 'invalid group count: expected 5, found 2' });
    expect(validate(P, { key_id: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11' }, 'path')).toEqual({ key_id: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' });
    expect(validate(P, { key_id: 'a0eebc999c0b4ef8bb6d6bb9bd380a11' }, 'path')).toEqual({ key_id: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' });
  });

  it('reports missing headers with input null', () => {
    const H = v.object({ 'x-request-id': v.uuid() });
    expect(itemsOf(() => validate(H, {}, 'header'))).toEqual([{ type: 'missing', loc: ['header', 'x-request-id'], msg: 'Field required', input: null }]);
  });

  it('treats empty form values as absent and reports form errors under "body"', () => {
    const F = v.object({ username: v.str(), remember: v.optional(v.bool(), false) });
    expect(itemsOf(() => validate(F, { username: '' }, 'form'))).toEqual([
      { type: 'missing', loc: ['body', 'username'], msg: 'Field required', input: null },
    ]);
    expect(itemsOf(() => validate(F, undefined, 'form'))).toEqual([
      { type: 'missing', loc: ['body', 'username'], msg: 'Field required', input: null },
    ]);
    expect(validate(F, { username: 'ann', remember: 'true' }, 'form')).toEqual({ username: 'ann', remember: true });
  });
});

describe('datetime', () => {
  const S = v.object({ at: v.datetime() });
  it('parses RFC 3339 with an offset', () => {
    expect(validate(S, { at: '2024-03-01T12:30:00+02:00' }, 'body').at.toISOString()).toBe('2024-03-01T10:30:00.000Z');
    expect(validate(S, { at: '2024-02-29T00:00:00.1234Z' }, 'body').at.toISOString()).toBe('2024-02-29T00:00:00.123Z');
  });
  it('requires timezone info, including for date-only input', () => {
    for (const at of ['2024-03-01T12:30:00', '2024-03-01']) {
      expect(itemsOf(() => validate(S, { at }, 'body'))).toEqual([
        { type: 'timezone_aware', loc: ['body', 'at'], msg: 'Input should have timezone info', input: at },
      ]);
    }
  });
  it('reports datetime_from_date_parsing with ctx.error', () => {
    expect(itemsOf(() => validate(S, { at: '2023-02-29T00:00:00Z' }, 'body'))).toEqual([
      {
        type: 'datetime_from_date_parsing',
        loc: ['body', 'at'],
        msg: 'Input should be a valid datetime or date, day value is outside expected range',
        input: '2023-02-29T00:00:00Z',
        ctx: { error: 'day value is outside expected range' },
      },
    ]);
    expect(itemsOf(() => validate(S, { at: 'soon' }, 'body'))[0]).toMatchObject({ type: 'datetime_from_date_parsing', ctx: { error: 'input is too short' } });
  });
});

describe('parseJsonBody', () => {
  const jsonError = (text: string) => itemsOf(() => parseJsonBody(text));
  const item = (pos: number, error: string) => [{ type: 'json_invalid', loc: ['body', pos], msg: 'JSON decode error', input: {}, ctx: { error } }];

  it('returns parsed JSON or undefined for an empty body', () => {
    expect(parseJsonBody('{"a": [1, true]}')).toEqual({ a: [1, true] });
    expect(parseJsonBody(undefined)).toBeUndefined();
    expect(parseJsonBody('')).toBeUndefined();
  });

  it("reports Python json's position and message", () => {
    expect(jsonError('{"a": }')).toEqual(item(6, 'Expecting value'));
    expect(jsonError('{"a": 1,}')).toEqual(item(8, 'Expecting property name enclosed in double quotes'));
    expect(jsonError('{"a" 1}')).toEqual(item(5, "Expecting ':' delimiter"));
    expect(jsonError('{"a": 1 "b": 2}')).toEqual(item(8, "Expecting ',' delimiter"));
    expect(jsonError('[1, 2')).toEqual(item(5, "Expecting ',' delimiter"));
    expect(jsonError('{} x')).toEqual(item(3, 'Extra data'));
    expect(jsonError('{"a": "abc')).toEqual(item(6, 'Unterminated string starting at'));
    expect(jsonError('{"a": "\\q"}')).toEqual(item(7, 'Invalid \\escape'));
    expect(jsonError('{"a": "\n"}')).toEqual(item(7, 'Invalid control character at'));
    expect(jsonError('   ')).toEqual(item(3, 'Expecting value'));
    expect(jsonError('["\\u12"]')).toEqual(item(3, 'Invalid \\uXXXX escape'));
    expect(jsonError('[1,]')).toEqual(item(3, 'Expecting value'));
    expect(jsonError('01')).toEqual(item(1, 'Extra data'));
    expect(jsonError('{"é😀": x}')).toEqual(item(7, 'Expecting value')); // code points, not UTF-16 units
  });

  it('refuses nesting deeper than MAX_JSON_DEPTH at the bracket that goes too deep, brackets in strings aside', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(parseJsonBody(deep(MAX_JSON_DEPTH))).toBeDefined();
    expect(jsonError(deep(MAX_JSON_DEPTH + 1))).toEqual(item(MAX_JSON_DEPTH, `Nesting deeper than ${MAX_JSON_DEPTH} levels`));
    expect(jsonError(`{"a":${'{"a":'.repeat(100_000)}1`)).toEqual(item(5 * MAX_JSON_DEPTH, `Nesting deeper than ${MAX_JSON_DEPTH} levels`));
    expect(parseJsonBody(JSON.stringify({ s: '['.repeat(1_000), t: '"\\[' }))).toEqual({ s: '['.repeat(1_000), t: '"\\[' });
  });
});

describe('validateRequest', () => {
  it('collects path, query, then body items into one error', () => {
    const specs = { body: Login, query: ListQuery, path: v.object({ key_id: v.uuid() }) };
    const items = itemsOf(() => validateRequest(specs, { body: { email: 'a@example.com' }, query: { limit: '0' }, path: { key_id: 'x' } }));
    expect(items.map((i) => i.loc)).toEqual([['path', 'key_id'], ['query', 'limit'], ['body', 'password']]);
    expect(validationErrorBody(items)).toEqual({ detail: items });
  });

  it('returns typed values per source', () => {
    const specs = { path: v.object({ key_id: v.uuid() }), query: ListQuery, body: Login };
    const out = validateRequest(specs, {
      path: { key_id: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11' },
      query: { limit: '5' },
      body: parseJsonBody('{"email": "a@example.com", "password": "12345678"}'),
    });
    expect(out).toEqual({
      path: { key_id: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
      query: { limit: 5, include_archived: false },
      body: { email: 'a@example.com', password: '12345678' },
    });
    expectTypeOf(out.query.limit).toEqualTypeOf<number>();
    expectTypeOf(out.body.password).toEqualTypeOf<string>();
  });
});

describe('types', () => {
  it('infers object outputs', () => {
    const _S = v.object({
      id: v.uuid(),
      n: v.optional(v.int()),
      n2: v.optional(v.int(), 3),
      role: v.enumOf(['a', 'b'] as const),
      tags: v.list(v.str()),
      at: v.nullable(v.datetime()),
      nested: v.object({ ok: v.bool() }),
    });
    expectTypeOf<Infer<typeof _S>>().toEqualTypeOf<{
      id: string;
      n?: number | undefined;
      n2: number;
      role: 'a' | 'b';
      tags: string[];
      at: Date | null;
      nested: { ok: boolean };
    }>();
  });
});

describe('format helpers', () => {
  it('isEmail', () => {
    expect(isEmail('a.b+c@example.co.uk')).toBe(true);
    for (const bad of ['nope', '@example.com', 'a@b', 'a..b@example.com', 'a@-x.com', `${'a'.repeat(65)}@example.com`, `a@${'b'.repeat(250)}.com`]) {
      expect(isEmail(bad)).toBe(false);
    }
  });
  it('isIanaZone', () => {
    for (const ok of ['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'Asia/Calcutta']) expect(isIanaZone(ok)).toBe(true);
    for (const bad of ['Mars/Olympus', 'europe/berlin', '+05:00', '', 'Europe/Berlin ']) expect(isIanaZone(bad)).toBe(false);
  });
  it('isHttpsUrl', () => {
    expect(isHttpsUrl('https://example.com/cb')).toBe(true);
    for (const bad of ['http://example.com', 'example.com', 'https://', 'javascript:alert(1)']) expect(isHttpsUrl(bad)).toBe(false);
  });
});
