/**
 * GraphQL over HTTP: when a request fails as a whole because of authentication (no data at all),
 * answer with the registry's status (401) instead of 200.
 */
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { isErrorCode, restBodyOf } from '../kernel/errors.ts';
import type { GatewayContext } from './context.ts';

export const statusFromErrors: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }: GraphQLRequestContext<GatewayContext> & { response: { body: { kind: string; singleResult?: { data?: unknown; errors?: readonly GraphQLFormattedError[] } }; http: { status?: number } } }) {
        if (response.body.kind !== 'single' || !response.body.singleResult) return;
        const { data, errors } = response.body.singleResult;
        if (data !== undefined && data !== null) return;
        const first = errors?.[0]?.extensions?.code;
        if (isErrorCode(first) && restBodyOf(first, '').status === 401) response.http.status = 401;
      },
    };
  },
};
