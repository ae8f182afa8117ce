/**
 * The edge of GraphQL over HTTP: graphql-cop's probes are refused with a 4xx and a
 * clear code and never executed, the body limit, CORS, security headers, and production's
 * introspection and suggestion rules.
 *
 * "Never executed" is shown with a `register` mutation inside the refused request: registering
 * the same user afterwards still succeeds (201, not 409 `email_taken`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUser, startTestStack, type TestStack, useTestStack } from './harness.ts';

type User = ReturnType<typeof newUser>;
const registerField = (u: User): string => `register(input: {email: "${u.email}", username: "${u.username}", password: "${u.password}"}) { user { id } }`;

async function post(t: TestStack, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as unknown };
}

const query = (t: TestStack, q: string) => post(t, JSON.stringify({ query: q }));

/** The register mutation did not run: the same user can still register (through GraphQL here,
 * since the production stack below caps cost below what REST's Register operation needs). */
async function expectNotRegistered(t: TestStack, u: User): Promise<void> {
  const res = await t.gql(`mutation { ${registerField(u)} }`);
  expect({ status: res.status, errors: res.body.errors }).toEqual({ status: 200, errors: undefined });
}

const CSRF_MESSAGE =
  "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a 'content-type' header (with a type that is not one of application/x-www-form-urlencoded, multipart/form-data, text/plain) or provide a non-empty value for one of the following headers: x-apollo-operation-name, apollo-require-preflight\n";

const API_CSP = "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'";

