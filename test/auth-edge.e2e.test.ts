/** Edge cases found in review: deleted users, gateway-owned paths and methods. */
import { describe, expect, it } from 'vitest';
import { bearer, registerAndLogin, useTestStack } from './harness.ts';

const t = useTestStack();

describe('edge cases', () => {
  it('rejects the token of a user who no longer exists with invalid_token (not token_revoked)', async () => {
    const u = await registerAndLogin(t, 'gone');
    // Deleted before the gateway ever saw the token, so its session status comes fresh from identity.
    const identity = t.stack.subgraphs.find((s) => s.name === 'identity');
    if (!identity) throw new Error('identity not running');
    await identity.orm.em.fork().getConnection().execute('delete from "identity"."users" where id = ?', [u.id]);
    const res = await t.rest('GET', '/api/auth/me', { headers: bearer(u.access) });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: { error: 'invalid_token', message: 'Could not validate credentials' } });
  });

  it('answers 405 with Allow for other methods on the health paths', async () => {
    const a = await t.rest('POST', '/api/health');
    expect(a.status).toBe(405);
    expect(a.headers.get('allow')).toBe('GET');
    expect(a.body).toEqual({ detail: 'Method Not Allowed' });
    const b = await t.rest('DELETE', '/api/health/detailed');
    expect(b.status).toBe(405);
    expect(b.headers.get('allow')).toBe('GET');
  });

  it('answers 405 for HEAD on REST routes, as FastAPI does', async () => {
    const res = await t.rest('HEAD', '/api/auth/me');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, PATCH');
  });
});
