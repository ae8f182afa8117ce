/** Scalars shared by every subgraph's schema. */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

function parseDate(value: unknown): Date {
  // §1.1: inputs must carry an offset; they are normalised to UTC.
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/i.test(value)) {
    throw new GraphQLError('DateTime must be an RFC 3339 date-time with an offset', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new GraphQLError('Invalid DateTime', { extensions: { code: 'BAD_USER_INPUT' } });
  // What PostgreSQL and the ISO-8601 form of §1.1 hold: years 0001–9999 in UTC.
  const year = d.getUTCFullYear();
  if (year < 1 || year > 9999) throw new GraphQLError('DateTime must fall between 0001-01-01 and 9999-12-31 in UTC', { extensions: { code: 'BAD_USER_INPUT' } });
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
  parseLiteral: stringLiteral('DateTime', parseDate),
});

/**
 * A string scalar's `parseLiteral` from its `parseValue`. A refused literal throws a plain error,
 * so graphql-js reports it as `Expected value of type "<Name>", found <literal>; <reason>` at its
 * location: the form in which the gateway passes a subgraph's refusal on as the client's error.
 */
export function stringLiteral<T>(name: string, parse: (value: string) => T): (ast: ValueNode) => T {
  return (ast) => {
    if (ast.kind !== Kind.STRING) throw new TypeError(`${name} must be a string`);
    try {
      return parse(ast.value);
    } catch (err) {
      throw new TypeError(err instanceof Error ? err.message : String(err));
    }
  };
}
