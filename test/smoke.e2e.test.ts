import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAndLogin, startTestStack, bearer, type TestStack } from './harness.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.close();
});

describe('the stack', () => {
  it('answers GraphQL `me` for a logged-in user', async () => {
    const u = await registerAndLogin(t);
    const res = await t.gql('{ me { id username email } }', {}, bearer(u.access));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { me: { id: u.id, username: u.user.username, email: u.user.email } } });
  });
});
