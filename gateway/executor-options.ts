/**
 * How the gateway's executor treats every GraphQL request: the document limits, no batching, CSRF
 * prevention, introspection and suggestions as configured, and the error formatting.
 */
import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import type { Config } from '../kernel/config.ts';
import type { GatewayContext } from './context.ts';
import type { FormatError } from './format-error.ts';
import { createLimitRules, parseOptionsOf } from './limits.ts';

export type ExecutorOptions = Omit<ApolloServerOptionsWithGateway<GatewayContext>, 'gateway' | 'plugins'>;

export function executorOptions(config: Config, formatError: FormatError): ExecutorOptions {
  return {
    introspection: config.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    parseOptions: parseOptionsOf(config.graphqlLimits),
    validationRules: createLimitRules(config.graphqlLimits),
    // graphql-js's "Did you mean …?" would map out a schema whose introspection is off.
    validationOptions: { hideSuggestions: config.production },
    includeStacktraceInErrorResponses: false,
    formatError,
  };
}
