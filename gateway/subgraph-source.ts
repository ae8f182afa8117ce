/**
 * How the gateway reaches one subgraph over HTTP: @apollo/gateway's data source with the breaker,
 * retries and timing of resilience.ts around each fetch, the signed internal context and the
 * call's deadline on each request, and the revocations a subgraph reports read from its response.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Agent } from 'undici';
import type { Config } from '../kernel/config.ts';
import { CONTEXT_HEADER } from '../kernel/context.ts';
import { DEADLINE_HEADER } from '../kernel/deadline.ts';
import { signedContextOf, type GatewayContext } from './context.ts';
import { currentRequestTiming } from './metrics.ts';
import type { PolicyTable } from './policies.ts';
import { callDeadlineMs, createSubgraphFetcher, operationKindOf, subgraphTimeoutOf, SubgraphUnavailableError, unavailableErrors, type SubgraphGuard } from './resilience.ts';

/** Where revocations reported by subgraphs (`extensions.revokedSessions` / `revokedApiKeys`) go. */
export interface RevocationSink {
  markRevoked(sessionIds: readonly string[]): void;
  markApiKeysRevoked(keyIds: readonly string[]): void;
}

export interface SubgraphSourceOptions {
  config: Config;
  /** The connection pool every subgraph fetch shares. */
  pool: Agent;
  policies: PolicyTable;
  revocations: RevocationSink;
}

export class SubgraphSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(readonly guard: SubgraphGuard, url: string, private readonly settings: SubgraphSourceOptions) {
    const { config, pool } = settings;
    super({ url, fetcher: createSubgraphFetcher(pool, subgraphTimeoutOf(config, guard.subgraph), config.subgraphResilience.deadlineMarginMs) });
  }
  /** Breaker, retries and timing around each fetch; a failed subgraph yields errors, not a throw (partial data). */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): ReturnType<RemoteGraphQLDataSource<GatewayContext>['process']> {
    const ended = currentRequestTiming()?.subgraphCall();
    try {
      return await this.guard.run(operationKindOf('document' in options ? options.document : undefined, options.request.query), () => super.process(options));
    } catch (err) {
      if (err instanceof SubgraphUnavailableError) return { errors: unavailableErrors(err) };
      throw err;
    } finally {
      ended?.();
    }
  }
  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const { config, policies } = this.settings;
    const context = options.context;
    if ('auth' in context && context.auth) {
      options.request.http?.headers.set(CONTEXT_HEADER, await signedContextOf(context as GatewayContext, config.internalServiceKey));
    }
    // The subgraph stops at this deadline; the fetcher waits a margin longer (resilience.ts).
    const deadline = callDeadlineMs(config, this.guard.subgraph, 'document' in options ? options.document : undefined, options.request.query, policies);
    options.request.http?.headers.set(DEADLINE_HEADER, String(deadline));
  }
  override didReceiveResponse<T extends { extensions?: Record<string, unknown> }>({ response }: { response: T }): T {
    const { revocations } = this.settings;
    const revoked = response.extensions?.revokedSessions;
    if (Array.isArray(revoked)) revocations.markRevoked(revoked.filter((x): x is string => typeof x === 'string'));
    const revokedKeys = response.extensions?.revokedApiKeys;
    if (Array.isArray(revokedKeys)) revocations.markApiKeysRevoked(revokedKeys.filter((x): x is string => typeof x === 'string'));
    return response;
  }
}

/**
 * One data source per subgraph, created on first use and shared by the gateway's executor and the
 * subscription engine (so both go through the same breaker).
 */
export function createSubgraphSources(options: SubgraphSourceOptions & { guardOf(name: string): SubgraphGuard; urlOf(name: string): string }): (name: string) => SubgraphSource {
  const sources = new Map<string, SubgraphSource>();
  return (name) => {
    let source = sources.get(name);
    if (!source) {
      source = new SubgraphSource(options.guardOf(name), options.urlOf(name), options);
      sources.set(name, source);
    }
    return source;
  };
}
