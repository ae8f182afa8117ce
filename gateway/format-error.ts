/**
 * How GraphQL errors leave the gateway: registry codes as they are, graphql-js's and Apollo's own
 * request errors as they are, everything else masked as INTERNAL and logged.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isErrorCode, toGraphQLExtensions, type AppError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/logger.ts';
import { withLimitCode, withoutSuggestions } from './limits.ts';

/** Codes produced by graphql-js / Apollo itself that are safe to show clients as they are. */
const PASSTHROUGH_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

export type FormatError = (raw: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/** Apollo's `formatError` for HTTP and the subscription engine's; `production` also drops "Did you mean …?". */
export function createFormatError(opts: { production: boolean; logger: Logger }): FormatError {
  return (raw, error) => {
    const limited = withLimitCode(raw, error);
    const formatted = opts.production ? withoutSuggestions(limited) : limited;
    const code = formatted.extensions?.code;
    if (isErrorCode(code) && code !== 'INTERNAL') {
      // Apollo prefixes errors thrown while building the context; clients get the registry message.
      return { ...formatted, message: formatted.message.replace(/^Context creation failed: /, '') };
    }
    if (typeof code === 'string' && PASSTHROUGH_CODES.has(code)) return formatted;
    const serviceName = formatted.extensions?.serviceName;
    opts.logger.error({ error: formatted }, 'masked error');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL', status: 500, ...(typeof serviceName === 'string' ? { serviceName } : {}) },
    };
  };
}

/** Renders an AppError as the GraphQLError Apollo returns (HTTP status from the registry). */
export function toGraphQLError(err: AppError): GraphQLError {
  return new GraphQLError(err.message, { extensions: { ...toGraphQLExtensions(err), http: { status: err.status } } });
}
