/**
 * How GraphQL errors leave the gateway: registry codes as they are, graphql-js's and Apollo's own
 * request errors as they are, everything else masked as INTERNAL and logged.
 */
import { HeaderMap } from '@apollo/server';
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

/** The HTTP part of an answer as errors' `http` extensions set it (Apollo's `HTTPGraphQLHead`). */
export interface HttpHead {
  status?: number;
  headers: HeaderMap;
}

/** Any thrown value as an Error (Apollo's `ensureError`). */
export function ensureError(error: unknown): Error {
  return error instanceof Error ? error : ensureGraphQLError(error);
}

/** Any thrown value as a GraphQL error (Apollo's `ensureGraphQLError`). */
export function ensureGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  if (error instanceof Error) return new GraphQLError(error.message, { originalError: error });
  return new GraphQLError(`Unexpected error value: ${String(error)}`);
}

function isHttpExtension(x: unknown): x is { status?: number; headers?: Map<string, string> } {
  if (!x || typeof x !== 'object') return false;
  return (!('status' in x) || typeof x.status === 'number') && (!('headers' in x) || x.headers instanceof Map);
}

/**
 * Errors as Apollo Server formats them for a response (its `normalizeAndFormatErrors`): each a
 * GraphQL error, `INTERNAL_SERVER_ERROR` where it has no code, its `http` extension taken out
 * into the response's head (a later status wins, headers add up), then `formatError`; a
 * `formatError` that throws gives `Internal server error`.
 */
export function formatErrors(formatError: FormatError, errors: readonly unknown[]): { formatted: GraphQLFormattedError[]; http: HttpHead } {
  const http: HttpHead = { headers: new HeaderMap() };
  const formatted = errors.map((error) => {
    try {
      const graphqlError = ensureGraphQLError(error);
      const extensions: Record<string, unknown> = { ...graphqlError.extensions, code: graphqlError.extensions.code ?? 'INTERNAL_SERVER_ERROR' };
      const fromError = extensions.http;
      if (isHttpExtension(fromError)) {
        if (fromError.status) http.status = fromError.status;
        for (const [name, value] of fromError.headers ?? []) http.headers.set(name, value);
        delete extensions.http;
      }
      return formatError({ ...graphqlError.toJSON(), extensions }, error);
    } catch {
      return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
  });
  return { formatted, http };
}
