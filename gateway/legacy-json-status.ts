/**
 * GraphQL over HTTP's legacy rule (graphql-over-http spec, "application/json" response): a client
 * that asks for `Accept: application/json` — and not `application/graphql-response+json` — gets
 * 200 with `errors` when the request fails before execution (a parse, validation or
 * variable-coercion failure, the operation limits included). Apollo answers those 400 whatever the
 * client accepts; clients that accept `application/graphql-response+json`, or send no `Accept`
 * at all, keep the 4xx statuses.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { LIMIT_CODES } from './limits.ts';

/** Codes of a request refused before execution: parse, validation (limits included), variables. */
const REQUEST_ERROR_CODES: ReadonlySet<unknown> = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', ...LIMIT_CODES]);

/** True when `accept` names `application/json` and not `application/graphql-response+json`. */
export function wantsLegacyJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((part) => part.split(';')[0]?.trim().toLowerCase());
  return types.includes('application/json') && !types.includes('application/graphql-response+json');
}

export function legacyJsonStatusPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart({ request }) {
      if (!wantsLegacyJson(request.http?.headers.get('accept'))) return;
      return {
        async willSendResponse({ response }) {
          if (response.http.status !== 400 || response.body.kind !== 'single') return;
          const { data, errors } = response.body.singleResult;
          if (data !== undefined || !errors?.length) return;
          if (errors.every((e) => REQUEST_ERROR_CODES.has(e.extensions?.code))) response.http.status = 200;
        },
      };
    },
  };
}
