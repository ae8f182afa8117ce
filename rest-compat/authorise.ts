/**
 * §1.5 steps 2 to 4 for a REST route: who is calling, the rate limit, the API key's scope,
 * then the platform-admin check, each refusal sent in the API's body.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasScope } from '../kernel/authz.ts';
import { anonymousContext, type AuthContext } from '../kernel/context.ts';
import { credentialKind } from '../gateway/auth.ts';
import { rateLimitHeaders, type RateLimiter } from '../gateway/rate-limit.ts';
import type { Route } from './route.ts';
import { sendError } from './errors.ts';
import { headerOf } from './request.ts';

export interface AuthorisationDeps {
  authenticate(req: FastifyRequest): Promise<AuthContext>;
  authenticateInternal(req: FastifyRequest): Promise<AuthContext>;
  rateLimiter: RateLimiter;
}

export type Authorise = (req: FastifyRequest, reply: FastifyReply, route: Pick<Route, 'auth' | 'scope' | 'policy'>) => Promise<AuthContext | null>;

/** The check every REST route runs first; it sends the error and yields null when the request may not proceed. */
export function createAuthorise(deps: AuthorisationDeps): Authorise {
  return authorise;

  /**
   * §1.5 steps 2 to 4 (credentials, rate limit, API-key scope), then the platform-admin
   * check. Sends the error and returns null when the request may not proceed.
   */
  async function authorise(req: FastifyRequest, reply: FastifyReply, route: Pick<Route, 'auth' | 'scope' | 'policy'>): Promise<AuthContext | null> {
    const auth = await credentials(req, reply, route);
    if (!auth || !(await rateLimit(reply, route.policy, auth))) return null;
    if (auth.mode === 'api_key' && route.scope && !hasScope(auth.scopes, route.scope)) {
      sendError(reply, 'INSUFFICIENT_API_KEY_SCOPE', undefined, { required_scope: route.scope, granted_scopes: auth.scopes });
      return null;
    }
    if ((route.auth === 'B·adm' || route.auth === 'B+K·adm') && auth.role !== 'admin') {
      sendError(reply, 'ADMIN_REQUIRED');
      return null;
    }
    return auth;
  }

  /** Step 2: who is calling. Requests refused here are not counted by the rate limiter. */
  async function credentials(req: FastifyRequest, reply: FastifyReply, route: Pick<Route, 'auth'>): Promise<AuthContext | null> {
    const headers = { authorization: headerOf(req, 'authorization'), apiKey: headerOf(req, 'x-api-key') };
    if (route.auth === 'P') return anonymousContext(req.id, req.ip);
    const kind = credentialKind(headers);
    // §1.3 step 3: without a bearer token or API key, a `B+I` route checks the internal service headers.
    if (kind === 'none' && route.auth === 'B+I' && headerOf(req, 'x-internal-service-key') !== undefined) return deps.authenticateInternal(req);
    if (kind === 'none') {
      sendError(reply, 'UNAUTHENTICATED');
      return null;
    }
    if (kind === 'api_key' && (route.auth === 'B' || route.auth === 'B·adm' || route.auth === 'B+I')) {
      sendError(reply, 'BEARER_REQUIRED');
      return null;
    }
    return deps.authenticate(req);
  }

  /**
   * Step 3: counts the request against the route's policy and sets §1.9's headers, which
   * every later response (422, 404, …) keeps. Sends 429 and returns false when over the limit.
   */
  async function rateLimit(reply: FastifyReply, policy: Route['policy'], auth: AuthContext): Promise<boolean> {
    if (policy === null) return true;
    const decision = await deps.rateLimiter.check(policy, auth);
    if (!decision) return true;
    for (const [name, value] of rateLimitHeaders(decision)) reply.header(name, value);
    if (decision.allowed) return true;
    sendError(reply, 'RATE_LIMITED', undefined, { retry_after: decision.secondsToReset });
    return false;
  }
}
