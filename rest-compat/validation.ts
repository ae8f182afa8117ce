/**
 * FastAPI / Pydantic v2 compatible request validation for the REST compatibility layer. A small
 * hand-rolled DSL rather than zod: the 422 contract pins Pydantic's `type`/`loc`/`msg`/`input`/`ctx`
 * exactly, and zod issues lack what is needed to rebuild them (e.g. the enclosing object as the
 * `input` of a missing field, Pydantic's lax parsing of query strings).
 */
import { UploadedFile } from '../gateway/multipart.ts';

/** One entry of a FastAPI 422 `detail` array. `ctx` is present only for constraint-style errors. */
export interface ValidationErrorItem { type: string; loc: (string | number)[]; msg: string; input: unknown; ctx?: Record<string, unknown> }

/** Thrown by the validators; render with `validationErrorBody(err.items)` and status 422. */
export class RequestValidationError extends Error {
  constructor(readonly items: ValidationErrorItem[]) {
    super(`Request validation failed: ${items.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; ')}`);
    this.name = 'RequestValidationError';
  }
}

/** The 422 response body FastAPI sends. */
export function validationErrorBody(items: ValidationErrorItem[]): { detail: ValidationErrorItem[] } { return { detail: items }; }

/** Where a value came from; `form` bodies report their loc as `"body"`, as FastAPI does. */
export type Source = 'body' | 'query' | 'path' | 'header' | 'form';

type Loc = (string | number)[];
type Result<T> = { ok: true; value: T } | { ok: false };
/** `text`: values are raw strings (query/path/header/form) that int/bool specs must parse. */
interface Run { text: boolean; form: boolean; items: ValidationErrorItem[] }

/** Validator for one value. Build with `v.*`; the members are internal plumbing. */
export interface FieldSpec<T> {
  /** May be absent from its enclosing object. */
  readonly optional: boolean;
  /** Used when absent (only meaningful when `optional`). */
  readonly dflt?: T | undefined;
  /** Accepts repeated query values (so a repeated scalar param is not collapsed to its last value). */
  readonly list: boolean;
  /** Validates a present value; pushes items onto `run.items` on failure. */
  readonly parse: (input: unknown, loc: Loc, run: Run) => Result<T>;
  /** What the spec accepts, for generated documentation (OpenAPI); never consulted by `parse`. */
  readonly meta: SpecMeta;
}

/**
 * An introspectable description of a spec: its kind and constraints as declared, plus the
 * modifiers (`nullable`, and `note` from `v.custom`, whose check is code and cannot be described).
 */
export type SpecMeta = (
  | { kind: 'string'; min?: number; max?: number; pattern?: string; lower?: boolean }
  | { kind: 'integer'; ge?: number; le?: number }
  | { kind: 'boolean' }
  | { kind: 'uuid' }
  | { kind: 'datetime' }
  | { kind: 'date' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'array'; item: FieldSpec<unknown>; min?: number; max?: number; unique?: boolean }
  | { kind: 'object'; shape: Shape }
  | { kind: 'file' }
) & { nullable?: boolean; note?: string };

type Shape = Record<string, FieldSpec<unknown>>;
/** An object spec: what `validate` accepts, and usable as a nested field. */
export interface ObjectSpec<O> extends FieldSpec<O> { readonly shape: Shape }

/** Output type of a spec. */
export type Infer<S> = S extends FieldSpec<infer T> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<S> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
/** Fields whose output admits `undefined` become optional keys (absent fields are left out). */
export type ObjectOutput<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const FAIL: { ok: false } = { ok: false };

function fail(run: Run, type: string, loc: Loc, msg: string, input: unknown, ctx?: Record<string, unknown>): { ok: false } {
  run.items.push(ctx === undefined ? { type, loc, msg, input } : { type, loc, msg, input, ctx });
  return FAIL;
}

