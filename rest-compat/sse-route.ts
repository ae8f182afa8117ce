/**
 * A REST route served as Server-Sent Events from a subscription operation (CONV-2 with
 * `stream: true`, CONV-2S).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ExecutionResult } from 'graphql';
import { AppError, restBodyOf } from '../kernel/errors.ts';
import type { AuthContext } from '../kernel/context.ts';
import type { Route } from './route.ts';
import { sendSse } from './sse.ts';
import { fromGraphQLError, sendAppError } from './errors.ts';

/** Starts a subscription on the gateway's engine. */
export type Subscribe = (query: string, operationName: string, variables: Record<string, unknown>, auth: AuthContext) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;

/** An SSE route: errors before the first event get their normal status and body. */
export async function streamRoute(subscribe: Subscribe | undefined, query: string, sse: NonNullable<Route['sse']>, input: Parameters<NonNullable<Route['sse']>['variables']>[0], req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (!subscribe) throw new AppError('SERVICE_UNAVAILABLE', { message: 'Streaming is not available' });
  const started = await subscribe(query, sse.operation, sse.variables(input, req.headers), input.auth);
  const failed = (r: ExecutionResult) => (r.errors?.length ?? 0) > 0 && (r.data === null || r.data === undefined);
  if (!(Symbol.asyncIterator in started)) {
    const first = started.errors?.[0];
    return sendAppError(reply, first ? fromGraphQLError(first.toJSON()) : new AppError('INTERNAL'), req.id);
  }
  // An open-ended stream answers at once; anything after that, a failure too, is an event.
  const first = sse.openEnded ? null : await started.next();
  // Nothing to send (a resume after the last event): an empty event stream.
  if (first?.done) {
    await sendSse(req, reply, null, started, () => null);
    return reply;
  }
  if (first && failed(first.value)) {
    await started.return?.();
    const e = first.value.errors?.[0];
    return sendAppError(reply, e ? fromGraphQLError(e.toJSON()) : new AppError('INTERNAL'), req.id);
  }
  let lastId = -1;
  await sendSse(req, reply, first?.value ?? null, started, (result) => {
    if (failed(result)) {
      const e = result.errors?.[0];
      const { body } = restBodyOf(e ? fromGraphQLError(e.toJSON()).code : 'INTERNAL', e?.message ?? 'Internal server error');
      return { event: 'error', id: lastId + 1, data: body };
    }
    const frame = sse.frameOf((result.data ?? {}) as Record<string, unknown>);
    if (frame && typeof frame.id === 'number') lastId = frame.id;
    return frame;
  });
  return reply;
}
