import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  graphiqlContentSecurityPolicy,
  graphiqlHtml,
  registerGraphiQL,
  wantsGraphiQL,
} from './graphiql.js';

const PATH = '/graphql';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

/**
 * Mirrors how the gateway wires things: GraphiQL assets first, then the one
 * GET /graphql route that chooses between the IDE and a GraphQL response.
 */
async function buildApp(): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  registerGraphiQL(app, { path: PATH, title: 'Test <IDE>' });
  app.get(PATH, async (request, reply) => {
    const query: unknown = request.query;
    const hasQueryParam = typeof query === 'object' && query !== null && 'query' in query;
    void reply.header('vary', 'accept');
    if (wantsGraphiQL(request.method, request.headers.accept, hasQueryParam)) {
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', graphiqlContentSecurityPolicy({ path: PATH }))
        .send(graphiqlHtml({ path: PATH, title: 'Test <IDE>' }));
    }
    // Stand-in for the real GraphQL-over-HTTP handler.
    return reply.type('application/graphql-response+json').send({ data: { ok: true } });
  });
  await app.ready();
  return app;
}

describe('GraphiQL', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('serves the IDE page to browser navigations', async () => {
    const res = await app.inject({ method: 'GET', url: PATH, headers: { accept: BROWSER_ACCEPT } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const html = res.body;
    for (const name of ['react.production.min.js', 'react-dom.production.min.js', 'graphiql.min.js', 'graphiql.min.css']) {
      expect(html).toContain(`./graphql/_ide/${name}`);
    }
    // react must load before react-dom, and both before graphiql.
    expect(html.indexOf('react.production.min.js')).toBeLessThan(html.indexOf('react-dom.production.min.js'));
    expect(html.indexOf('react-dom.production.min.js')).toBeLessThan(html.indexOf('graphiql.min.js'));
    expect(html).toContain('location.origin + path');
    expect(html).toContain('var path = "/graphql"');
    expect(html).toContain("'apollo-require-preflight': 'true'");
    expect(html).toContain("credentials: 'same-origin'");
    expect(html).toContain('subscriptionUrl');
    // Title is escaped; no CDN references.
    expect(html).toContain('<title>Test &lt;IDE&gt;</title>');
    expect(html).not.toMatch(/https?:\/\//);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
  });

  it('keeps GET /graphql a GraphQL endpoint for non-browser requests', async () => {
    const withQuery = await app.inject({ method: 'GET', url: `${PATH}?query=%7B__typename%7D`, headers: { accept: BROWSER_ACCEPT } });
    expect(withQuery.headers['content-type']).toMatch(/^application\/graphql-response\+json/);
    const client = await app.inject({ method: 'GET', url: PATH, headers: { accept: 'application/graphql-response+json' } });
    expect(client.headers['content-type']).toMatch(/^application\/graphql-response\+json/);
  });

  it.each([
    ['react.production.min.js', /^text\/javascript/],
    ['react-dom.production.min.js', /^text\/javascript/],
    ['graphiql.min.js', /^text\/javascript/],
    ['graphiql.min.css', /^text\/css/],
  ])('serves %s', async (name, contentType) => {
    const res = await app.inject({ method: 'GET', url: `${PATH}/_ide/${name}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(contentType);
    expect(res.headers['cache-control']).toBe('public, max-age=86400');
    expect(res.rawPayload.length).toBeGreaterThan(0);
    // Second request is served from the in-memory cache with the same bytes.
    const again = await app.inject({ method: 'GET', url: `${PATH}/_ide/${name}` });
    expect(again.rawPayload.equals(res.rawPayload)).toBe(true);
  });

  it('exposes the GraphiQL global from the bundle', async () => {
    const res = await app.inject({ method: 'GET', url: `${PATH}/_ide/graphiql.min.js` });
    expect(res.body).toContain('window.GraphiQL');
  });

  it('does not serve arbitrary files under _ide', async () => {
    const res = await app.inject({ method: 'GET', url: `${PATH}/_ide/package.json` });
    expect(res.statusCode).toBe(404);
  });

  it('allows exactly the inline bootstrap in the CSP', () => {
    const html = graphiqlHtml({ path: PATH });
    const inline = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    expect(inline).toContain('GraphiQL.createFetcher');
    const hash = createHash('sha256').update(inline, 'utf8').digest('base64');
    expect(graphiqlContentSecurityPolicy({ path: PATH })).toContain(`'sha256-${hash}'`);
  });

  it('rejects paths that break relative asset URLs', () => {
    expect(() => graphiqlHtml({ path: 'graphql' })).toThrow();
    expect(() => graphiqlHtml({ path: '/graphql/' })).toThrow();
  });

  it('uses the last path segment for relative asset URLs under a prefix', () => {
    const html = graphiqlHtml({ path: '/api/graphql' });
    expect(html).toContain('./graphql/_ide/graphiql.min.js');
    expect(html).toContain('var path = "/api/graphql"');
  });
});

describe('wantsGraphiQL', () => {
  it.each<[string, string | undefined, boolean, boolean]>([
    ['GET', BROWSER_ACCEPT, false, true],
    ['GET', 'text/html', false, true],
    ['get', 'TEXT/HTML', false, true],
    ['HEAD', 'text/html', false, true],
    ['GET', 'text/html', true, false],
    ['POST', 'text/html', false, false],
    ['GET', undefined, false, false],
    ['GET', '*/*', false, false],
    ['GET', 'application/json', false, false],
    ['GET', 'application/graphql-response+json, application/json;q=0.9', false, false],
    ['GET', 'text/html;q=0', false, false],
    ['GET', 'application/json, text/html; q=0.1', false, true],
  ])('%s accept=%s hasQuery=%s -> %s', (method, accept, hasQuery, expected) => {
    expect(wantsGraphiQL(method, accept, hasQuery)).toBe(expected);
  });
});
