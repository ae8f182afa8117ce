/**
 * The subgraph boundary: identity accepts GraphQL only with a gateway-signed
 * `x-xentree-context` (federation's `_service` and `__typename` excepted), services apply their own
 * rules to whatever context arrives, and `/trpc` needs the service credential. Also key rotation:
 * identity's JWK Set grows, and the gateway follows it on an unknown `kid`.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import { anonymousContext, signContext, type AuthContext } from '../kernel/context.ts';
import { createInternalClient } from '../kernel/trpc.ts';
import type { IdentityRouter } from '../subgraphs/identity/router.ts';
import { bearer, registerAndLogin, useTestStack } from './harness.ts';

const t = useTestStack();

interface HttpResult {
  status: number;
  body: unknown;
}

async function subgraphGql(query: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  const res = await fetch(`${t.subgraphUrl('identity')}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: await res.json() };
}

const contextHeader = async (ctx: AuthContext, secret = t.config.internalServiceKey): Promise<Record<string, string>> => ({
  'x-xentree-context': await signContext(ctx, secret),
});

/** A tRPC client that goes over HTTP: `identity-remote` is not registered in-process. */
function identityClient(secret = t.config.internalServiceKey) {
  return createInternalClient<IdentityRouter>({
    target: 'identity-remote',
    baseUrl: t.subgraphUrl('identity'),
    caller: 'test',
    secret,
    timeoutMs: 5_000,
    maxBatch: 10,
  });
}

const MISSING_CONTEXT = { status: 401, body: { errors: [{ message: 'A valid internal context is required', extensions: { code: 'UNAUTHENTICATED', status: 401 } }] } };

describe('identity GraphQL without a gateway context', () => {
  it('rejects `{ me { id } }` with HTTP 401 UNAUTHENTICATED', async () => {
    expect(await subgraphGql('{ me { id } }')).toEqual(MISSING_CONTEXT);
  });

  it.each([
    ['a mutation', 'mutation { logout { message } }'],
    ['an alias that hides `me` behind `_service`', '{ _service: me { id } }'],
    ['a fragment spread', '{ ...F } fragment F on Query { me { id } }'],
    ['`__typename` next to another field', '{ __typename me { id } }'],
    ['introspection', '{ __schema { queryType { name } } }'],
    ['federation entities', '{ _entities(representations: [{ __typename: "User", id: "00000000-0000-4000-8000-000000000000" }]) { __typename } }'],
  ])('rejects %s', async (_label, query) => {
    expect(await subgraphGql(query)).toEqual(MISSING_CONTEXT);
  });

  it('allows federation’s `{ _service { sdl } }`', async () => {
    const res = await subgraphGql('{ _service { sdl } }');
    expect(res.status).toBe(200);
    const sdl = (res.body as { data: { _service: { sdl: string } } }).data._service.sdl;
    expect(sdl).toContain('type User');
    expect(sdl).toContain('@key(fields: "id")');
    expect(res.body).toEqual({ data: { _service: { sdl } } });
  });

  it('allows `{ __typename }`', async () => {
    expect(await subgraphGql('{ __typename }')).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
  });

  it('rejects a context signed with another secret', async () => {
    const u = await registerAndLogin(t, 'forged');
    const forged = await contextHeader({ ...anonymousContext('forged'), mode: 'bearer', userId: u.id }, randomBytes(32).toString('base64url'));
    expect(await subgraphGql('{ me { id } }', forged)).toEqual(MISSING_CONTEXT);
  });

  it('rejects a malformed context header', async () => {
    expect(await subgraphGql('{ me { id } }', { 'x-xentree-context': 'not.a.jwt' })).toEqual(MISSING_CONTEXT);
  });
});

