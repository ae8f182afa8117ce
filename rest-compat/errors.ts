/**
 * REST error bodies (§1.7): the registry's codes as the API renders them, errors of the
 * executor mapped back to those codes, and the error handler of the REST scope.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { GraphQLFormattedError } from 'graphql';
import { AppError, fileTooLarge, isErrorCode, restBodyOf, type ErrorCode, type FieldError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/logger.ts';
import { isMultipart } from '../gateway/multipart.ts';
import { snakeCase } from './shape.ts';

/** Sends an error in the API's body for `code`. */
export function sendError(reply: FastifyReply, code: ErrorCode, message?: string, extras: Record<string, unknown> = {}, fields?: FieldError[]): FastifyReply {
  const { status, body } = restBodyOf(code, message ?? new AppError(code).message, extras, fields);
  return reply.status(status).send(body);
}

export function sendAppError(reply: FastifyReply, err: AppError, requestId: string): FastifyReply {
  if (err.code === 'INTERNAL') return sendError(reply, 'INTERNAL', undefined, { request_id: requestId });
  return sendError(reply, err.code, err.message, err.extras, err.fields);
}

const EXT_INTERNAL_KEYS = new Set(['code', 'status', 'fields', 'serviceName', 'http', 'stacktrace', 'exception']);

/** Maps a service's field errors (loc `["input","fullName"]`) to REST's (`["body","full_name"]`). */
function restFields(fields: unknown): FieldError[] {
  if (!Array.isArray(fields)) return [];
  return fields.map((f: FieldError) => ({
    ...f,
    loc: ['body', ...f.loc.slice(f.loc[0] === 'input' ? 1 : 0).map((p) => (typeof p === 'string' ? snakeCase(p) : p))],
  }));
}

export function fromGraphQLError(e: GraphQLFormattedError): AppError {
  const ext = e.extensions ?? {};
  const code = ext.code;
  if (!isErrorCode(code)) return new AppError('INTERNAL', { message: e.message });
  const extras = Object.fromEntries(Object.entries(ext).filter(([k]) => !EXT_INTERNAL_KEYS.has(k)));
  return new AppError(code, { message: e.message, extras, fields: code === 'BAD_USER_INPUT' ? restFields(ext.fields) : undefined });
}

/** Unexpected errors are logged and answered 500 with the request id; a body over its limit is 413. */
export function registerErrorHandler(api: FastifyInstance, logger: Logger): void {
  api.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof AppError) return sendAppError(reply, err, req.id);
    if (err.statusCode === 413 && isMultipart(req.headers['content-type'])) return sendAppError(reply, fileTooLarge(), req.id);
    if (err.statusCode === 413) return sendError(reply, 'FILE_TOO_LARGE', 'Request body is too large');
    logger.error({ err, requestId: req.id }, 'REST request failed');
    return sendError(reply, 'INTERNAL', undefined, { request_id: req.id });
  });
}
