/**
 * The supergraph reloads without a restart (README "Reloading the supergraph"): a gateway that
 * composes at run time (XENTREE_SUPERGRAPH_COMPOSE) takes in a subgraph that joins and each new
 * version it deploys, while a subscription opened before keeps streaming and a query in flight
 * completes on the schema it started with; SIGHUP composes again from what the subgraphs serve; a
 * schema that does not compose, or an announcement without a service credential, changes nothing.
 * A gateway on a supergraph file (XENTREE_SUPERGRAPH_FILE) follows each write of the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../kernel/logger.ts';
import { ANNOUNCE_CHANNEL, sdlHash } from '../kernel/schema-announce.ts';
import { createGateway } from '../gateway/server.ts';
import { composeSupergraph, loadSupergraph } from '../schema/compose.ts';
import { SUBGRAPHS } from '../subgraphs/index.ts';
import { bearer, registerAndLogin, startTestStack, type TestStack } from './harness.ts';
import { restCompat } from '../rest-compat/plugin.ts';
import { until, wsClient } from './chat-stream-fixtures.ts';
import { award, awardUntil, learner } from './learning-fixtures.ts';
import { PROBE_LINK, startProbeSubgraph, type ProbeSubgraph } from './probe-subgraph.ts';

type LogLine = Record<string, unknown>;
const logs: LogLine[] = [];
const collect = (into: LogLine[]) => ({ write: (line: string) => void into.push(JSON.parse(line) as LogLine) });
const NOT_RELOADED = 'supergraph not reloaded; the current one stays';

let t: TestStack;
let admin: string;
let probe: ProbeSubgraph | undefined;
beforeAll(async () => {
  // No polling: every change below reaches the gateway by announcement or SIGHUP alone. The slow
  // query waits on the test, not on a clock: a subgraph timeout it cannot reach.
  t = await startTestStack({ env: { XENTREE_SUPERGRAPH_COMPOSE: 'true', XENTREE_SUPERGRAPH_POLL_MS: '0', SUBGRAPH_TIMEOUT_MS: '120000', LOG_LEVEL: 'info' }, logStream: collect(logs) });
  const account = { email: 'admin@xentree.test', username: 'reload_admin', password: 'correct horse battery' };
  expect((await t.rest('POST', '/api/auth/register', { json: account })).status).toBe(201);
  admin = ((await t.rest('POST', '/api/auth/login', { form: { username: account.email, password: account.password } })).body as { access_token: string }).access_token;
});
afterAll(async () => {
  await probe?.close();
  await t?.close();
});

/** The hash `/metrics` reports for the supergraph a gateway serves. */
async function servedHash(base = t.url): Promise<string> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return /^xentree_supergraph_info\{hash="([0-9a-f]{64})"\} 1$/m.exec(text)?.[1] ?? 'none';
}

const bodyOf = async (query: string, base = t.url): Promise<unknown> => {
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  return res.json();
};
const serves = (query: string, data: unknown, base?: string) => async () => JSON.stringify(await bodyOf(query, base)) === JSON.stringify({ data });

let enterSlow!: () => void;
const slowEntered = new Promise<void>((resolve) => (enterSlow = resolve));
let releaseSlow!: () => void;
const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));

const V1 = `${PROBE_LINK}
type Query {
  probeVersion: Int!
  probeSlow: String!
}`;
const V1_RESOLVERS = {
  Query: {
    probeVersion: () => 1,
    probeSlow: async () => {
      enterSlow();
      await slowReleased;
      return 'finished on v1';
    },
  },
};
// v2 adds a field, a field on identity's User, and drops the slow field.
const V2 = `${PROBE_LINK}
type Query {
  probeVersion: Int!
  probeAdded: String!
}
type User @key(fields: "id") {
  id: ID!
  probeNote: String!
}`;
const V2_RESOLVERS = {
  Query: { probeVersion: () => 2, probeAdded: () => 'added in v2' },
  User: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, probeNote: `note for ${ref.id}` }) },
};
const V3 = `${PROBE_LINK}
type Query {
  probeVersion: Int!
  probeLater: String!
}`;
const V3_RESOLVERS = { Query: { probeVersion: () => 3, probeLater: () => 'v3' } };
// identity owns Query.me, and neither declares it @shareable.
const BROKEN = `${V3}
extend type Query {
  me: String
}`;

