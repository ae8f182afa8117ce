/**
 * Execution admission (GATEWAY_BUSY_EXECUTIONS, gateway/admission.ts) through the gateway's own
 * surface: with room for one execution on a saturated event loop, a query that arrives while a slow
 * chat runs and the loop is busy waits (and is counted), then starts as soon as the loop is idle
 * again, long before the chat ends. The gateway shares this test's process, so blocking the test's
 * thread is what saturates the gateway's loop.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { person, type Person } from './org-fixtures.ts';
import { useFakeAi } from './fake-ai.ts';

const fake = useFakeAi();
const t = useTestStack(() => ({
  env: {
    GATEWAY_BUSY_EXECUTIONS: '1',
    AI_TIMEOUT_MS: '10000',
    OPENAI_BASE_URL: `${fake.url}/v1`,
    OPENAI_API_KEY: 'sk-slow',
    OPENAI_MODELS: 'gpt-slow',
    DEFAULT_AI_PROVIDER: 'local',
  },
}));
let alice: Person;

beforeAll(async () => {
  alice = await person(t, 'adm_alice');
});

// 40 words 150 ms apart: the chat runs about 6 s once the model is called.
const WORDS = Array.from({ length: 40 }, (_, i) => ` w${i}`);

async function metric(name: string): Promise<number> {
  const text = (await t.rest('GET', '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

const me = () => t.gql('{ me { id } }', {}, bearer(alice.access));

/** Keeps this thread (and so the gateway's event loop) busy for `ms`. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean): Promise<void> {
  while (!check()) await sleep(10);
}

describe('execution admission', () => {
  it('holds a query back while the loop is saturated and one execution runs, and starts it once the loop is idle', async () => {
    fake.mode = { kind: 'stream', words: WORDS, delayMs: 150 };
    const calls = fake.requests.length;
    let chatDone = false;
    const chat = t.rest('POST', '/api/core/chat', { json: { provider: 'openai', message: 'Count slowly' }, headers: bearer(alice.access) }).finally(() => {
      chatDone = true;
    });
    await until(() => fake.requests.length > calls);
    // The gate judges the loop over the time since it last looked (at least 50 ms): a first query
    // has it look now, whatever the stack's start-up before did to the loop.
    expect((await me()).status).toBe(200);
    await sleep(300);

    // The loop is idle (the chat waits on the model): a query starts at once, beside the chat. On
    // a loaded machine one window can still look saturated (a full collection of this process's
    // heap, other processes on the CPUs), so the idle query gets a few windows to show it starts.
    let queuedBefore = await metric('xentree_gateway_executions_queued_total');
    for (let attempt = 1; ; attempt += 1) {
      const idle = await me();
      expect(idle.body).toEqual({ data: { me: { id: alice.id } } });
      const queued = await metric('xentree_gateway_executions_queued_total');
      if (queued === queuedBefore) break;
      expect(attempt, 'an idle loop held every query back').toBeLessThan(8);
      queuedBefore = queued;
      await sleep(100);
    }
    expect(await metric('xentree_gateway_executions{state="running"}')).toBe(1);

    // Now a second of nothing but work: the query sent meanwhile finds the loop saturated.
    const busy = me();
    block(1_000);
    const answer = await busy;
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { me: { id: alice.id } } });
    // It waited, and it started as soon as the loop was idle, not when the chat ended.
    expect(await metric('xentree_gateway_executions_queued_total')).toBe(queuedBefore + 1);
    expect(chatDone).toBe(false);

    const done = await chat;
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ content: WORDS.join(''), model: 'gpt-slow' });
    expect(await metric('xentree_gateway_executions{state="running"}')).toBe(0);
    expect(await metric('xentree_gateway_executions{state="waiting"}')).toBe(0);
  });
});
