/** Scalars shared by every subgraph's schema. */
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

function parseDate(value: unknown): Date {
  // §1.1: inputs must carry an offset; they are normalised to UTC.
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/i.test(value)) {
    throw new GraphQLError('DateTime must be an RFC 3339 date-time with an offset', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new GraphQLError('Invalid DateTime', { extensions: { code: 'BAD_USER_INPUT' } });
  return d;
}

/** ISO-8601 UTC with `Z` and exactly three fractional digits (§1.1). */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'ISO-8601 date-time in UTC with a `Z` suffix and millisecond precision, e.g. `2026-04-22T17:35:24.000Z`.',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string' || typeof value === 'number') return new Date(value).toISOString();
    throw new GraphQLError('DateTime cannot represent this value');
  },
  parseValue: parseDate,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return parseDate(ast.value);
  },
});
