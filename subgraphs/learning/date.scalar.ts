/** The `Date` scalar: a calendar date `YYYY-MM-DD`. */
import { GraphQLError, GraphQLScalarType } from 'graphql';
import { stringLiteral } from '../../kernel/scalars.ts';
import { isDate } from './time.ts';

function parse(value: unknown): string {
  if (typeof value !== 'string' || !isDate(value)) throw new GraphQLError('Date must be a calendar date YYYY-MM-DD', { extensions: { code: 'BAD_USER_INPUT' } });
  return value;
}

export const DateScalar = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'A calendar date, `YYYY-MM-DD`.',
  serialize(value) {
    if (typeof value === 'string' && isDate(value)) return value;
    throw new GraphQLError('Date cannot represent this value');
  },
  parseValue: parse,
  parseLiteral: stringLiteral('Date', parse),
});
