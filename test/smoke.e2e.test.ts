import { describe, expect, it } from 'vitest';
import { registerAndLogin, bearer, useTestStack } from './harness.ts';

const t = useTestStack();

describe('the stack', () => {
  it('answers GraphQL `me` for a logged-in user', async () => {
    const u = await registerAndLogin(t);
    const res = await t.gql('{ me { id username email } }', {}, bearer(u.access));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { me: { id: u.id, username: u.user.username, email: u.user.email } } });
  });
});