/** Reports one error for the value being checked (its loc and input are bound by `leaf`). */
type Bad = (type: string, msg: string, ctx?: Record<string, unknown>) => { ok: false };
const leaf = <T>(check: (input: unknown, bad: Bad, run: Run, loc: Loc) => Result<T>, meta: SpecMeta, list = false): FieldSpec<T> => ({
  optional: false,
  list,
  meta,
  parse: (input, loc, run) => check(input, (type, msg, ctx) => fail(run, type, loc, msg, input, ctx), run, loc),
});
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `str`; `lower` lowercases before the length and pattern checks (Pydantic's to_lower would match the raw text). */
function str(opts: { min?: number; max?: number; pattern?: RegExp; patternText?: string; lower?: boolean } = {}): FieldSpec<string> {
  // A caller's /g or /y regex would make .test() stateful across requests.
  const re = opts.pattern && new RegExp(opts.pattern.source, opts.pattern.flags.replace(/[gy]/g, ''));
  const pattern = opts.patternText ?? re?.source;
  return leaf((input, bad) => {
    if (typeof input !== 'string') return bad('string_type', 'Input should be a valid string');
    const s = opts.lower ? input.toLowerCase() : input;
    const len = codePoints(s); // Pydantic counts code points, not UTF-16 units
    if (opts.min !== undefined && len < opts.min) return bad('string_too_short', `String should have at least ${plural(opts.min, 'character')}`, { min_length: opts.min });
    if (opts.max !== undefined && len > opts.max) return bad('string_too_long', `String should have at most ${plural(opts.max, 'character')}`, { max_length: opts.max });
    if (re && !re.test(s)) return bad('string_pattern_mismatch', `String should match pattern '${pattern}'`, { pattern });
    return s.includes('\u0000') ? badNul(bad) : ok(s);
  }, { kind: 'string', min: opts.min, max: opts.max, pattern: re?.source, lower: opts.lower });
}

/**
 * The number of code points in `s`, as `[...s].length` counts them (a surrogate pair is one, a lone
 * surrogate one), without building an array of one string per character: a token field of a few
 * hundred characters is checked on every request of INT-2.
 */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i += 1) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) continue;
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) {
      n -= 1;
      i += 1;
    }
  }
  return n;
}

/**
 * No text field may hold NUL (U+0000): PostgreSQL cannot store it in `text` or `jsonb`, so it is
 * refused here, as an after-validator would, rather than failing at the database.
 */
const badNul = (bad: Bad): { ok: false } => bad('value_error', 'Value error, String should not contain NUL characters', { error: {} });

/**
 * Every REST integer becomes a GraphQL `Int` variable, which is 32-bit: a bound a spec leaves open
 * is this range, reported like a declared one (and documented as one).
 */
const INT32 = { ge: -2_147_483_648, le: 2_147_483_647 } as const;

/** `int` with optional bounds; strings (query values, and JSON strings as in Pydantic's lax mode) are parsed. */
function int(declared: { ge?: number; le?: number } = {}): FieldSpec<number> {
  const opts = { ...INT32, ...declared };
  return leaf((input, bad) => {
    if (typeof input === 'number' && !Number.isInteger(input)) return bad('int_from_float', 'Input should be a valid integer, got a number with a fractional part');
    // Pydantic's lax mode parses strings in JSON bodies too, so both modes share this path.
    const t = typeof input === 'string' ? input.trim() : null;
    if (t !== null && (!/^[+-]?\d+(?:_\d+)*(?:\.0*)?$/.test(t) || !Number.isSafeInteger(Number(t.replaceAll('_', '')))))
      return bad('int_parsing', 'Input should be a valid integer, unable to parse string as an integer');
    if (t === null && typeof input !== 'number') return bad('int_type', 'Input should be a valid integer');
    const n = Number(t?.replaceAll('_', '') ?? input);
    if (opts.le !== undefined && n > opts.le) return bad('less_than_equal', `Input should be less than or equal to ${opts.le}`, { le: opts.le });
    if (opts.ge !== undefined && n < opts.ge) return bad('greater_than_equal', `Input should be greater than or equal to ${opts.ge}`, { ge: opts.ge });
    return ok(n);
  }, { kind: 'integer', ge: opts.ge, le: opts.le });
}

