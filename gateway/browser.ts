/**
 * Browser safety at the edge: security headers on every response, and CORS for the
 * configured origins only.
 *
 * CSRF: `/graphql` uses Apollo's CSRF prevention (a "simple" request — GET, or a POST with
 * `text/plain`, `application/x-www-form-urlencoded` or `multipart/form-data` — must carry a
 * preflight-forcing header). `/api` cannot apply the same rule: AUTH-2 login is documented as a
 * form-encoded POST (§3.1) and KB-3 as multipart. It does not need it either: CSRF rides on
 * credentials the browser attaches by itself (cookies, HTTP auth), and this API has none — the
 * bearer token and `X-API-Key` are headers a page must set explicitly, which a cross-site form or
 * `fetch` cannot do without a CORS preflight that only `CORS_ORIGINS` pass. A forged login from a
 * foreign page gets tokens the attacker's page cannot read (no CORS), so it gains nothing. If
 * cookie-based sessions are ever added, `/api` must adopt the same rule as `/graphql`.
 */
import type { FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import helmet, { type HelmetOptions } from 'helmet';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Config } from '../kernel/config.ts';

/** Response headers a cross-origin page may read (rate limits, request id, auth challenge). */
const EXPOSED_HEADERS = [
  'x-request-id',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'ratelimit-policy',
  'ratelimit',
  'retry-after',
  'www-authenticate',
];

/**
 * Registers the security headers and, when `config.corsOrigins` is not empty, CORS. Call before
 * any hook that answers requests itself (the GraphiQL page), so those responses get the headers too.
 */
export async function registerBrowserSafety(app: FastifyInstance, config: Pick<Config, 'corsOrigins' | 'production'>): Promise<void> {
  const headers = securityHeaders({
    // The API answers JSON only, so its pages may load nothing. The GraphiQL page sends its own
    // policy (gateway/graphiql.ts), which replaces this one on that response.
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] },
    },
    // Production is HTTPS only (§1.1); over plain HTTP in development the header is noise.
    strictTransportSecurity: config.production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  // The same headers on every response, computed once: helmet's middleware would rebuild them
  // (the policy string included) on each request.
  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(headers);
    done();
  });
  if (config.corsOrigins.length === 0) return;
  await app.register(cors, {
    origin: config.corsOrigins,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: EXPOSED_HEADERS,
    // No cookies anywhere in this API: credentials are explicit headers.
    credentials: false,
    maxAge: 600,
  });
}

/** The headers helmet sets with `options`, read once by running its middleware on a stand-in response. */
function securityHeaders(options: HelmetOptions): Record<string, string> {
  const req = new IncomingMessage(new Socket());
  const res = new ServerResponse(req);
  helmet(options)(req, res, () => {});
  return Object.fromEntries(Object.entries(res.getHeaders()).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : String(value)]));
}
