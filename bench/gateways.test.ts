/**
 * The gateway benchmark's correctness check, run once without timings: each gateway, in its own
 * process over the benchmark's subgraphs, answers the heavy query with exactly the bytes of a
 * direct execution; and the subgraphs refuse a request that lacks the client's credential, so a
 * gateway that merged or dropped it could not pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymousContext, CONTEXT_HEADER, signContext } from '../kernel/context.ts';
import { heavyQuery, isReference, startGateway, startSetup, type BenchSetup } from './gateways/processes.ts';
import { GATEWAYS } from './gateways/serve.ts';

let setup: BenchSetup;

beforeAll(async () => {
  setup = await startSetup(null);
});

afterAll(async () => {
  await setup?.close();
});

async function askAccounts(headers: Record<string, string>): Promise<unknown> {
  const res = await fetch(`${setup.subgraphUrls.accounts}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: '{ users { id } }' }),
  });
  expect(res.status).toBe(200);
  return res.json();
}

describe('gateway benchmark', () => {
  it('computes a reference answer of about 88 KB from the in-memory data', () => {
    expect(setup.reference.length).toBeGreaterThan(80_000);
    expect(setup.reference.length).toBeLessThan(96_000);
    const { data } = JSON.parse(setup.reference) as { data: { users: { id: string }[]; topProducts: { upc: string; shippingEstimate: number }[] } };
    expect(data.users.map((u) => u.id)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(data.topProducts.map((p) => p.upc)).toEqual(['1', '2', '3', '4', '5']);
    expect(data.topProducts[0]?.shippingEstimate).toBe(10);
  });

  it('subgraphs answer only requests carrying the client credential or a signed context with its request id', async () => {
    const refused = { errors: [{ message: "accounts: request without the client's credential" }] };
    const users = { data: { users: ['1', '2', '3', '4', '5', '6'].map((id) => ({ id })) } };
    expect(await askAccounts({})).toEqual(refused);
    expect(await askAccounts({ authorization: 'Bearer something-else' })).toEqual(refused);
    expect(await askAccounts({ authorization: 'bench-abc_1' })).toEqual(users);
    expect(await askAccounts({ [CONTEXT_HEADER]: await signContext(anonymousContext('bench-abc_2'), setup.secret) })).toEqual(users);
    expect(await askAccounts({ [CONTEXT_HEADER]: await signContext(anonymousContext('not-a-bench-request'), setup.secret) })).toEqual(refused);
    expect(await askAccounts({ [CONTEXT_HEADER]: await signContext(anonymousContext('bench-abc_3'), 'another-key-another-key-another-key') })).toEqual(refused);
  });

  // One gateway process at a time, closed before the next starts.
  it.each(GATEWAYS)('%s answers the heavy query with the bytes of direct execution', async (name) => {
    const { url, proc } = await startGateway(name, setup, null);
    try {
      const first = await heavyQuery(url);
      expect(first.status).toBe(200);
      expect(isReference(first.body, setup.reference), first.body.slice(0, 500)).toBe(true);
      // A second request, with another credential, answers the same.
      expect((await heavyQuery(url)).body).toBe(first.body);
    } finally {
      await proc.stop();
    }
    // A gateway may take long to start on a busy machine (its process waits up to 90 s for it).
  }, 120_000);

  it('this gateway with @apollo/gateway\'s executor (GATEWAY_EXECUTOR=apollo) answers the same bytes', async () => {
    const { url, proc } = await startGateway('xentree', setup, null, { GATEWAY_EXECUTOR: 'apollo' });
    try {
      const answer = await heavyQuery(url);
      expect(answer.status).toBe(200);
      expect(isReference(answer.body, setup.reference), answer.body.slice(0, 500)).toBe(true);
    } finally {
      await proc.stop();
    }
  }, 120_000);
});
