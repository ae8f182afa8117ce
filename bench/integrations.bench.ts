/**
 * `npm run bench -- integrations`: INT-2 verify and INT-5 JWKS through the gateway, against
 * `{ __typename }` in the same run, each at 32 connections (BENCH_CONNECTIONS) for 10 s
 * (BENCH_DURATION). The whole stack runs in this process, as `npm start` runs it, on embedded
 * PostgreSQL; the load generator runs here too, so the figures are comparable with each other
 * rather than with another machine. Issue target: verify ≥ 0.5× `{ __typename }`. verify is also
 * shown against JWKS, which crosses the same REST → gateway → subgraph path with no work.
 * Each row also gives the process's CPU time (user + system) per request: the whole stack and the
 * load generator, so it is a per-request cost that moves less with other load on the machine
 * than throughput does.
 */
import autocannon from 'autocannon';
import { bearer, registerAndLogin, startTestStack } from '../test/harness.ts';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);

interface Figures {
  rps: number;
  /** The process's CPU time per request answered, in ms (stack and load generator together). */
  cpuMs: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, opts: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }): Promise<Figures> {
  const before = process.cpuUsage();
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, method: opts.method, headers: opts.headers ?? {}, body: opts.body });
  const cpu = process.cpuUsage(before);
  const cpuMs = (cpu.user + cpu.system) / 1000 / Math.max(1, result.requests.total);
  return { rps: result.requests.average, cpuMs, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

const row = (name: string, f: Figures, base: Figures): string =>
  `${name.padEnd(22)} ${f.rps.toFixed(0).padStart(7)} req/s  CPU ${f.cpuMs.toFixed(2).padStart(5)} ms/req  p50 ${String(f.p50).padStart(4)} ms  p99 ${String(f.p99).padStart(4)} ms  errors ${f.errors}  ×${(f.rps / base.rps).toFixed(2)} of { __typename }`;

export async function run(): Promise<void> {
  const t = await startTestStack();
  try {
    const owner = await registerAndLogin(t, 'bench');
    const org = (await t.rest('POST', '/api/organizations', { json: { name: 'Bench Org' }, headers: bearer(owner.access) })).body as { id: string };
    const grant = await t.rest('POST', '/api/integration/grant', {
      json: { mode: 'api', origin: 'https://partner.example', scopes: ['rag:read'], ttlSeconds: 3600, tenantId: org.id },
      headers: bearer(owner.access),
    });
    if (grant.status !== 201) throw new Error(`grant answered ${grant.status}`);
    const token = (grant.body as { token: string }).token;
    const json = { 'content-type': 'application/json', ...bearer(owner.access) };
    console.log(`integrations bench: whole stack in one process (embedded PostgreSQL), ${CONNECTIONS} connections, ${DURATION_S} s each`);

    const typename = await load(`${t.url}/graphql`, { method: 'POST', headers: json, body: JSON.stringify({ query: '{ __typename }' }) });
    const verify = await load(`${t.url}/api/integration/verify`, { method: 'POST', headers: json, body: JSON.stringify({ token, tenantId: org.id }) });
    const jwks = await load(`${t.url}/api/integration/jwks?tenantId=${org.id}`, { method: 'GET' });
    console.log(row('{ __typename }', typename, typename));
    console.log(row('INT-2 verify', verify, typename));
    console.log(row('INT-5 JWKS', jwks, typename));
    // JWKS crosses the same REST → gateway → subgraph path doing almost nothing: the floor for verify.
    console.log(`INT-2 verify ×${(verify.rps / jwks.rps).toFixed(2)} of INT-5 JWKS (the same path with no membership, signature or revocation work)`);
    console.log(`CPU per request: verify ×${(verify.cpuMs / typename.cpuMs).toFixed(2)}, JWKS ×${(jwks.cpuMs / typename.cpuMs).toFixed(2)} of { __typename }'s`);
    console.log(`target verify ≥ 0.5× { __typename }: ${verify.rps >= 0.5 * typename.rps ? 'met' : 'NOT met'}`);
  } finally {
    await t.close();
  }
}