describe('a gateway composing from its subgraphs', () => {
  it('takes in a subgraph that joins and its next version without a restart, while an open subscription streams on and a query in flight completes', async () => {
    const committed = sdlHash(loadSupergraph().trimEnd());
    // The seven subgraphs compose to the committed supergraph: starting changed nothing, and no
    // reload failed on the way (announcements arrive one subgraph at a time).
    expect(await servedHash()).toBe(committed);
    expect(logs.filter((line) => line.msg === NOT_RELOADED)).toEqual([]);

    const l = await learner(t);
    const client = wsClient(t.url, l.access);
    const events: unknown[] = [];
    let ended = false;
    const stop = client.subscribe(
      { query: 'subscription { learningEvents { type source xp user { username } } }' },
      { next: (r) => void events.push(r), error: () => (ended = true), complete: () => (ended = true) },
    );
    try {
      await awardUntil(t, l.id, () => events.length > 0);

      probe = await startProbeSubgraph('probe', V1, V1_RESOLVERS);
      await probe.announce(t.stack.pubsub, t.config.internalServiceKey);
      await until(serves('{ probeVersion }', { probeVersion: 1 }), 15_000);
      const joined = await servedHash();
      expect(joined).not.toBe(committed);

      const inFlight = t.gql('query Slow { probeSlow }');
      await slowEntered;

      const deployedAt = Date.now();
      probe.deploy(V2, V2_RESOLVERS);
      await probe.announce(t.stack.pubsub, t.config.internalServiceKey);
      await until(serves('{ probeVersion probeAdded }', { probeVersion: 2, probeAdded: 'added in v2' }), 15_000);
      const v2 = await servedHash();
      expect([v2 === joined, v2 === committed]).toEqual([false, false]);
      // New operations see the new schema: the dropped field is gone.
      expect(await t.gql('{ probeSlow }')).toMatchObject({
        status: 400,
        body: { errors: [{ message: 'Cannot query field "probeSlow" on type "Query".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] },
      });
      const health = await t.rest('GET', '/api/health/detailed', { headers: bearer(admin) });
      const shown = (health.body as { supergraph: { hash: string; loaded_at: string } }).supergraph;
      expect(shown.hash).toBe(v2);
      expect(Date.parse(shown.loaded_at)).toBeGreaterThanOrEqual(deployedAt - 1);
      expect(Object.keys((health.body as { checks: { subgraphs: Record<string, unknown> } }).checks.subgraphs)).toContain('probe');

      // A subscription opened now is planned on v2: the probe fills in a field of each event's user.
      const fresh: unknown[] = [];
      const stopFresh = client.subscribe({ query: 'subscription { learningEvents { type user { username probeNote } } }' }, { next: (r) => void fresh.push(r), error: () => {}, complete: () => {} });
      await awardUntil(t, l.id, () => fresh.length > 0);
      stopFresh();
      expect(fresh[0]).toEqual({ data: { learningEvents: { type: 'XP_AWARDED', user: { username: l.username, probeNote: `note for ${l.id}` } } } });

      // The subscription opened before both reloads still streams, with identity's fields filled in.
      const from = events.length;
      await award(t, { source: 'live_session', sourceId: `after-${l.id}`, userId: l.id, baseXp: 1 });
      await until(() => events.length > from);
      expect(events[from]).toEqual({ data: { learningEvents: { type: 'XP_AWARDED', source: 'live_session', xp: 1, user: { username: l.username } } } });
      expect(ended).toBe(false);

      // The query planned on v1 completes.
      releaseSlow();
      const slow = await inFlight;
      expect({ status: slow.status, body: slow.body }).toEqual({ status: 200, body: { data: { probeSlow: 'finished on v1' } } });
    } finally {
      stop();
      await client.dispose();
    }
  });

  it('composes again on SIGHUP from what the subgraphs serve; a second SIGHUP changes nothing', async () => {
    const p = requireProbe();
    p.deploy(V3, V3_RESOLVERS); // not announced
    expect(await bodyOf('{ probeLater }')).toEqual({
      errors: [{ message: 'Cannot query field "probeLater" on type "Query". Did you mean "probeAdded"?', locations: [{ line: 1, column: 3 }], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }],
    });
    const before = await servedHash();
    const outcome = await t.stack.gateway.reload();
    expect(outcome).toEqual({ status: 'updated', hash: expect.stringMatching(/^[0-9a-f]{64}$/), previous: before });
    expect(await servedHash()).toBe(outcome.hash);
    expect(await bodyOf('{ probeVersion probeLater }')).toEqual({ data: { probeVersion: 3, probeLater: 'v3' } });
    expect(await t.stack.gateway.reload()).toEqual({ status: 'unchanged', hash: outcome.hash });
  });

  it('keeps the supergraph served when a new schema does not compose, and logs the composition errors', async () => {
    const p = requireProbe();
    const served = await servedHash();
    const seen = logs.length;
    p.deploy(BROKEN, { Query: { ...V3_RESOLVERS.Query, me: () => 'nobody' } });
    await p.announce(t.stack.pubsub, t.config.internalServiceKey);
    await until(() => logs.slice(seen).some((line) => line.msg === NOT_RELOADED), 15_000);
    const failure = logs.slice(seen).find((line) => line.msg === NOT_RELOADED);
    const errors = [
      'Non-shareable field "Query.me" is resolved from multiple subgraphs: it is resolved from subgraphs "identity" and "probe" and defined as non-shareable in all of them',
      'Type of field "Query.me" is incompatible across subgraphs: it has type "User" in subgraph "identity" but type "String" in subgraph "probe"',
    ];
    expect(failure).toMatchObject({ level: 50, trigger: 'announce', hash: served });
    expect([...(failure?.errors as string[])].sort()).toEqual([...errors].sort());
    expect(await servedHash()).toBe(served);
    expect(await bodyOf('{ probeVersion probeLater }')).toEqual({ data: { probeVersion: 3, probeLater: 'v3' } });
    // SIGHUP reads the same schema: it fails the same way.
    const again = await t.stack.gateway.reload();
    expect(again.status === 'failed' ? [again.hash, [...again.errors].sort()] : again).toEqual([served, [...errors].sort()]);
  });

  it('refuses an announcement without the subgraph’s service credential', async () => {
    const served = await servedHash();
    const seen = logs.length;
    await t.stack.pubsub.publish(ANNOUNCE_CHANNEL, { name: 'probe', url: 'http://127.0.0.1:9/graphql', sdl: V1, credential: 'forged' });
    // (On a shared Redis, other stacks' announcements are refused too: their secrets differ.)
    const refused = (line: LogLine) => line.msg === 'subgraph schema announcement refused' && line.reason === 'announcement of probe without its service credential';
    await until(() => logs.slice(seen).some(refused));
    expect(logs.slice(seen).find(refused)).toMatchObject({ level: 40 });
    expect(logs.slice(seen).some((line) => line.msg === 'supergraph updated' || line.msg === NOT_RELOADED)).toBe(false);
    expect(await servedHash()).toBe(served);
  });
});

describe('a second gateway composing with XENTREE_SUPERGRAPH_POLL_MS', () => {
  it('hears at start of the subgraph that joined before it, and takes in a version nobody announced at its next poll', async () => {
    const p = requireProbe();
    p.deploy(V3.replace('probeLater', 'probeFour'), { Query: { probeVersion: () => 4, probeFour: () => 'four' } });
    await p.announce(t.stack.pubsub, t.config.internalServiceKey);
    await until(serves('{ probeVersion probeFour }', { probeVersion: 4, probeFour: 'four' }), 15_000);
    const announced = await servedHash();
    const replica = await createGateway({
      config: { ...t.config, supergraph: { file: null, compose: true, pollMs: 200 } },
      logger: createLogger('silent'),
      pubsub: t.stack.pubsub,
      port: 0,
      subgraphUrls: Object.fromEntries(t.stack.subgraphs.map((s) => [s.name, s.url])),
    });
    try {
      // It asked the subgraphs to announce again when it started.
      await until(async () => (await servedHash(replica.url)) === announced, 15_000);
      expect(await bodyOf('{ probeVersion probeFour }', replica.url)).toEqual({ data: { probeVersion: 4, probeFour: 'four' } });
      p.deploy(V3.replace('probeLater', 'probePolled'), { Query: { probeVersion: () => 5, probePolled: () => 'polled' } }); // not announced
      await until(serves('{ probeVersion probePolled }', { probeVersion: 5, probePolled: 'polled' }, replica.url), 15_000);
      // The first gateway does not poll: it still serves what was announced.
      expect([await servedHash(), (await servedHash(replica.url)) === announced]).toEqual([announced, false]);
    } finally {
      await replica.close();
    }
  });
});

function requireProbe(): ProbeSubgraph {
  if (!probe) throw new Error('the first test starts the probe subgraph');
  return probe;
}

describe('a gateway on XENTREE_SUPERGRAPH_FILE', () => {
  it('serves the file, follows each write of it, and keeps what it serves when a write is not a supergraph', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'xentree-supergraph-'));
    const file = path.join(dir, 'supergraph.graphql');
    writeFileSync(file, loadSupergraph());
    const fileLogs: LogLine[] = [];
    const filed = await startProbeSubgraph('filed', `${PROBE_LINK}\ntype Query {\n  filedField: String!\n}`, { Query: { filedField: () => 'from the file' } });
    const gateway = await createGateway({
      config: { ...t.config, supergraph: { file, compose: false, pollMs: 0 } },
      logger: createLogger('info', 'file-gateway', collect(fileLogs)),
      pubsub: t.stack.pubsub,
      port: 0,
      subgraphUrls: Object.fromEntries(t.stack.subgraphs.map((s) => [s.name, s.url])),
    });
    try {
      expect(await servedHash(gateway.url)).toBe(sdlHash(loadSupergraph().trimEnd()));
      // Composed elsewhere (as a schema registry would), with the new subgraph's routing URL.
      const composed = composeSupergraph([...SUBGRAPHS, { name: 'filed', typeDefs: parse(await sdlOf(filed.url)), url: filed.url }]).supergraph;
      writeFileSync(file, `${composed}\n`);
      await until(serves('{ filedField }', { filedField: 'from the file' }, gateway.url), 15_000);
      expect(await servedHash(gateway.url)).toBe(sdlHash(composed));

      const seen = fileLogs.length;
      writeFileSync(file, 'this is not a supergraph\n');
      await until(() => fileLogs.slice(seen).some((line) => line.msg === NOT_RELOADED), 15_000);
      expect(fileLogs.slice(seen).find((line) => line.msg === NOT_RELOADED)).toMatchObject({ level: 50, trigger: 'file', hash: sdlHash(composed), errors: ['Syntax Error: Unexpected Name "this".'] });
      expect(await bodyOf('{ filedField }', gateway.url)).toEqual({ data: { filedField: 'from the file' } });
      expect(await gateway.reload()).toEqual({ status: 'failed', hash: sdlHash(composed), errors: ['Syntax Error: Unexpected Name "this".'] });
    } finally {
      await gateway.close();
      await filed.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('REST routes on a reloaded supergraph', () => {
  it('take their root field\'s rate-limit policy from the supergraph served, as GraphQL does', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'xentree-supergraph-'));
    const file = path.join(dir, 'supergraph.graphql');
    writeFileSync(file, loadSupergraph());
    const gateway = await createGateway({
      config: { ...t.config, supergraph: { file, compose: false, pollMs: 0 } },
      logger: createLogger('silent'),
      pubsub: t.stack.pubsub,
      port: 0,
      subgraphUrls: Object.fromEntries(t.stack.subgraphs.map((s) => [s.name, s.url])),
      plugins: [restCompat()],
    });
    try {
      const { access } = await registerAndLogin(t, 'reload_rest');
      const policies = async (): Promise<[string | null, string | null]> => {
        const rest = await fetch(`${gateway.url}/api/auth/me`, { headers: bearer(access) });
        const graphql = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(access) }, body: JSON.stringify({ query: '{ me { id } }' }) });
        expect([rest.status, graphql.status]).toEqual([200, 200]);
        return [rest.headers.get('ratelimit-policy'), graphql.headers.get('ratelimit-policy')];
      };
      const { default: standard, ai } = t.config.rateLimits;
      expect(await policies()).toEqual(Array(2).fill(`"default";q=${standard.limit};w=${standard.windowSeconds}`));
      // The same supergraph but for `Query.me`, now limited as an AI call.
      const field = 'me: User @join__field(graph: IDENTITY) @access(auth: "B")';
      expect(loadSupergraph()).toContain(field);
      writeFileSync(file, loadSupergraph().replace(field, `${field} @rateLimit(policy: "ai")`));
      await gateway.reload('file');
      expect(await policies()).toEqual(Array(2).fill(`"ai";q=${ai.limit};w=${ai.windowSeconds}`));
    } finally {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function sdlOf(url: string): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ _service { sdl } }' }) });
  return ((await res.json()) as { data: { _service: { sdl: string } } }).data._service.sdl;
}
