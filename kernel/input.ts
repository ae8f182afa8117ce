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

/**
 * Parses `input` with `schema`.
 * @throws AppError BAD_USER_INPUT with one field item per problem (loc starts with `root`).
 */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, root: string | null = 'input'): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: FieldError[] = result.error.issues.map((issue) => ({
    type: typeOf(issue),
    loc: [...(root ? [root] : []), ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))],
    msg: issue.message,
    input: issue.input ?? null,
  }));
  throw new AppError('BAD_USER_INPUT', { message: fields.map((f) => `${f.loc.join('.')}: ${f.msg}`).join('; '), fields });
}

/** Whether `s` is a UUID as zod (and so every input schema) reads one; malformed ids are simply not found. */
export const isUuid = (s: string): boolean => z.uuid().safeParse(s).success;
