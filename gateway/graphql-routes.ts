/**
 * GraphQL over HTTP on the executor: GET, and POST with JSON or multipart uploads (multipart.ts),
 * each request's document settled by the trusted documents policy (graphql-handler.ts) and the
 * request authenticated into the executor's context; POSTs of JSON go to the gateway's own
 * pipeline where there is one (http-pipeline.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApolloServer } from '@apollo/server';
import { AppError } from '../kernel/errors.ts';
import type { AuthContext } from '../kernel/context.ts';
import type { GatewayContext } from './context.ts';
import { toGraphQLError } from './format-error.ts';
import { requestTimingOf } from './metrics.ts';
import { registerGraphQLPost } from './multipart.ts';
import { createGraphQLHandler, type PostRouting } from './graphql-handler.ts';
import type { TrustedDocuments } from './trusted-documents.ts';

export function registerGraphQLRoutes(app: FastifyInstance, path: string, apollo: ApolloServer<GatewayContext>, authenticate: (req: FastifyRequest) => Promise<AuthContext>, trusted: TrustedDocuments, posts: PostRouting): void {
  const graphqlHandler = createGraphQLHandler(apollo, trusted, async (req): Promise<GatewayContext> => {
    try {
      return { auth: await authenticate(req), viaHttp: true, timing: requestTimingOf(req) };
    } catch (err) {
      // A refused credential is the registry's error with its HTTP status, not a masked 500.
      if (err instanceof AppError) throw toGraphQLError(err);
      throw err;
    }
  }, posts);
  app.get(path, graphqlHandler);
  // JSON, plus multipart uploads (GraphQL multipart request spec) with their own body limit.
  registerGraphQLPost(app, path, graphqlHandler);
}
