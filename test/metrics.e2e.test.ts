/**
 * `GET /metrics`: after REST and GraphQL traffic the named series carry the right
 * labels and counts; in production the endpoint needs METRICS_TOKEN, and without one is not served.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../kernel/logger.ts';
import { createGateway, type StartedGateway } from '../gateway/server.ts';
import { restCompat } from '../rest-compat/plugin.ts';
import { bearer, newUser, useTestStack } from './harness.ts';

// A small auth limit over a day-long window (so no window boundary falls inside the test).
const t = useTestStack({ env: { RATE_LIMIT_AUTH: '5/86400' } });

/** Prometheus text → series (name plus labels, as printed) → value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${url}/metrics`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('GET /metrics outside production, without a token', () => {
  it('counts REST and GraphQL requests by operation and status, with latency, overhead and subgraph series', async () => {
    const before = parseMetrics((await scrape(t.url)).text);
    const user = newUser('metrics');
    expect((await t.rest('POST', '/api/auth/register', { json: user })).status).toBe(201);
    const login = await t.rest('POST', '/api/auth/login', { form: { username: user.username, password: user.password } });
    expect(login.status).toBe(200);
    expect((await t.rest('POST', '/api/auth/login', { form: { username: user.username, password: 'wrong password' } })).status).toBe(401);
    const token = (login.body as { access_token: string }).access_token;
    expect((await t.rest('GET', '/api/auth/me', { headers: bearer(token) })).status).toBe(200);
    expect((await t.rest('GET', '/api/no-such-route')).status).toBe(404);
    expect((await t.gql('query WhoAmI { me { id } }', {}, bearer(token))).status).toBe(200);
    expect((await t.gql('{ me { username } }', {}, bearer(token))).status).toBe(200);
    expect((await t.gql('query Broken { me { nope } }', {}, bearer(token))).status).toBe(400);
    // The sixth auth-policy request of the window is refused.
    for (let i = 0; i < 2; i++) await t.rest('POST', '/api/auth/login', { form: { username: user.username, password: 'wrong password' } });
    expect((await t.rest('POST', '/api/auth/login', { form: { username: user.username, password: 'wrong password' } })).status).toBe(429);

    const res = await scrape(t.url);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const after = parseMetrics(res.text);
    const delta = (series: string): number => (after.get(series) ?? 0) - (before.get(series) ?? 0);

    expect(delta('xentree_requests_total{api="rest",operation="AUTH-1",status="201"}')).toBe(1);
    expect(delta('xentree_requests_total{api="rest",operation="AUTH-2",status="200"}')).toBe(1);
    expect(delta('xentree_requests_total{api="rest",operation="AUTH-2",status="401"}')).toBe(3);
    expect(delta('xentree_requests_total{api="rest",operation="AUTH-2",status="429"}')).toBe(1);
    expect(delta('xentree_requests_total{api="rest",operation="AUTH-5",status="200"}')).toBe(1);
    expect(delta('xentree_requests_total{api="rest",operation="unmatched",status="404"}')).toBe(1);
    expect(delta('xentree_requests_total{api="graphql",operation="WhoAmI",status="200"}')).toBe(1);
    expect(delta('xentree_requests_total{api="graphql",operation="anonymous",status="200"}')).toBe(1);
    // An operation that fails validation is never resolved, so its name is not trusted as a label.
    expect(delta('xentree_requests_total{api="graphql",operation="Broken",status="400"}')).toBe(0);
    expect(delta('xentree_requests_total{api="graphql",operation="unresolved",status="400"}')).toBe(1);
    expect(delta('xentree_graphql_errors_total{operation="unresolved",code="GRAPHQL_VALIDATION_FAILED"}')).toBe(1);

    expect(delta('xentree_request_duration_seconds_count{api="rest",operation="AUTH-2"}')).toBe(5);
    expect(delta('xentree_request_duration_seconds_count{api="graphql",operation="WhoAmI"}')).toBe(1);
    expect(delta('xentree_gateway_overhead_seconds_count{api="graphql"}')).toBe(3);
    expect(delta('xentree_gateway_overhead_seconds_count{api="rest"}')).toBe(8);
    // Overhead excludes the time spent waiting on identity, so it is below the total of the same
    // three requests (the one refused by validation has overhead too, and no wait at all).
    const graphqlTotal = ['WhoAmI', 'anonymous', 'unresolved'].reduce((sum, op) => sum + delta(`xentree_request_duration_seconds_sum{api="graphql",operation="${op}"}`), 0);
    expect(delta('xentree_request_duration_seconds_count{api="graphql",operation="unresolved"}')).toBe(1);
    expect(delta('xentree_gateway_overhead_seconds_sum{api="graphql"}')).toBeLessThan(graphqlTotal);

    // Register, the four logins that were not refused, me, and two GraphQL queries, at least.
    const identityCalls = delta('xentree_subgraph_requests_total{subgraph="identity"}');
    expect(identityCalls).toBeGreaterThanOrEqual(8);
    expect(delta('xentree_subgraph_request_duration_seconds_count{subgraph="identity"}')).toBe(identityCalls);
    expect(after.get('xentree_circuit_breaker_state{subgraph="identity"}')).toBe(0);
    expect(delta('xentree_rate_limit_hits_total{policy="auth"}')).toBe(1);
    expect(after.get('xentree_websocket_connections')).toBe(0);
    expect(res.text).toContain('# TYPE xentree_subgraph_errors_total counter');
    expect(res.text).toContain('# TYPE xentree_subgraph_retries_total counter');
    expect([...after.keys()].some((k) => k.startsWith('process_cpu_seconds_total'))).toBe(true);
    // Scrapes are not counted as requests.
    expect([...after.keys()].filter((k) => k.includes('/metrics') || k.includes('operation="metrics"'))).toEqual([]);
  });
});

describe('GET /metrics in production', () => {
  const gateways: StartedGateway[] = [];
  const start = async (metricsToken: string | null): Promise<string> => {
    const gw = await createGateway({
      config: { ...t.config, env: 'production', production: true, metricsToken },
      logger: createLogger(t.config.logLevel),
      pubsub: t.stack.pubsub,
      port: 0,
      subgraphUrls: Object.fromEntries(t.stack.subgraphs.map((s) => [s.name, s.url])),
      plugins: [restCompat()],
    });
    gateways.push(gw);
    return gw.url;
  };
  afterAll(async () => {
    for (const gw of gateways) await gw.close();
  });

  it('without METRICS_TOKEN is not served (404)', async () => {
    const url = await start(null);
    const res = await scrape(url);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('xentree_');
  });

  it('with METRICS_TOKEN requires it as a bearer token', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const url = await start(token);
    for (const headers of [{}, bearer('metrics-token-wrong'), bearer(`${token}x`), { authorization: `Basic ${token}` }]) {
      const res = await fetch(`${url}/metrics`, { headers });
      expect({ status: res.status, body: await res.json(), challenge: res.headers.get('www-authenticate') }).toEqual({
        status: 401,
        body: { detail: 'Not authenticated' },
        challenge: 'Bearer',
      });
    }
    const ok = await scrape(url, bearer(token));
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('# TYPE xentree_requests_total counter');
  });
});
