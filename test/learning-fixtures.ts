/** Learning test helpers: a learner with a time zone, awards through learning's internal tRPC router, the test clock. */
import { createInternalClient } from '../kernel/trpc.ts';
import type { LearningRouter, AwardRequest } from '../subgraphs/learning/index.ts';
import { learningClock } from '../subgraphs/learning/clock.ts';
import { bearer, newUser, type TestStack } from './harness.ts';

export { learningClock };

export interface Learner {
  id: string;
  username: string;
  access: string;
  headers: Record<string, string>;
}

/** Registers a user in `timezone` (default UTC) and logs in. */
export async function learner(t: TestStack, timezone = 'UTC', extra: Record<string, unknown> = {}): Promise<Learner> {
  const u = newUser('learn');
  const reg = await t.rest('POST', '/api/auth/register', { json: { ...u, timezone, ...extra } });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.text}`);
  const login = await t.rest('POST', '/api/auth/login', { form: { username: u.username, password: u.password } });
  const access = (login.body as { access_token: string }).access_token;
  return { id: (reg.body as { id: string }).id, username: u.username, access, headers: bearer(access) };
}

/** Records an award as a producing subgraph would (learning's `award` procedure). */
export async function award(t: TestStack, input: AwardRequest) {
  const client = createInternalClient<LearningRouter>({
    target: 'learning',
    baseUrl: t.subgraphUrl('learning'),
    caller: 'test',
    secret: t.config.internalServiceKey,
    timeoutMs: 10_000,
    maxBatch: 10,
  });
  return client.award.mutate(input);
}

/** Sets the learning clock to an ISO instant (real time runs on from there). */
export function at(iso: string): void {
  learningClock.set(new Date(iso));
}
