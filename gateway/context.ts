/** The per-request context of the gateway's executor, and its signed form for subgraphs. */
import { signContext, type AuthContext } from '../kernel/context.ts';
import type { RequestTiming } from './metrics.ts';

/** The per-request context of the gateway's executor. */
export interface GatewayContext {
  auth: AuthContext;
  /** The signed internal context, created on first use and shared by every subgraph fetch. */
  signed?: Promise<string>;
  /** Set for GraphQL over HTTP; REST runs operations in-process and rate-limits them per route. */
  viaHttp?: boolean;
  /** The HTTP request's timing, where there is one (metrics: time spent waiting on subgraphs). */
  timing?: RequestTiming;
}

/**
 * The internal context header's value for this request's subgraph fetches (sent with the request's
 * id in `REQUEST_ID_HEADER`): the token of the same caller — every field of the context but the
 * request id equal, the client's address included — signed within the last 30 s, else a new one.
 * A token is valid for 60 s; reusing it saves the gateway an HMAC per request, and each subgraph
 * finds it among the contexts it has verified instead of verifying another.
 */
export function signedContextOf(ctx: GatewayContext, secret: string): Promise<string> {
  ctx.signed ??= reusedToken(ctx.auth, secret);
  return ctx.signed;
}

/** How long a caller's token is handed out again (of its 60 s), and how many callers' are kept. */
const REUSE_MS = 30_000;
const TOKENS_KEPT = 10_000;
const tokens = new Map<string, { token: Promise<string>; until: number }>();

function reusedToken(auth: AuthContext, secret: string): Promise<string> {
  // Every field but the request id, whatever fields the context has.
  const key = `${secret}\n${JSON.stringify({ ...auth, requestId: '' })}`;
  const now = Date.now();
  const kept = tokens.get(key);
  if (kept && kept.until > now) return kept.token;
  if (tokens.size >= TOKENS_KEPT) tokens.clear();
  const token = signContext(auth, secret);
  tokens.set(key, { token, until: now + REUSE_MS });
  // A failed signing is not kept.
  token.catch(() => tokens.delete(key));
  return token;
}
