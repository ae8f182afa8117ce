/** The API's 404 and 405 under `/api/`: a path served under other methods is 405 with `Allow`. */
import type { FastifyInstance } from 'fastify';
import type { Route } from './route.ts';
import { API_DOCS_PATHS } from './openapi.ts';

/** Compiles a fastify path (`/api/x/:id`) to a matcher for 404-vs-405 decisions. */
function pathMatcher(path: string): RegExp {
  return new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:([A-Za-z0-9_]+)/g, '[^/]+')}$`);
}

/** Answers requests no route matched: 405 when the path exists under another method, else 404. */
export function registerNotFound(api: FastifyInstance, routes: readonly Route[]): void {
  // Gateway-owned paths take part in the 404-vs-405 decision too.
  const owned: Pick<Route, 'method' | 'path'>[] = [
    { method: 'GET', path: '/api/health' },
    { method: 'GET', path: '/api/health/detailed' },
    ...API_DOCS_PATHS,
  ];
  const matchers = [...routes, ...owned].map((r) => ({ route: r, re: pathMatcher(r.path) }));
  api.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = matchers.filter((m) => m.re.test(path)).map((m) => m.route.method);
    if (allowed.length > 0) {
      return reply.status(405).header('allow', [...new Set(allowed)].join(', ')).send({ detail: 'Method Not Allowed' });
    }
    return reply.status(404).send({ detail: 'Not Found' });
  });
}
