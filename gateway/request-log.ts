/**
 * The request log: one `info` line per HTTP request when its response is sent — method, path
 * (without the query string, which may carry credentials), status, duration, the request id
 * (`X-Request-ID`) and who called (the mode, user id and API key id the credentials resolved to;
 * null when the request was answered before or without authentication), and with tracing on its
 * trace id. WebSocket traffic is
 * logged by the subscription server, not here.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { syncHook } from './sync-hook.ts';
import type { AuthContext } from '../kernel/context.ts';
import type { Logger } from '../kernel/logger.ts';
import { traceIdOf } from '../kernel/trace-http.ts';

/** The caller each request was authenticated as, for its log line. */
const callers = new WeakMap<FastifyRequest, AuthContext>();

/** `authenticate`, remembering the caller it resolves for the request's log line. */
export function recordingCaller(authenticate: (req: FastifyRequest) => Promise<AuthContext>): (req: FastifyRequest) => Promise<AuthContext> {
  return async (req) => {
    const auth = await authenticate(req);
    callers.set(req, auth);
    return auth;
  };
}

/** Logs every completed request (register before routes so every route's response is seen). */
export function registerRequestLog(app: FastifyInstance, logger: Logger): void {
  const log = logger.child({ component: 'http' });
  const record = (req: FastifyRequest, reply: FastifyReply): void => {
    // Below the configured level (LOG_LEVEL=warn, say) the line is not built at all.
    if (!log.isLevelEnabled('info')) return;
    const caller = callers.get(req);
    log.info(
      {
        method: req.method,
        path: req.url.split('?')[0],
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        requestId: req.id,
        // With tracing on, the trace to open for this request (README "Tracing").
        ...(traceIdOf(req.raw) ? { traceId: traceIdOf(req.raw) } : {}),
        caller: caller ? { mode: caller.mode, userId: caller.userId, apiKeyId: caller.apiKeyId } : null,
      },
      'request',
    );
  };
  app.addHook('onResponse', syncHook(record));
}