// Pydantic's lax-mode words; a Map so "constructor" and friends are not found on a prototype.
const BOOL_WORDS = new Map(Object.entries({ true: true, 1: true, yes: true, on: true, t: true, y: true,
  false: false, 0: false, no: false, off: false, f: false, n: false }));
/** `bool`; also accepts Pydantic's words ("true"/"1"/"yes"/"on"/"t"/"y" and negatives, any case) and 1/0. */
function bool(): FieldSpec<boolean> {
  return leaf((input, bad) => {
    if (typeof input === 'boolean') return ok(input);
    const t = typeof input === 'string' ? input.toLowerCase() : typeof input === 'number' ? String(input) : null;
    const word = t === null ? undefined : BOOL_WORDS.get(t);
    if (word !== undefined) return ok(word);
    if (t !== null) return bad('bool_parsing', 'Input should be a valid boolean, unable to interpret input');
    return bad('bool_type', 'Input should be a valid boolean');
  }, { kind: 'boolean' });
}

/** Mirrors the `uuid` crate's parse errors so `ctx.error` reads like Pydantic's. */
function uuidError(input: string): string | null {
  const offset = input.startsWith('urn:uuid:') ? 9 : /^\{.*\}$/s.test(input) ? 1 : 0;
  const s = input.slice(offset, offset === 1 ? -1 : undefined);
  const bad = [...s].findIndex((c) => !/[0-9a-fA-F-]/.test(c));
  if (bad >= 0) return `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${[...s][bad]}\` at ${bad + offset + 1}`;
  const groups = s.split('-');
  if (groups.length === 1) return s.length === 32 && offset === 0 ? null : `invalid length: expected length 32 for simple format, found ${s.length}`;
  if (groups.length !== 5) return `invalid group count: expected 5, found ${groups.length}`;
  const want = [8, 4, 4, 4, 12];
  const g = groups.findIndex((grp, i) => grp.length !== want[i]);
  return g < 0 ? null : `invalid group length in group ${g}: expected ${want[g]}, found ${groups[g]?.length}`;
}
const HYPHENATED_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** `UUID`; accepts hyphenated, simple, braced and urn forms, outputs lowercase hyphenated. */
function uuid(): FieldSpec<string> {
  return leaf((input, bad) => {
    if (typeof input !== 'string') return bad('uuid_type', 'UUID input should be a string, bytes or UUID object');
    // The usual form, hyphenated: what the general path below would answer, without its work.
    if (HYPHENATED_UUID.test(input)) return ok(input.toLowerCase());
    const error = uuidError(input);
    if (error) return bad('uuid_parsing', `Input should be a valid UUID, ${error}`, { error });
    const hex = input.replace(/^urn:uuid:|[{}-]/g, '').toLowerCase();
    return ok(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`);
  }, { kind: 'uuid' });
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;
/** Pydantic `AwareDatetime` from RFC 3339 text; a missing offset is `timezone_aware`. */
function datetime(): FieldSpec<Date> {
  return leaf((input, bad) => {
    if (typeof input !== 'string') return bad('datetime_type', 'Input should be a valid datetime');
    const m = DATETIME.exec(input);
    const n = (i: number): number => Number(m?.[i] ?? 0);
    const [y, mo, d, h, mi, sec] = [n(1), n(2), n(3), n(4), n(5), n(6)];
    const monthDays = mo === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(mo) ? 30 : 31;
    const error = !m ? (input.length < 10 ? 'input is too short' : 'invalid datetime format, expected RFC 3339')
      : mo < 1 || mo > 12 ? 'month value is outside expected range of 1-12'
      : d < 1 || d > monthDays ? 'day value is outside expected range'
      : h > 23 ? 'hour value is outside expected range of 0-23'
      : mi > 59 ? 'minute value is outside expected range of 0-59'
      : sec > 59 ? 'second value is outside expected range of 0-59'
      : m[10] !== undefined && (n(10) > 23 || n(11) > 59) ? 'timezone offset must be less than 24 hours'
      : null;
    if (error || !m) return bad('datetime_from_date_parsing', `Input should be a valid datetime or date, ${error}`, { error: error ?? '' });
    // Pydantic reads a date-only value as naive midnight, which an aware-datetime field then rejects.
    if (!m[8] && !m[9]) return bad('timezone_aware', 'Input should have timezone info');
    // Date.UTC maps years 0-99 to 19xx, so the real year is set afterwards (day was checked against it).
    const local = new Date(Date.UTC(2000, mo - 1, d, h, mi, sec, Number((m[7] ?? '').padEnd(3, '0').slice(0, 3)))).setUTCFullYear(y);
    const offsetMin = m[9] ? (m[9] === '-' ? -1 : 1) * (n(10) * 60 + n(11)) : 0;
    const instant = new Date(local - offsetMin * 60_000);
    // Stored and sent in UTC (§1.1), where only years 1–9999 exist: 0001-01-01T00:00:00+14:00 does not.
    const utcYear = instant.getUTCFullYear();
    if (utcYear < 1 || utcYear > 9999) {
      const range = `year ${utcYear} in UTC is out of range`;
      return bad('datetime_from_date_parsing', `Input should be a valid datetime or date, ${range}`, { error: range });
    }
    return ok(instant);
  }, { kind: 'datetime' });
}

/** A string enum / `Literal[...]`. */
function enumOf<T extends string>(values: readonly T[]): FieldSpec<T> {
  const quoted = values.map((x) => `'${x}'`);
  const expected = quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}` : (quoted[0] ?? '');
  return leaf((input, bad) => {
    const hit = values.find((x) => x === input);
    return hit !== undefined ? ok(hit) : bad('enum', `Input should be ${expected}`, { expected });
  }, { kind: 'enum', values });
}

/** `list[T]`; `unique` adds a value_error on duplicates. In query mode a lone value becomes a 1-item list. */
function list<T>(item: FieldSpec<T>, opts: { min?: number; max?: number; unique?: boolean } = {}): FieldSpec<T[]> {
  return leaf((input, bad, run, loc) => {
    // A single query value for a list param arrives as a bare string.
    const arr = run.text && typeof input === 'string' ? [input] : input;
    if (!Array.isArray(arr)) return bad('list_type', 'Input should be a valid list');
    const actual_length = arr.length;
    // Pydantic checks max_length before the items but min_length only after them.
    if (opts.max !== undefined && actual_length > opts.max)
      return bad('too_long', `List should have at most ${plural(opts.max, 'item')} after validation, not ${actual_length}`, { field_type: 'List', max_length: opts.max, actual_length });
    const results = arr.map((el: unknown, i) => item.parse(el, [...loc, i], run));
    const out = results.flatMap((r) => (r.ok ? [r.value] : []));
    if (out.length !== results.length) return FAIL;
    if (opts.min !== undefined && actual_length < opts.min)
      return bad('too_short', `List should have at least ${plural(opts.min, 'item')} after validation, not ${actual_length}`, { field_type: 'List', min_length: opts.min, actual_length });
    if (opts.unique && new Set(out.map((x) => (typeof x === 'object' ? JSON.stringify(x) : x))).size !== out.length)
      return bad('value_error', 'Value error, items must be unique', { error: {} });
    return ok(out);
  }, { kind: 'array', item, min: opts.min, max: opts.max, unique: opts.unique }, true);
}

/**
 * FastAPI's `UploadFile` (a multipart file part). A text value in its place is FastAPI's
 * `value_error` "Expected UploadFile"; an empty text value counts as absent (form mode).
 */
function file(): FieldSpec<UploadedFile> {
  return leaf((input, bad) => {
    if (input instanceof UploadedFile) return input.filename.includes('\u0000') ? badNul(bad) : ok(input);
    const pyType = typeof input === 'string' ? 'str' : typeof input;
    return bad('value_error', `Value error, Expected UploadFile, received: <class '${pyType}'>`, { error: {} });
  }, { kind: 'file' });
}

/**
 * Adds a check returning error text (→ `value_error`); on an object spec it is a cross-field rule at
 * the object's loc. `note` describes the rule in generated documentation.
 */
function custom<O>(base: ObjectSpec<O>, check: (value: O) => string | null, note?: string): ObjectSpec<O>;
function custom<T>(base: FieldSpec<T>, check: (value: T) => string | null, note?: string): FieldSpec<T>;
function custom<T>(base: FieldSpec<T>, check: (value: T) => string | null, note?: string): FieldSpec<T> {
  // Like a Pydantic after-validator: runs only on a value that already passed `base`.
  const parse: FieldSpec<T>['parse'] = (input, loc, run) => {
    const r = base.parse(input, loc, run);
    const error = r.ok ? check(r.value) : null;
    return error === null ? r : fail(run, 'value_error', loc, `Value error, ${error}`, input, { error: {} });
  };
  return { ...base, parse, meta: note === undefined ? base.meta : { ...base.meta, note } };
}

/** May be absent; absent yields `dflt` (copied per request) or leaves the key out. */
function optional<T>(s: FieldSpec<T>): FieldSpec<T | undefined>;
function optional<T>(s: FieldSpec<T>, dflt: T): FieldSpec<T>;
function optional<T>(s: FieldSpec<T>, dflt?: T): FieldSpec<T | undefined> {
  return { ...s, optional: true, dflt };
}

/** Also accepts JSON null. */
function nullable<T>(s: FieldSpec<T>): FieldSpec<T | null> {
  return { ...s, parse: (input, loc, run) => (input === null ? ok(null) : s.parse(input, loc, run)), meta: { ...s.meta, nullable: true } };
}

/** A model; unknown keys are ignored, a missing field's input is the object (null outside bodies). */
function object<S extends Shape>(shape: S): ObjectSpec<ObjectOutput<S>> {
  const base = leaf((input, bad, run, loc): Result<ObjectOutput<S>> => {
    if (!isRecord(input)) return bad('model_attributes_type', 'Input should be a valid dictionary or object to extract fields from');
    const out: Record<string, unknown> = {};
    let good = true;
    for (const [key, field] of Object.entries(shape)) {
      // hasOwn: a field named e.g. "constructor" must not see Object.prototype.
      let raw = Object.hasOwn(input, key) ? input[key] : undefined;
      if (run.text && Array.isArray(raw) && !field.list) raw = raw.at(-1); // Starlette: last value wins
      if (run.form && raw === '') raw = undefined; // FastAPI treats an empty form value as absent
      if (raw === undefined) {
        if (!field.optional) good = fail(run, 'missing', [...loc, key], 'Field required', run.text ? null : input).ok;
        // Pydantic copies defaults so a mutable default is never shared between requests.
        else if (field.dflt !== undefined) out[key] = typeof field.dflt === 'object' ? structuredClone(field.dflt) : field.dflt;
        continue;
      }
      const r = field.parse(raw, [...loc, key], run);
      if (r.ok) { if (r.value !== undefined) out[key] = r.value; } else good = false;
    }
    // The per-field specs produced exactly the shape's output types; TS cannot follow that loop.
    return good ? ok(out as ObjectOutput<S>) : FAIL;
  }, { kind: 'object', shape });
  return { ...base, shape };
}

/** The schema DSL. Fields are required unless wrapped in `optional`; unknown input keys are ignored. */
/**
 * Pydantic `date` from text: `YYYY-MM-DD`, or a date-time at exactly midnight (its date part);
 * other times are `date_from_datetime_inexact`.
 */
function date(): FieldSpec<string> {
  return leaf((input, bad) => {
    if (typeof input !== 'string') return bad('date_type', 'Input should be a valid date');
    const m = DATETIME.exec(input);
    const n = (i: number): number => Number(m?.[i] ?? 0);
    const [y, mo, d] = [n(1), n(2), n(3)];
    const monthDays = mo === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(mo) ? 30 : 31;
    const error = !m ? (input.length < 10 ? 'input is too short' : 'invalid date separator, expected `-`')
      : mo < 1 || mo > 12 ? 'month value is outside expected range of 1-12'
      : d < 1 || d > monthDays ? 'day value is outside expected range'
      : null;
    if (error || !m) return bad('date_from_datetime_parsing', `Input should be a valid date or datetime, ${error}`, { error: error ?? '' });
    if (n(4) !== 0 || n(5) !== 0 || n(6) !== 0 || Number(m[7] ?? 0) !== 0) return bad('date_from_datetime_inexact', 'Datetimes provided to dates should have zero time - e.g. be exact dates');
    return ok(input.slice(0, 10));
  }, { kind: 'date' });
}

export const v = { str, int, bool, uuid, datetime, date, enumOf, list, custom, optional, nullable, object, file };

function check<O>(s: ObjectSpec<O>, input: unknown, source: Source, items: ValidationErrorItem[]): Result<O> {
  const run: Run = { text: source !== 'body', form: source === 'form', items };
  const root = source === 'form' ? 'body' : source;
  // FastAPI reports an absent (or JSON null) model body as one missing item, not one per field.
  if (source === 'body' && (input === undefined || input === null)) return fail(run, 'missing', [root], 'Field required', null);
  return s.parse(input ?? {}, [root], run);
}

/**
 * Validates `input` (a decoded JSON body, or a string record for query/path/header/form) against
 * `spec`. In non-body sources int/bool specs parse strings and a missing field's `input` is null.
 * @throws RequestValidationError with every item found, in the schema's field order.
 */
export function validate<O>(spec: ObjectSpec<O>, input: unknown, source: Source): O {
  const items: ValidationErrorItem[] = [];
  const r = check(spec, input, source, items);
  if (!r.ok) throw new RequestValidationError(items);
  return r.value;
}

/** Per-source specs for `validateRequest`. */
export type RequestSpecs = Partial<Record<Source, ObjectSpec<unknown>>>;
/** Output of `validateRequest`: one typed value per supplied spec. */
export type RequestOutput<R extends RequestSpecs> = { [K in keyof R]: Infer<R[K]> };

const ORDER: readonly Source[] = ['path', 'query', 'header', 'body', 'form'];

/**
 * Validates every part of a request at once, e.g.
 * `validateRequest({ path: P, query: Q, body: B }, { path: req.params, query: req.query, body })`.
 * @throws one RequestValidationError with items ordered path, query, header, then body (FastAPI's order).
 */
export function validateRequest<R extends RequestSpecs>(specs: R, input: Partial<Record<Source, unknown>>): RequestOutput<R> {
  const items: ValidationErrorItem[] = [];
  const out: Partial<Record<Source, unknown>> = {};
  for (const source of ORDER) {
    const s: ObjectSpec<unknown> | undefined = specs[source];
    const r = s && check(s, input[source], source, items);
    if (r?.ok) out[source] = r.value;
  }
  if (items.length > 0) throw new RequestValidationError(items);
  // Each key was filled by its own spec above.
  return out as RequestOutput<R>;
}

/** Pragmatic email check (RFC 5321 lengths, dot-atom local part, LDH domain with a dot). */
export function isEmail(s: string): boolean {
  if (s.length > 254) return false;
  const at = s.lastIndexOf('@');
  const [local, domain] = [s.slice(0, at), s.slice(at + 1)];
  const label = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
  return at > 0 && local.length <= 64
    && /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local)
    && new RegExp(`^${label}(?:\\.${label})+$`).test(domain);
}

const ZONES = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);
const ZONES_LOWER = new Set([...ZONES].map((z) => z.toLowerCase()));

/** True for an IANA zone name (canonical or alias) or "UTC"; offsets and case variants are rejected. */
export function isIanaZone(s: string): boolean {
  if (ZONES.has(s)) return true;
  // Intl also accepts "+05:00" and any casing; zoneinfo (the Python side) accepts neither.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(s) || ZONES_LOWER.has(s.toLowerCase())) return false;
  try { return new Intl.DateTimeFormat('en', { timeZone: s }).resolvedOptions().timeZone !== ''; } catch { return false; }
}

/** True for an absolute https:// URL with a host. */
export function isHttpsUrl(s: string): boolean {
  const u = URL.canParse(s) ? new URL(s) : null;
  return u?.protocol === 'https:' && u.hostname !== '';
}
