/**
 * The GraphQL IDE on the GraphQL endpoint itself: browsers navigating to `/graphql` get GraphiQL
 * (assets served locally, graphiql.ts); every other request there stays GraphQL over HTTP.
 */
import type { FastifyInstance } from 'fastify';
import { graphiqlContentSecurityPolicy, graphiqlHtml, registerGraphiQL, wantsGraphiQL, type GraphiQLOptions } from './graphiql.ts';

export function registerIde(app: FastifyInstance, ideOptions: GraphiQLOptions): void {
  registerGraphiQL(app, ideOptions);
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'GET' || !req.url.startsWith(ideOptions.path)) return;
    const path = req.url.split('?')[0];
    const hasQuery = new URLSearchParams(req.url.split('?')[1] ?? '').has('query');
    if (path !== ideOptions.path || !wantsGraphiQL(req.method, req.headers.accept, hasQuery)) return;
    await reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('vary', 'Accept')
      .header('content-security-policy', graphiqlContentSecurityPolicy(ideOptions))
      .send(graphiqlHtml(ideOptions));
  });
}
