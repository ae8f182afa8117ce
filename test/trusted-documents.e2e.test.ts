/**
 * Trusted documents on real servers: one stack (`allow`, the default) and two more gateways on
 * the same subgraphs with `XENTREE_TRUSTED_DOCUMENTS=enforce` and `off`, each mode over HTTP POST,
 * HTTP GET and graphql-ws; under `enforce` the REST layer keeps working. Also: automatic persisted
 * queries still pass the operation limits, and a GET of a public query carries `Cache-Control`
 * from the `@cacheControl` hints.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type StartedGateway } from '../gateway/server.ts';
import { restCompat } from '../rest-compat/plugin.ts';
import { createLogger } from '../kernel/logger.ts';
import type { Config } from '../kernel/config.ts';
import { PERSISTED_DOCUMENTS_PATH, documentHash, persistedOperations, printPersistedDocument, readManifest } from '../schema/persisted-documents.ts';
import { bearer, registerAndLogin, startTestStack, type TestStack } from './harness.ts';
import { wsResults } from './ws-results.ts';

const MANIFEST = readManifest(PERSISTED_DOCUMENTS_PATH);

/** The manifest entry of the operation named `name`. */
function manifestEntry(name: string): { hash: string; document: string } {
  for (const [hash, document] of MANIFEST) if (persistedOperations(document)[0]?.name === name) return { hash, document };
  throw new Error(`${name} is not in the manifest`);
}

const ME = manifestEntry('Me');
const JWKS = manifestEntry('IntegrationJwks');
const GRAPHQL_RESPONSE = 'application/graphql-response+json; charset=utf-8';
const NOT_ALLOWED = { errors: [{ message: 'This server runs only trusted documents: this document is not in its manifest.', extensions: { code: 'PERSISTED_QUERY_NOT_ALLOWED' } }] };
const NOT_SUPPORTED = { errors: [{ message: 'Persisted documents (documentId) are turned off on this server.', extensions: { code: 'PERSISTED_QUERY_NOT_SUPPORTED' } }] };

interface Answer {
  status: number;
  type: string | null;
  cache: string | null;
  body: unknown;
}

async function post(base: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), body: await res.json() };
}

async function get(base: string, params: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  const search = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  // Apollo's CSRF prevention: a GET needs a preflight header (or a JSON content type).
  const res = await fetch(`${base}/graphql?${search.toString()}`, { headers: { accept: 'application/graphql-response+json', 'apollo-require-preflight': 'true', ...headers } });
  return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), body: await res.json() };
}

