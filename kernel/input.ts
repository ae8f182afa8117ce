/**
 * Input validation for services: zod schemas whose failures become `BAD_USER_INPUT` AppErrors with
 * 422-style field items, so GraphQL, tRPC and REST callers all get the same structured errors.
 */
import { z } from 'zod';
import { AppError, type FieldError } from './errors.ts';

function typeOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'missing' : `${issue.expected}_type`;
    case 'too_small':
      return issue.origin === 'string' ? 'string_too_short' : issue.origin === 'array' ? 'too_short' : 'greater_than_equal';
    case 'too_big':
      return issue.origin === 'string' ? 'string_too_long' : issue.origin === 'array' ? 'too_long' : 'less_than_equal';
    case 'invalid_format':
      return issue.format === 'regex' ? 'string_pattern_mismatch' : 'value_error';
    case 'invalid_value':
      return 'enum';
    default:
      return 'value_error';
  }
}

type Path = (string | number)[];

/** A JSON-like object: graphql-js builds input objects without a prototype, zod and JSON with Object's. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The strings holding NUL (U+0000) anywhere in `value`, with their paths, in document order. */
function nulStrings(value: unknown, path: Path = [], out: { path: Path; value: string }[] = []): { path: Path; value: string }[] {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push({ path, value });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => nulStrings(item, [...path, i], out));
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) nulStrings(item, [...path, key], out);
  }
  return out;
}

/**
 * What a service receives before {@link parseInput}: the schema's input shape, except that an
 * optional field may also be null, as a GraphQL client may send for any nullable input field.
 * The schema decides whether null is accepted.
 */
export type Unparsed<T> = { [K in keyof T]: undefined extends T[K] ? T[K] | null : T[K] };

/**
 * Parses `input` with `schema`. A string holding NUL (U+0000) anywhere in the input is refused as
 * a `value_error` at its path whatever the schema says: PostgreSQL cannot store NUL in `text` or
 * `jsonb`, so letting one through would end as an internal error at the database.
 * @throws AppError BAD_USER_INPUT with one field item per problem (loc starts with `root`).
 */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, root: string | null = 'input'): T {
  const result = schema.safeParse(input);
  const nul = nulStrings(input);
  if (result.success && nul.length === 0) return result.data;
  const at = (path: readonly PropertyKey[]): Path => [...(root ? [root] : []), ...path.map((p) => (typeof p === 'number' ? p : String(p)))];
  const fields: FieldError[] = (result.success ? [] : result.error.issues).map((issue) => ({
    type: typeOf(issue),
    loc: at(issue.path),
    msg: issue.message,
    input: issue.input ?? null,
  }));
  const reported = new Set(fields.map((f) => JSON.stringify(f.loc)));
  for (const { path, value } of nul) {
    const loc = at(path);
    if (!reported.has(JSON.stringify(loc))) fields.push({ type: 'value_error', loc, msg: 'String should not contain NUL characters', input: value });
  }
  throw new AppError('BAD_USER_INPUT', { message: fields.map((f) => `${f.loc.join('.')}: ${f.msg}`).join('; '), fields });
}

const uuid = z.uuid();
/** Whether `s` is a UUID as zod (and so every input schema) reads one; malformed ids are simply not found. */
export const isUuid = (s: string): boolean => uuid.safeParse(s).success;