describe('identity GraphQL with a valid context', () => {
  it('serves `me` for a bearer context', async () => {
    const u = await registerAndLogin(t, 'ctxme');
    const headers = await contextHeader({ ...anonymousContext('bearer-ctx'), mode: 'bearer', userId: u.id, role: 'user' });
    expect(await subgraphGql('{ me { id username email } }', headers)).toEqual({
      status: 200,
      body: { data: { me: { id: u.id, username: u.user.username, email: u.user.email } } },
    });
  });

  it('answers `me` for an api_key context with BEARER_REQUIRED (the service-level rule)', async () => {
    const u = await registerAndLogin(t, 'ctxkey');
    const headers = await contextHeader({ ...anonymousContext('api-key-ctx'), mode: 'api_key', userId: u.id, scopes: ['api:read'] });
    expect(await subgraphGql('{ me { id } }', headers)).toEqual({
      status: 200,
      body: {
        errors: [{ message: 'This endpoint requires a bearer token', locations: [{ line: 1, column: 3 }], path: ['me'], extensions: { code: 'BEARER_REQUIRED', status: 401 } }],
        data: { me: null },
      },
    });
  });

  it('answers `me` for an anonymous context with UNAUTHENTICATED', async () => {
    const headers = await contextHeader(anonymousContext('anon-ctx'));
    expect(await subgraphGql('{ me { id } }', headers)).toEqual({
      status: 200,
      body: {
        errors: [{ message: 'Not authenticated', locations: [{ line: 1, column: 3 }], path: ['me'], extensions: { code: 'UNAUTHENTICATED', status: 401 } }],
        data: { me: null },
      },
    });
  });
});

describe('identity tRPC', () => {
  it('rejects a call without the service credential with HTTP 401', async () => {
    const res = await fetch(`${t.subgraphUrl('identity')}/trpc/jwks`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: {
        message: 'Invalid internal service credentials',
        code: -32001,
        data: { code: 'UNAUTHORIZED', httpStatus: 401, path: 'jwks', appCode: null, extras: {}, fields: null },
      },
    });
  });

  it('rejects a credential signed with another secret', async () => {
    const err = await identityClient(randomBytes(32).toString('base64url')).jwks.query().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCClientError);
    expect((err as TRPCClientError<IdentityRouter>).data).toEqual({ code: 'UNAUTHORIZED', httpStatus: 401, path: 'jwks', appCode: null, extras: {}, fields: null });
  });

  it('serves the JWK Set (one ES256 public key) to a credentialed caller', async () => {
    await registerAndLogin(t, 'jwks');
    const jwks = await identityClient().jwks.query();
    expect(jwks).toEqual({
      keys: [{ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String), x: expect.any(String), y: expect.any(String) }],
    });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });
});

describe('signing-key rotation', () => {
  it('issues new tokens with the new kid, keeps old tokens valid and publishes both keys', async () => {
    const client = identityClient();
    const before = await registerAndLogin(t, 'prerot');
    const oldKid = kidOf(before.access);
    // The gateway verifies (and so has fetched the JWK Set) no later than this request.
    expect((await t.gql('{ me { id } }', {}, bearer(before.access))).body).toEqual({ data: { me: { id: before.id } } });

    const rotation = await client.rotateSigningKey.mutate();
    expect(rotation).toEqual({ kid: expect.any(String), retired: [oldKid] });
    expect(rotation.kid).not.toBe(oldKid);

    const after = await registerAndLogin(t, 'postrot');
    expect(kidOf(after.access)).toBe(rotation.kid);

    // No waiting: the gateway refetches the JWK Set when it meets an unknown kid.
    expect(await t.gql('{ me { id } }', {}, bearer(after.access))).toMatchObject({ status: 200, body: { data: { me: { id: after.id } } } });
    expect(await t.gql('{ me { id } }', {}, bearer(before.access))).toMatchObject({ status: 200, body: { data: { me: { id: before.id } } } });
    expect((await t.rest('GET', '/api/auth/me', { headers: bearer(after.access) })).status).toBe(200);

    const jwks = await client.jwks.query();
    expect(jwks.keys.map((k) => k.kid)).toEqual([rotation.kid, oldKid]);
    for (const key of jwks.keys) expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
  });
});

function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: string };
  return header.kid ?? '';
}
