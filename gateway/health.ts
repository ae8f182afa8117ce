/**
 * Health (§3.11, §4.18): every check in parallel with a 2 s timeout; the database via
 * identity's `SELECT 1`, PubSub via PING, each composed subgraph via `{ __typename }`; and the
 * supergraph served, by hash and load time (README "Reloading the supergraph").
 */
import type { TRPCClient } from '@trpc/client';
import type { PubSub } from '../kernel/pubsub.ts';
import type { IdentityRouter } from '../subgraphs/identity/router.ts';

export interface HealthCheck {
  status: 'ok' | 'down';
  latency_ms: number;
}

export interface HealthDetailed {
  status: 'ok' | 'degraded';
  checks: { database: HealthCheck; pubsub: HealthCheck; subgraphs: Record<string, HealthCheck> };
  checked_at: string;
  /** The supergraph served: its sha256 (hex) and when this gateway loaded it. */
  supergraph: { hash: string; loaded_at: string };
}

const CHECK_TIMEOUT_MS = 2_000;

async function timed(check: (signal: AbortSignal) => Promise<unknown>): Promise<HealthCheck> {
  const started = performance.now();
  const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
  try {
    await Promise.race([
      check(signal),
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('timeout')), { once: true })),
    ]);
    return { status: 'ok', latency_ms: Math.min(CHECK_TIMEOUT_MS, Math.round(performance.now() - started)) };
  } catch {
    return { status: 'down', latency_ms: Math.min(CHECK_TIMEOUT_MS, Math.round(performance.now() - started)) };
  }
}

/** Runs every check; `subgraphs` maps each composed subgraph name to its GraphQL URL. */
export async function checkHealth(deps: { identity: TRPCClient<IdentityRouter>; pubsub: PubSub; subgraphs: Record<string, string>; supergraph: { hash: string; loadedAt: Date } }): Promise<HealthDetailed> {
  const names = Object.keys(deps.subgraphs);
  const [database, pubsub, ...subs] = await Promise.all([
    timed((signal) => deps.identity.databasePing.query(undefined, { signal })),
    timed(() => deps.pubsub.ping()),
    ...names.map((name) =>
      timed(async (signal) => {
        const res = await fetch(deps.subgraphs[name] ?? '', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }' }),
          signal,
        });
        const body = (await res.json()) as { data?: { __typename?: string } };
        if (!res.ok || !body.data?.__typename) throw new Error(`status ${res.status}`);
      }),
    ),
  ]);
  const subgraphs = Object.fromEntries(names.map((n, i) => [n, subs[i] ?? { status: 'down' as const, latency_ms: 0 }]));
  const all = [database, pubsub, ...subs];
  return {
    status: all.every((c) => c?.status === 'ok') ? 'ok' : 'degraded',
    checks: { database: database ?? { status: 'down', latency_ms: 0 }, pubsub: pubsub ?? { status: 'down', latency_ms: 0 }, subgraphs },
    checked_at: new Date().toISOString(),
    supergraph: { hash: deps.supergraph.hash, loaded_at: deps.supergraph.loadedAt.toISOString() },
  };
}
