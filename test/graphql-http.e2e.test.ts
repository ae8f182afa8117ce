/**
 * GraphQL over HTTP conformance of the gateway (graphql-http's server audits), the IDE on GET
 * /graphql for browsers, and Apollo's CSRF prevention.
 */
import { describe, expect, it } from 'vitest';
import { serverAudits } from 'graphql-http';
import { useTestStack } from './harness.ts';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const CSRF_BODY = {
  errors: [
    {
      message:
        "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a 'content-type' header (with a type that is not one of application/x-www-form-urlencoded, multipart/form-data, text/plain) or provide a non-empty value for one of the following headers: x-apollo-operation-name, apollo-require-preflight\n",
      extensions: { code: 'BAD_REQUEST' },
    },
  ],
};
const TYPENAME_QUERY = `?query=${encodeURIComponent('{ __typename }')}`;

async function get(url: string, headers: Record<string, string>): Promise<{ status: number; type: string | null; text: string; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text(), headers: res.headers };
}

describe('the default (test/development) configuration', () => {
  const t = useTestStack();

  describe('graphql-http server audits: every one ok, no warnings', () => {
    // The URL is a function: the audits are listed before the stack has started.
    const audits = serverAudits({ url: () => `${t.url}/graphql`, fetchFn: fetch });

    it('has audits to run', () => {
      expect(audits.length).toBeGreaterThan(30);
    });

    it.each(audits.map((a) => [a.name, a] as const))('%s', async (_name, audit) => {
      const result = await audit.fn();
      // 'notice' marks optional (MAY) features left out; errors and warnings are what the spec requires.
      expect(result.status === 'error' || result.status === 'warn' ? `${result.status}: ${result.reason}` : null).toBeNull();
    });
  });

  describe('status codes of requests refused before execution', () => {
    const cases = [
      ['a parse failure', { query: '{' }, 'GRAPHQL_PARSE_FAILED'],
      ['a validation failure', { query: '{ nope }' }, 'GRAPHQL_VALIDATION_FAILED'],
      ['a variable coercion failure', { query: 'query ($s: String!) { __type(name: $s) { name } }', variables: { s: { not: 'a string' } } }, 'BAD_USER_INPUT'],
      ['an operation limit', { query: `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: __typename`).join(' ')} }` }, 'TOO_MANY_ALIASES'],
    ] as const;
    const post = async (body: unknown, accept?: string) => {
      const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) }, body: JSON.stringify(body) });
      const json = (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
      return { status: res.status, type: res.headers.get('content-type'), data: json.data, code: json.errors?.[0]?.extensions?.code };
    };
    it.each(cases)('%s: 200 with errors for Accept: application/json (the legacy rule)', async (_name, body, code) => {
      expect(await post(body, 'application/json')).toEqual({ status: 200, type: 'application/json; charset=utf-8', data: undefined, code });
    });
    it.each(cases)('%s: 400 for Accept: application/graphql-response+json', async (_name, body, code) => {
      expect(await post(body, 'application/graphql-response+json, application/json;q=0.9')).toEqual({ status: 400, type: 'application/graphql-response+json; charset=utf-8', data: undefined, code });
    });
    it.each(cases)('%s: 400 without an Accept header', async (_name, body, code) => {
      expect(await post(body)).toEqual({ status: 400, type: 'application/json; charset=utf-8', data: undefined, code });
    });
  });

  describe('GET /graphql', () => {
    it('serves the GraphiQL page to `Accept: text/html`', async () => {
      const res = await get(`${t.url}/graphql`, { accept: 'text/html' });
      expect(res.status).toBe(200);
      expect(res.type).toBe('text/html; charset=utf-8');
      expect(res.headers.get('vary')).toBe('Accept');
      expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'self'; script-src 'self' 'sha256-[A-Za-z0-9+/=]+';/);
      expect(res.text).toMatch(/^<!doctype html>/);
      expect(res.text).toContain('<title>Xentree Graph</title>');
      expect(res.text).toContain('<div id="graphiql">Loading…</div>');
      expect(res.text).toContain('<script src="./graphql/_ide/graphiql.min.js"></script>');
      expect(res.text).not.toContain('cdn.');
    });

    it('serves the same page to a browser navigation', async () => {
      const res = await get(`${t.url}/graphql`, { accept: BROWSER_ACCEPT });
      expect(res.status).toBe(200);
      expect(res.type).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('<div id="graphiql">');
    });

    it('serves the IDE bundle from node_modules', async () => {
      const res = await fetch(`${t.url}/graphql/_ide/graphiql.min.js`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect((await res.text()).length).toBeGreaterThan(100_000);
    });

    it('executes `?query=` with `Accept: application/json` (and a CSRF preflight header)', async () => {
      const res = await get(`${t.url}/graphql${TYPENAME_QUERY}`, { accept: 'application/json', 'apollo-require-preflight': 'true' });
      expect({ status: res.status, type: res.type, body: JSON.parse(res.text) }).toEqual({
        status: 200,
        type: 'application/json; charset=utf-8',
        body: { data: { __typename: 'Query' } },
      });
    });

    it('executes `?query=` from a browser too, instead of a CDN-hosted landing page', async () => {
      const res = await get(`${t.url}/graphql${TYPENAME_QUERY}`, { accept: BROWSER_ACCEPT, 'apollo-require-preflight': 'true' });
      expect({ status: res.status, type: res.type, body: JSON.parse(res.text) }).toEqual({
        status: 200,
        type: 'application/json; charset=utf-8',
        body: { data: { __typename: 'Query' } },
      });
    });

    it('blocks a GET without a preflight header (CSRF prevention) with 400', async () => {
      const res = await get(`${t.url}/graphql${TYPENAME_QUERY}`, { accept: 'application/json' });
      expect({ status: res.status, body: JSON.parse(res.text) }).toEqual({ status: 400, body: CSRF_BODY });
    });

    it('refuses a mutation over GET', async () => {
      const res = await get(`${t.url}/graphql?query=${encodeURIComponent('mutation { logout { message } }')}`, { accept: 'application/json', 'apollo-require-preflight': 'true' });
      expect(res.status).toBe(405);
      expect(JSON.parse(res.text)).toEqual({ errors: [{ message: 'GET requests only support query operations, not mutation operations', extensions: { code: 'BAD_REQUEST' } }] });
    });
  });

  describe('POST /graphql', () => {
    it('rejects `content-type: text/plain` (CSRF prevention) with 400', async () => {
      const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: CSRF_BODY });
    });

    it('refuses a multipart request without a preflight header (CSRF prevention) with 400', async () => {
      // multipart/form-data is parsed for GraphQL uploads only when the client proves it is not a
      // simple cross-site form post (gateway/multipart.ts).
      const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: 'query=%7B__typename%7D' });
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: CSRF_BODY });
    });

    it.each(['application/x-www-form-urlencoded'])('refuses `content-type: %s` before it reaches GraphQL (415)', async (type) => {
      // fastify has no parser for this on /graphql, so the CSRF rule is never even needed.
      const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': type }, body: 'query=%7B__typename%7D' });
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 415,
        body: { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', error: 'Unsupported Media Type', message: 'Unsupported Media Type' },
      });
    });

    it('answers `application/json`', async () => {
      const res = await t.gql('{ __typename }');
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
    });
  });
});

describe('with the IDE turned off (as in production)', () => {
  const t = useTestStack({ env: { XENTREE_IDE: 'false', XENTREE_INTROSPECTION: 'false' } });

  it('serves no HTML on GET /graphql, not even Apollo’s landing page', async () => {
    const res = await get(`${t.url}/graphql`, { accept: BROWSER_ACCEPT });
    expect({ status: res.status, type: res.type, body: JSON.parse(res.text) }).toEqual({ status: 400, type: 'application/json; charset=utf-8', body: CSRF_BODY });
  });

  it('does not serve the IDE assets', async () => {
    const res = await fetch(`${t.url}/graphql/_ide/graphiql.min.js`);
    expect(res.status).toBe(404);
  });

  it('refuses introspection', async () => {
    const res = await t.gql('{ __schema { queryType { name } } }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
