/** The per-request context of the gateway's executor, and its signed form for subgraphs. */
import { reusableContext, type AuthContext } from '../kernel/context.ts';
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

/** The internal context header's value for this request's subgraph fetches (sent with the request's id in `REQUEST_ID_HEADER`; kernel/context.ts). */
export function signedContextOf(ctx: GatewayContext, secret: string): Promise<string> {
  ctx.signed ??= reusableContext(ctx.auth, secret);
  return ctx.signed;
}