/** The value of `xentree_untrusted_documents_total{action}` on a gateway's /metrics. */
async function untrusted(base: string, action: 'allowed' | 'refused'): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`xentree_untrusted_documents_total{action="${action}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('trusted documents', () => {
  let t: TestStack;
  let enforce: StartedGateway;
  let off: StartedGateway;
  let token = '';
  let userId = '';

  const gatewayWith = (mode: Config['trustedDocuments']['mode']): Promise<StartedGateway> =>
    createGateway({
      config: { ...t.config, trustedDocuments: { ...t.config.trustedDocuments, mode } },
      logger: createLogger('silent'),
      pubsub: t.stack.pubsub,
      port: 0,
      host: '127.0.0.1',
      subgraphUrls: Object.fromEntries(t.stack.subgraphs.map((s) => [s.name, s.url])),
      plugins: [restCompat()],
    });

  beforeAll(async () => {
    t = await startTestStack();
    enforce = await gatewayWith('enforce');
    off = await gatewayWith('off');
    const user = await registerAndLogin(t, 'trusted');
    token = user.access;
    userId = user.id;
  }, 120_000);

  afterAll(async () => {
    await enforce?.close();
    await off?.close();
    await t?.close();
  });

  const meData = () => ({ data: { me: expect.objectContaining({ id: userId }) } });

  describe('allow (default)', () => {
    it('runs a manifest document by documentId (sha256:<hex> or bare hex) or APQ hash, and ad-hoc documents, over POST', async () => {
      expect(await post(t.url, { documentId: `sha256:${ME.hash}` }, bearer(token))).toMatchObject({ status: 200, type: GRAPHQL_RESPONSE, body: meData() });
      expect(await post(t.url, { documentId: ME.hash }, bearer(token))).toMatchObject({ status: 200, body: meData() });
      expect(await post(t.url, { extensions: { persistedQuery: { version: 1, sha256Hash: ME.hash } } }, bearer(token))).toMatchObject({ status: 200, body: meData() });
      expect(await post(t.url, { query: '{ me { id } }' }, bearer(token))).toMatchObject({ status: 200, body: { data: { me: { id: userId } } } });
    });

    it('refuses an unknown documentId (400 PERSISTED_QUERY_NOT_FOUND), a malformed one, and one sent with a query', async () => {
      expect(await post(t.url, { documentId: `sha256:${'0'.repeat(64)}` })).toEqual({
        status: 400,
        type: GRAPHQL_RESPONSE,
        cache: 'no-store',
        body: { errors: [{ message: 'No persisted document has this documentId.', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] },
      });
      expect(await post(t.url, { documentId: 'md5:abc' })).toMatchObject({ status: 400, body: { errors: [{ message: '`documentId` must be `sha256:<64 hex digits>`.', extensions: { code: 'BAD_REQUEST' } }] } });
      expect(await post(t.url, { documentId: ME.hash, query: '{ __typename }' })).toMatchObject({ status: 400, body: { errors: [{ message: 'Send either `query` or `documentId`, not both.', extensions: { code: 'BAD_REQUEST' } }] } });
    });

    it('runs a manifest document by documentId over GET, and an ad-hoc one', async () => {
      expect(await get(t.url, { documentId: `sha256:${ME.hash}` }, bearer(token))).toMatchObject({ status: 200, body: meData() });
      expect(await get(t.url, { query: '{ __typename }' })).toMatchObject({ status: 200, body: { data: { __typename: 'Query' } } });
    });

    it('runs a manifest document by documentId over graphql-ws, and an ad-hoc one', async () => {
      expect(await wsResults(t.url, { query: '', documentId: `sha256:${ME.hash}` }, bearer(token))).toEqual([meData()]);
      expect(await wsResults(t.url, { query: '{ __typename }' })).toEqual([{ data: { __typename: 'Query' } }]);
    });

    it('serves automatic persisted queries over graphql-ws on the cache HTTP uses: either transport registers, the other runs the hash', async () => {
      const apq = (query: string) => ({ persistedQuery: { version: 1, sha256Hash: documentHash(query) } });
      const viaHttp = `{ viaHttp: __typename } # ${randomUUID()}`;
      const viaWs = `{ viaWs: __typename } # ${randomUUID()}`;
      const notFound = [{ error: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] }];
      expect(await wsResults(t.url, { query: '', extensions: apq(viaWs) })).toEqual(notFound);
      // Registered over HTTP, run by its hash over graphql-ws.
      expect(await post(t.url, { query: viaHttp, extensions: apq(viaHttp) })).toMatchObject({ status: 200, body: { data: { viaHttp: 'Query' } } });
      expect(await wsResults(t.url, { query: '', extensions: apq(viaHttp) })).toEqual([{ data: { viaHttp: 'Query' } }]);
      // Registered over graphql-ws, run by its hash over graphql-ws and over HTTP.
      expect(await wsResults(t.url, { query: viaWs, extensions: apq(viaWs) })).toEqual([{ data: { viaWs: 'Query' } }]);
      expect(await wsResults(t.url, { query: '', extensions: apq(viaWs) })).toEqual([{ data: { viaWs: 'Query' } }]);
      expect(await post(t.url, { extensions: apq(viaWs) })).toMatchObject({ status: 200, body: { data: { viaWs: 'Query' } } });
      // A hash that is not the query's, another version, no hash: refused; an invalid document is not registered.
      expect(await wsResults(t.url, { query: viaWs, extensions: apq(viaHttp) })).toEqual([{ error: [{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } }] }]);
      expect(await wsResults(t.url, { query: '', extensions: { persistedQuery: { version: 2, sha256Hash: documentHash(viaWs) } } })).toEqual([{ error: [{ message: 'Unsupported persisted query version', extensions: { code: 'BAD_REQUEST' } }] }]);
      expect(await wsResults(t.url, { query: '', extensions: { persistedQuery: { version: 1 } } })).toEqual([{ error: [{ message: 'The persistedQuery extension needs a sha256Hash', extensions: { code: 'BAD_REQUEST' } }] }]);
      const invalid = `{ noSuchField } # ${randomUUID()}`;
      expect(await wsResults(t.url, { query: invalid, extensions: apq(invalid) })).toMatchObject([{ error: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] }]);
      expect(await wsResults(t.url, { query: '', extensions: apq(invalid) })).toEqual(notFound);
      // Neither a query nor a hash.
      expect(await wsResults(t.url, { query: '' })).toEqual([{ error: [{ message: 'GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.', extensions: { code: 'BAD_REQUEST' } }] }]);
    });

    it('counts the documents enforce would refuse on /metrics (a dry run), and not the manifest ones', async () => {
      const before = await untrusted(t.url, 'allowed');
      await post(t.url, { query: '{ __typename }' });
      await post(t.url, { documentId: `sha256:${ME.hash}` }, bearer(token));
      await post(t.url, { query: ME.document }, bearer(token));
      expect(await untrusted(t.url, 'allowed')).toBe(before + 1);
      const refusedBefore = await untrusted(enforce.url, 'refused');
      await get(enforce.url, { query: '{ __typename }' });
      expect(await untrusted(enforce.url, 'refused')).toBe(refusedBefore + 1);
    });

    it('registers an automatic persisted query only once it passes the operation limits', async () => {
      const aliases = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
      const hash = documentHash(aliases);
      const refused = await post(t.url, { query: aliases, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
      expect(refused).toMatchObject({
        status: 400,
        body: {
          errors: [
            { message: 'The operation uses 31 aliases; at most 30 are allowed.', locations: [{ line: 1, column: 1 }], extensions: { code: 'TOO_MANY_ALIASES', status: 400 } },
            { message: 'The operation selects 31 root fields; at most 20 are allowed.', locations: [{ line: 1, column: 1 }], extensions: { code: 'TOO_MANY_ROOT_FIELDS', status: 400 } },
          ],
        },
      });
      expect(await post(t.url, { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } })).toMatchObject({
        status: 200,
        body: { errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] },
      });
      const fine = `{ __typename ok: __typename } # ${randomUUID()}`;
      const fineHash = documentHash(fine);
      expect(await post(t.url, { query: fine, extensions: { persistedQuery: { version: 1, sha256Hash: fineHash } } })).toMatchObject({ status: 200, body: { data: { __typename: 'Query', ok: 'Query' } } });
      expect(await get(t.url, { extensions: { persistedQuery: { version: 1, sha256Hash: fineHash } } })).toMatchObject({ status: 200, body: { data: { __typename: 'Query', ok: 'Query' } } });
    });
  });

  describe('enforce', () => {
    it('refuses ad-hoc documents and unknown ids over POST with 400 PERSISTED_QUERY_NOT_ALLOWED', async () => {
      expect(await post(enforce.url, { query: '{ __typename }' })).toEqual({ status: 400, type: GRAPHQL_RESPONSE, cache: 'no-store', body: NOT_ALLOWED });
      expect(await post(enforce.url, { documentId: `sha256:${'1'.repeat(64)}` })).toEqual({ status: 400, type: GRAPHQL_RESPONSE, cache: 'no-store', body: NOT_ALLOWED });
      expect(await post(enforce.url, { documentId: 'x-custom:7' })).toEqual({ status: 400, type: GRAPHQL_RESPONSE, cache: 'no-store', body: NOT_ALLOWED });
      // An APQ hash not in the manifest is refused, not looked up: the shared APQ cache may hold anything.
      expect(await post(enforce.url, { extensions: { persistedQuery: { version: 1, sha256Hash: documentHash('{ __typename }') } } })).toEqual({ status: 400, type: GRAPHQL_RESPONSE, cache: 'no-store', body: NOT_ALLOWED });
      // Registering an APQ does not get a document in.
      expect(await post(enforce.url, { query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: documentHash('{ __typename }') } } })).toMatchObject({ status: 400, body: NOT_ALLOWED });
      // Clients that take only application/json get that type, still 400.
      expect(await post(enforce.url, { query: '{ __typename }' }, { accept: 'application/json' })).toEqual({ status: 400, type: 'application/json; charset=utf-8', cache: 'no-store', body: NOT_ALLOWED });
    });

    it('runs manifest documents over POST: by id, by hash, as the manifest text, or as the source text of the operation', async () => {
      expect(await post(enforce.url, { documentId: `sha256:${ME.hash}` }, bearer(token))).toMatchObject({ status: 200, body: meData() });
      expect(await post(enforce.url, { extensions: { persistedQuery: { version: 1, sha256Hash: ME.hash } } }, bearer(token))).toMatchObject({ status: 200, body: meData() });
      expect(await post(enforce.url, { query: ME.document }, bearer(token))).toMatchObject({ status: 200, body: meData() });
      // The operation as written in rest-compat/areas/auth/operations.graphql: its canonical printing is in the manifest.
      const source = readFileSync(new URL('../rest-compat/areas/auth/operations.graphql', import.meta.url), 'utf8');
      const [me] = persistedOperations(source).filter((op) => op.name === 'Me');
      const asWritten = `query Me {\n  me {\n    ...UserProfileFields\n  }\n}\n\n${source.slice(source.indexOf('fragment UserProfileFields'), source.indexOf('mutation Register'))}`;
      expect(printPersistedDocument(me!.document)).toBe(ME.document);
      expect(await post(enforce.url, { query: asWritten, operationName: 'Me' }, bearer(token))).toMatchObject({ status: 200, body: meData() });
      // One field more is another document.
      expect(await post(enforce.url, { query: asWritten.replace('...UserProfileFields', '...UserProfileFields\n    id') }, bearer(token))).toMatchObject({ status: 400, body: NOT_ALLOWED });
    });

    it('refuses ad-hoc documents over GET and runs manifest ones by id', async () => {
      expect(await get(enforce.url, { query: '{ __typename }' })).toEqual({ status: 400, type: GRAPHQL_RESPONSE, cache: 'no-store', body: NOT_ALLOWED });
      expect(await get(enforce.url, { documentId: `sha256:${'2'.repeat(64)}` })).toEqual({ status: 400, type: GRAPHQL_RESPONSE, cache: 'no-store', body: NOT_ALLOWED });
      expect(await get(enforce.url, { documentId: `sha256:${ME.hash}` }, bearer(token))).toMatchObject({ status: 200, body: meData() });
    });

    it('refuses ad-hoc subscriptions and queries over graphql-ws with an error message, and runs manifest ones by id', async () => {
      const refused = [{ error: [{ message: NOT_ALLOWED.errors[0]!.message, extensions: { code: 'PERSISTED_QUERY_NOT_ALLOWED' } }] }];
      expect(await wsResults(enforce.url, { query: 'subscription { liveEvents { __typename } }' }, bearer(token))).toEqual(refused);
      expect(await wsResults(enforce.url, { query: '{ __typename }' })).toEqual(refused);
      expect(await wsResults(enforce.url, { query: '', documentId: `sha256:${'3'.repeat(64)}` })).toEqual(refused);
      expect(await wsResults(enforce.url, { query: '', documentId: `sha256:${ME.hash}` }, bearer(token))).toEqual([meData()]);
      // An APQ hash: a manifest's runs, any other is refused, not looked up.
      expect(await wsResults(enforce.url, { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: ME.hash } } }, bearer(token))).toEqual([meData()]);
      expect(await wsResults(enforce.url, { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: documentHash('{ __typename }') } } })).toEqual(refused);
    });

    it('keeps the REST layer working: its operations are the manifest', async () => {
      const me = await fetch(`${enforce.url}/api/auth/me`, { headers: bearer(token) });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ id: userId });
      const login = await fetch(`${enforce.url}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: 'not-a-token' }) });
      expect(login.status).toBe(401);
    });
  });

  describe('off', () => {
    it('refuses a documentId with 400 PERSISTED_QUERY_NOT_SUPPORTED on POST, GET and graphql-ws', async () => {
      expect(await post(off.url, { documentId: `sha256:${ME.hash}` }, bearer(token))).toEqual({ status: 400, type: GRAPHQL_RESPONSE, cache: 'no-store', body: NOT_SUPPORTED });
      expect(await get(off.url, { documentId: `sha256:${ME.hash}` }, bearer(token))).toEqual({ status: 400, type: GRAPHQL_RESPONSE, cache: 'no-store', body: NOT_SUPPORTED });
      expect(await wsResults(off.url, { query: '', documentId: `sha256:${ME.hash}` })).toEqual([{ error: NOT_SUPPORTED.errors }]);
    });

    it('runs ad-hoc documents on POST, GET and graphql-ws; a manifest hash is only an APQ lookup', async () => {
      expect(await post(off.url, { query: '{ __typename }' })).toMatchObject({ status: 200, body: { data: { __typename: 'Query' } } });
      expect(await get(off.url, { query: '{ __typename }' })).toMatchObject({ status: 200, body: { data: { __typename: 'Query' } } });
      expect(await wsResults(off.url, { query: '{ __typename }' })).toEqual([{ data: { __typename: 'Query' } }]);
      expect(await post(off.url, { extensions: { persistedQuery: { version: 1, sha256Hash: ME.hash } } })).toMatchObject({ status: 200, body: { errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] } });
      expect(await wsResults(off.url, { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: ME.hash } } })).toMatchObject([{ error: [{ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] }]);
    });
  });

  describe('Cache-Control of GET answers', () => {
    const tenantId = randomUUID();

    it('a public query persisted by id, without credentials: max-age from @cacheControl, public', async () => {
      const res = await get(t.url, { documentId: `sha256:${JWKS.hash}`, variables: { tenantId } });
      expect(res).toEqual({ status: 200, type: GRAPHQL_RESPONSE, cache: 'max-age=300, public', body: { data: { integrationJwks: null } } });
      expect((await get(enforce.url, { documentId: `sha256:${JWKS.hash}`, variables: { tenantId } })).cache).toBe('max-age=300, public');
    });

    it('with credentials: private; over POST, with a non-cacheable field, or with errors: no-store', async () => {
      expect((await get(t.url, { documentId: `sha256:${JWKS.hash}`, variables: { tenantId } }, bearer(token))).cache).toBe('max-age=300, private');
      expect((await post(t.url, { documentId: `sha256:${JWKS.hash}`, variables: { tenantId } })).cache).toBe('no-store');
      expect((await get(t.url, { documentId: `sha256:${ME.hash}` }, bearer(token))).cache).toBe('no-store');
      expect((await get(t.url, { query: `{ integrationJwks(tenantId: "${tenantId}") { keys { kid } } me { id } }` })).cache).toBe('no-store');
    });

    it('never runs a mutation over GET, even by id', async () => {
      const logout = manifestEntry('Logout');
      expect(await get(t.url, { documentId: `sha256:${logout.hash}` }, bearer(token))).toMatchObject({
        status: 405,
        body: { errors: [{ message: 'GET requests only support query operations, not mutation operations', extensions: { code: 'BAD_REQUEST' } }] },
      });
    });
  });
});