describe('development configuration with CORS_ORIGINS=https://app.example', () => {
  const t = useTestStack({ env: { CORS_ORIGINS: 'https://app.example' } });

  describe('graphql-cop probes', () => {
    it('alias overloading (101 aliases): 400 TOO_MANY_ALIASES, not executed', async () => {
      const u = newUser('alias');
      const aliases = Array.from({ length: 101 }, (_, i) => `alias${i}: __typename`).join(' ');
      const res = await query(t, `mutation { ${registerField(u)} ${aliases} }`);
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: {
          errors: [
            { message: 'The operation uses 101 aliases; at most 30 are allowed.', locations: [{ line: 1, column: 1 }], extensions: { code: 'TOO_MANY_ALIASES', status: 400 } },
            { message: 'The operation selects 102 root fields; at most 20 are allowed.', locations: [{ line: 1, column: 1 }], extensions: { code: 'TOO_MANY_ROOT_FIELDS', status: 400 } },
          ],
        },
      });
      await expectNotRegistered(t, u);
    });

    it('array batching (10 operations): 400, batching is off', async () => {
      const u = newUser('batch');
      const batch = [{ query: `mutation { ${registerField(u)} }` }, ...Array.from({ length: 9 }, () => ({ query: '{ __typename }' }))];
      const res = await post(t, JSON.stringify(batch));
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: { errors: [{ message: 'Operation batching disabled.', extensions: { code: 'BAD_REQUEST' } }] } });
      await expectNotRegistered(t, u);
    });

    it('field duplication (500 × __typename at the root): 400 TOO_MANY_ROOT_FIELDS and TOO_MANY_DUPLICATE_FIELDS', async () => {
      const res = await query(t, `query cop { ${'__typename\n'.repeat(500)} }`);
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: {
          errors: [
            { message: 'Operation "cop" selects 500 root fields; at most 20 are allowed.', locations: [{ line: 1, column: 1 }], extensions: { code: 'TOO_MANY_ROOT_FIELDS', status: 400 } },
            {
              message: 'Field "__typename" is selected 500 times in one selection set; at most 10 are allowed.',
              locations: [{ line: 11, column: 1 }],
              extensions: { code: 'TOO_MANY_DUPLICATE_FIELDS', status: 400 },
            },
          ],
        },
      });
    });

    it('field duplication below the root (500 × id): 400 TOO_MANY_DUPLICATE_FIELDS, not executed', async () => {
      const u = newUser('dup');
      const res = await query(t, `mutation { register(input: {email: "${u.email}", username: "${u.username}", password: "${u.password}"}) { user { ${'id '.repeat(500)} } } }`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        errors: [
          {
            message: 'Field "id" is selected 500 times in one selection set; at most 10 are allowed.',
            locations: [{ line: 1, column: expect.any(Number) }],
            extensions: { code: 'TOO_MANY_DUPLICATE_FIELDS', status: 400 },
          },
        ],
      });
      await expectNotRegistered(t, u);
    });

    it('directive overloading (10 × @include on one field): 400 TOO_MANY_DIRECTIVES first, not executed', async () => {
      const u = newUser('dir');
      const res = await query(t, `mutation { register(input: {email: "${u.email}", username: "${u.username}", password: "${u.password}"}) ${'@include(if: true) '.repeat(10)}{ user { id } } }`);
      expect(res.status).toBe(400);
      const errors = (res.body as { errors: { message: string; extensions: { code: string } }[] }).errors;
      expect(errors[0]).toEqual({ message: 'The field "register" has 10 directives; at most 5 are allowed.', locations: [{ line: 1, column: 12 }], extensions: { code: 'TOO_MANY_DIRECTIVES', status: 400 } });
      // graphql-js adds its own "can only be used once" errors after ours.
      expect(errors.slice(1).map((e) => [e.extensions.code, e.message])).toEqual(
        Array.from({ length: 9 }, () => ['GRAPHQL_VALIDATION_FAILED', 'The directive "@include" can only be used once at this location.']),
      );
      await expectNotRegistered(t, u);
    });

    it('directive overloading with an unknown directive (graphql-cop’s @aa × 10): TOO_MANY_DIRECTIVES first', async () => {
      const res = await query(t, `query cop { __typename ${'@aa'.repeat(10)} }`);
      expect(res.status).toBe(400);
      const errors = (res.body as { errors: { message: string; extensions: { code: string } }[] }).errors;
      expect(errors[0]).toEqual({ message: 'The field "__typename" has 10 directives; at most 5 are allowed.', locations: [{ line: 1, column: 13 }], extensions: { code: 'TOO_MANY_DIRECTIVES', status: 400 } });
      expect(new Set(errors.slice(1).map((e) => e.message))).toEqual(new Set(['Unknown directive "@aa".']));
    });

    it('deep nesting (19 levels through introspection types): 400 QUERY_TOO_DEEP', async () => {
      const ofType = (n: number): string => (n === 0 ? 'name' : `ofType { ${ofType(n - 1)} }`);
      const res = await query(t, `{ __schema { types { fields { type { ${ofType(14)} } } } } }`);
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: { errors: [{ message: 'The operation is nested 19 levels deep; at most 15 are allowed.', locations: [{ line: 1, column: 1 }], extensions: { code: 'QUERY_TOO_DEEP', status: 400 } }] },
      });
    });

    it('the full introspection query GraphiQL sends (depth 15) is still accepted', async () => {
      const { getIntrospectionQuery } = await import('graphql');
      const res = await query(t, getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }));
      expect(res.status).toBe(200);
      expect((res.body as { data: { __schema: { queryType: { name: string } } } }).data.__schema.queryType).toEqual({ name: 'Query', kind: 'OBJECT' });
    });

    it('more than 15 000 tokens: 400 TOO_MANY_TOKENS, not executed', async () => {
      const u = newUser('tokens');
      const res = await query(t, `mutation { ${registerField(u)} ${'__typename '.repeat(15_000)} }`);
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: { errors: [{ message: 'The document has more than 15000 tokens.', extensions: { code: 'TOO_MANY_TOKENS', status: 400 } }] } });
      await expectNotRegistered(t, u);
    });

    it('a mutation over GET: 405, not executed', async () => {
      const u = newUser('getmut');
      const res = await fetch(`${t.url}/graphql?query=${encodeURIComponent(`mutation { ${registerField(u)} }`)}`, { headers: { accept: 'application/json', 'apollo-require-preflight': 'true' } });
      expect({ status: res.status, allow: res.headers.get('allow'), body: await res.json() }).toEqual({
        status: 405,
        allow: 'POST',
        body: { errors: [{ message: 'GET requests only support query operations, not mutation operations', extensions: { code: 'BAD_REQUEST' } }] },
      });
      await expectNotRegistered(t, u);
    });

    it('a `text/plain` POST (CSRF): 400, not executed', async () => {
      const u = newUser('csrf');
      const res = await post(t, JSON.stringify({ query: `mutation { ${registerField(u)} }` }), { 'content-type': 'text/plain' });
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: { errors: [{ message: CSRF_MESSAGE, extensions: { code: 'BAD_REQUEST' } }] } });
      await expectNotRegistered(t, u);
    });

    it('a urlencoded POST (CSRF): 415 before GraphQL, not executed', async () => {
      // No body parser for forms on /graphql, so fastify refuses it before Apollo's CSRF rule runs.
      const u = newUser('form');
      const res = await post(t, new URLSearchParams({ query: `mutation { ${registerField(u)} }` }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
      expect({ status: res.status, body: res.body }).toEqual({
        status: 415,
        body: { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', error: 'Unsupported Media Type', message: 'Unsupported Media Type' },
      });
      await expectNotRegistered(t, u);
    });
  });

  describe('body limit', () => {
    it('a 3 MB body: 413 with a GraphQL error body, not executed', async () => {
      const u = newUser('big');
      const res = await post(t, JSON.stringify({ query: `mutation { ${registerField(u)} }`, variables: { padding: 'x'.repeat(3 * 1024 * 1024) } }));
      expect({ status: res.status, type: res.headers.get('content-type'), body: res.body }).toEqual({
        status: 413,
        type: 'application/json; charset=utf-8',
        body: { errors: [{ message: 'Request body is larger than 2097152 bytes.', extensions: { code: 'REQUEST_TOO_LARGE', status: 413 } }] },
      });
      await expectNotRegistered(t, u);
    });

    it('a body just under the limit is read and answered normally', async () => {
      const res = await post(t, JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(2 * 1024 * 1024 - 100) } }));
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
    });
  });

  describe('suggestions outside production', () => {
    it('keeps "Did you mean …?" for developers', async () => {
      const res = await query(t, '{ mee { id } }');
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: { errors: [{ message: 'Cannot query field "mee" on type "Query". Did you mean "me"?', locations: [{ line: 1, column: 3 }], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] },
      });
    });
  });

  describe('CORS', () => {
    const preflight = (origin: string, path = '/graphql') =>
      fetch(`${t.url}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });

    it('allows a preflight from a configured origin', async () => {
      for (const path of ['/graphql', '/api/auth/login']) {
        const res = await preflight('https://app.example', path);
        expect(res.status).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
        expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, PUT, PATCH, DELETE');
        expect(res.headers.get('access-control-allow-headers')).toBe('content-type,authorization');
        expect(res.headers.get('access-control-max-age')).toBe('600');
        expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      }
    });

    it('gives any other origin no Access-Control-Allow-Origin', async () => {
      const res = await preflight('https://evil.example');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const simple = await fetch(`${t.url}/api/health`, { headers: { origin: 'https://evil.example' } });
      expect(simple.status).toBe(200);
      expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('lets the configured origin read the response and its rate-limit headers', async () => {
      const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { origin: 'https://app.example', 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(res.headers.get('access-control-expose-headers')).toBe(
        'x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, ratelimit-policy, ratelimit, retry-after, www-authenticate',
      );
    });
  });

  describe('security headers', () => {
    it('are on /api/health', async () => {
      const res = await fetch(`${t.url}/api/health`);
      expect(res.status).toBe(200);
      expect({
        csp: res.headers.get('content-security-policy'),
        nosniff: res.headers.get('x-content-type-options'),
        frame: res.headers.get('x-frame-options'),
        referrer: res.headers.get('referrer-policy'),
        coop: res.headers.get('cross-origin-opener-policy'),
        corp: res.headers.get('cross-origin-resource-policy'),
        hsts: res.headers.get('strict-transport-security'),
      }).toEqual({ csp: API_CSP, nosniff: 'nosniff', frame: 'SAMEORIGIN', referrer: 'no-referrer', coop: 'same-origin', corp: 'same-origin', hsts: null });
    });

    it('are on errors too, and GraphiQL keeps its own Content-Security-Policy', async () => {
      const missing = await fetch(`${t.url}/api/nowhere`);
      expect([missing.status, missing.headers.get('x-content-type-options'), missing.headers.get('content-security-policy')]).toEqual([404, 'nosniff', API_CSP]);
      const ide = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(ide.status).toBe(200);
      expect(ide.headers.get('x-content-type-options')).toBe('nosniff');
      expect(ide.headers.get('content-security-policy')).toMatch(/^default-src 'self'; script-src 'self' 'sha256-[A-Za-z0-9+/=]+';/);
    });
  });
});

describe('production configuration (embedded database and generated secrets allowed, GRAPHQL_MAX_COST=5)', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({
      env: { NODE_ENV: 'production', HOST: '127.0.0.1', XENTREE_ALLOW_EMBEDDED_DB: 'true', XENTREE_ALLOW_GENERATED_SECRETS: 'true', GRAPHQL_MAX_COST: '5' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses introspection', async () => {
    const res = await query(t, '{ __schema { queryType { name } } }');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: {
        errors: [
          {
            message:
              'GraphQL introspection is not allowed by Apollo Server, but the query contained __schema or __type. To enable introspection, pass introspection: true to ApolloServer in production',
            locations: [{ line: 1, column: 3 }],
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED', validationErrorCode: 'INTROSPECTION_DISABLED' },
          },
        ],
      },
    });
  });

  it('gives no "Did you mean …?" suggestions', async () => {
    const res = await query(t, '{ mee { id } }');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: { errors: [{ message: 'Cannot query field "mee" on type "Query".', locations: [{ line: 1, column: 3 }], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] },
    });
  });

  it('refuses an operation over the cost cap (QUERY_TOO_COMPLEX), not executed', async () => {
    const u = newUser('cost');
    // register 1 + user 1 + 5 fields = 7 > 5
    const res = await query(t, `mutation Costly { register(input: {email: "${u.email}", username: "${u.username}", password: "${u.password}"}) { user { id email username timezone plan } } }`);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: { errors: [{ message: 'Operation "Costly" has an estimated cost of 7; at most 5 is allowed.', locations: [{ line: 1, column: 1 }], extensions: { code: 'QUERY_TOO_COMPLEX', status: 400 } }] },
    });
    await expectNotRegistered(t, u);
  });

  it('sends HSTS and no CORS headers when CORS_ORIGINS is empty', async () => {
    const res = await fetch(`${t.url}/api/health`, { headers: { origin: 'https://app.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-expose-headers')).toBeNull();
    const pre = await fetch(`${t.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });
});
