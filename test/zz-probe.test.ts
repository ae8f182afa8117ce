import { afterAll, beforeAll, it } from 'vitest';
import { startTestStack, registerAndLogin, type TestStack } from './harness.ts';
import { anonymousContext, signContext } from '../kernel/context.ts';
import { createInternalClient } from '../kernel/trpc.ts';
import type { IdentityRouter } from '../subgraphs/identity/router.ts';
import { claimsOf } from './token-forge.ts';

let t: TestStack;
beforeAll(async () => { t = await startTestStack(); });
afterAll(async () => { await t?.close(); });
async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: r.status, ct: r.headers.get('content-type'), text: await r.text() };
}
it('probe', async () => {
  const sg = t.subgraphUrl('identity') + '/graphql';
  console.log('me noctx', await post(sg, { query: '{ me { id } }' }));
  console.log('sdl', (await post(sg, { query: '{ _service { sdl } }' })).text.slice(0, 200));
  console.log('typename', await post(sg, { query: '{ __typename }' }));
  console.log('forged', await post(sg, { query: '{ me { id } }' }, { 'x-xentree-context': await signContext(anonymousContext('r1'), 'x'.repeat(40)) }));
  const u = await registerAndLogin(t);
  const ctx = await signContext({ ...anonymousContext('r2'), mode: 'api_key', userId: u.id }, t.config.internalServiceKey);
  console.log('apikey', await post(sg, { query: '{ me { id } }' }, { 'x-xentree-context': ctx }));
  const ctxb = await signContext({ ...anonymousContext('r2'), mode: 'bearer', userId: u.id, sessionId: String(claimsOf(u.access).sid) }, t.config.internalServiceKey);
  console.log('bearer', await post(sg, { query: '{ me { id email } }' }, { 'x-xentree-context': ctxb }));
  console.log('entities', await post(sg, { query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } } }', variables: { r: [{ __typename: 'User', id: u.id }] } }, { 'x-xentree-context': ctx }));
  console.log('mutation noctx', await post(sg, { query: 'mutation { logout { message } }' }));
  const tr = await fetch(t.subgraphUrl('identity') + '/trpc/jwks');
  console.log('trpc', tr.status, await tr.text());
  const client = createInternalClient<IdentityRouter>({ target: 'identity-remote', baseUrl: t.subgraphUrl('identity'), caller: 'test', secret: t.config.internalServiceKey, timeoutMs: 5000, maxBatch: 10 });
  console.log('jwks', JSON.stringify(await client.jwks.query()));
  const bad = createInternalClient<IdentityRouter>({ target: 'identity-remote', baseUrl: t.subgraphUrl('identity'), caller: 'test', secret: 'y'.repeat(40), timeoutMs: 5000, maxBatch: 10 });
  try { await bad.jwks.query(); } catch (e) { console.log('bad', e instanceof Error ? e.message : e, JSON.stringify((e as {data?: unknown}).data)); }
  console.log('rot', JSON.stringify(await client.rotateSigningKey.mutate()));
  console.log('jwks2', JSON.stringify(await client.jwks.query()));
});
