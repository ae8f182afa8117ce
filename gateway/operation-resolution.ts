/**
 * Requests whose operation the gateway's executor cannot run. A document with several operations
 * and no `operationName` (or a name it does not define) has no operation to run: Apollo Server
 * answers that with 400 `OPERATION_RESOLUTION_FAILURE` when it executes a schema itself, but with
 * a gateway it hands the request on and the query planner's error surfaces as a 500. The same
 * happens to a subscription sent over HTTP (subscriptions run on graphql-ws, not on the gateway's
 * executor). This plugin refuses both with a 400 before execution.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';

/** 400 `OPERATION_RESOLUTION_FAILURE` for no operation; 400 `BAD_REQUEST` for a subscription. */
export function operationResolutionPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request }) {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError('Subscriptions are served over WebSocket (graphql-ws) on this path, not over HTTP.', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
          }
          if (operation) return;
          // graphql-js's own wording (execute's buildExecutionContext).
          const message = request.operationName
            ? `Unknown operation named "${request.operationName}".`
            : 'Must provide operation name if query contains multiple operations.';
          throw new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } });
        },
      };
    },
  };
}
