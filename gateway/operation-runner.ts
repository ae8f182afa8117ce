/**
 * In-process operations for the layers mounted on the gateway (the REST layer): a named query or
 * mutation of a trusted document, run with the caller's context, its errors formatted as GraphQL
 * over HTTP formats them.
 *
 * On the lean executor the operation skips Apollo Server's request pipeline: the document is
 * parsed once per text, validated once per schema and planned once (gateway/executor), where
 * `executeOperation` would hash the whole document and run every plugin's hooks on each call. On
 * @apollo/gateway's executor it goes through `executeOperation` as before. The plugins' work does
 * not apply to these operations either way: rate limits, cache hints, HTTP statuses and span names
 * are GraphQL over HTTP's; a route has its own (rest-compat/).
 */
import type { ApolloServer } from '@apollo/server';
import { parse, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import type { GatewayContext } from './context.ts';
import type { LeanGateway } from './executor/index.ts';
import { formatErrors, type FormatError } from './format-error.ts';

export interface OperationRequest {
  /** The document's text; it may hold other operations and fragments. */
  query: string;
  operationName: string;
  variables: Record<string, unknown>;
}

export interface OperationResult {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
}

export type RunOperation = (request: OperationRequest, context: GatewayContext) => Promise<OperationResult>;

/** How many documents' parses are kept (the REST layer has one per area). */
const DOCUMENTS_KEPT = 256;

export function createOperationRunner(opts: { lean: LeanGateway | null; apollo: ApolloServer<GatewayContext>; formatError: FormatError }): RunOperation {
  const { lean, apollo, formatError } = opts;
  if (!lean) {
    return async (request, contextValue) => {
      const response = await apollo.executeOperation(request, { contextValue });
      if (response.body.kind !== 'single') throw new Error('Unexpected incremental response');
      const { data, errors } = response.body.singleResult;
      return { data, errors };
    };
  }
  const documents = new Map<string, DocumentNode>();
  const documentOf = (text: string): DocumentNode => {
    let document = documents.get(text);
    if (!document) {
      if (documents.size >= DOCUMENTS_KEPT) documents.clear();
      documents.set(text, (document = parse(text)));
    }
    return document;
  };
  return async ({ query, operationName, variables }, context) => {
    try {
      const result = await lean.executeDirect({ source: query, document: documentOf(query), operationName, variables, context });
      return { data: result.data, errors: result.errors && formatErrors(formatError, result.errors).formatted };
    } catch (err) {
      return { errors: formatErrors(formatError, [err]).formatted };
    }
  };
}
