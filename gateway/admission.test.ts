import { afterEach, describe, expect, it, vi } from 'vitest';
import { createExecutionAdmission, loopSaturation } from './admission.ts';

/** A task that runs until `finish` (or `fail`) is called, recording that it started. */
function controlled(log: string[], name: string) {
  let finish!: (value: string) => void;
  let fail!: (err: Error) => void;
  const done = new Promise<string>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return {
    task: () => {
      log.push(`start ${name}`);
      return done;
    },
    finish: () => finish(name),
    fail: (err: Error) => fail(err),
  };
}

/** Lets promise callbacks run (admission hands a task over through one). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('execution admission', () => {
  it('starts every execution at once while the loop is not saturated', async () => {
    const log: string[] = [];
    const gate = createExecutionAdmission({ limit: 1, saturated: () => false });
    const tasks = ['a', 'b', 'c'].map((n) => controlled(log, n));
    const results = tasks.map((t) => gate.run(t.task));
    await settle();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    expect(gate.running).toBe(3);
    for (const t of tasks) t.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(gate.running).toBe(0);
  });

  it('runs at most `limit` at once while saturated, the others in order of arrival as running ones finish', async () => {
    const log: string[] = [];
    const onQueued = vi.fn();
    const gate = createExecutionAdmission({ limit: 2, saturated: () => true, onQueued });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => controlled(log, n));
    const results = [a, b, c, d].map((t) => gate.run(t!.task));
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    expect(onQueued).toHaveBeenCalledTimes(2);
    expect([gate.running, gate.waiting]).toEqual([2, 2]);
    b!.finish();
    await settle();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    a!.finish();
    await settle();
    expect(log).toEqual(['start a', 'start b', 'start c', 'start d']);
    expect([gate.running, gate.waiting]).toEqual([2, 0]);
    c!.finish();
    d!.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect([gate.running, gate.waiting]).toEqual([0, 0]);
  });

  it('queues a newcomer behind those already waiting even when the loop has just become idle', async () => {
    const log: string[] = [];
    let saturated = true;
    const gate = createExecutionAdmission({ limit: 1, saturated: () => saturated });
    const [a, b, c] = ['a', 'b', 'c'].map((n) => controlled(log, n));
    void gate.run(a!.task);
    void gate.run(b!.task);
    saturated = false;
    void gate.run(c!.task);
    await settle();
    // b waited first, so it starts first; the idle loop then lets c start too.
    expect(log).toEqual(['start a', 'start b', 'start c']);
    for (const t of [a, b, c]) t!.finish();
  });

  it('a failed or throwing execution frees its place and gives its error to its caller only', async () => {
    const log: string[] = [];
    const gate = createExecutionAdmission({ limit: 1, saturated: () => true });
    const a = controlled(log, 'a');
    const b = controlled(log, 'b');
    const failing = gate.run(a.task);
    const throwing = gate.run(() => {
      throw new Error('thrown before a promise');
    });
    const next = gate.run(b.task);
    a.fail(new Error('subgraph down'));
    await expect(failing).rejects.toThrow('subgraph down');
    await expect(throwing).rejects.toThrow('thrown before a promise');
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    b.finish();
    expect(await next).toBe('b');
    expect([gate.running, gate.waiting]).toEqual([0, 0]);
  });

  it('starts waiting executions when the loop stops being saturated although none finished', async () => {
    vi.useFakeTimers();
    const log: string[] = [];
    let saturated = true;
    const gate = createExecutionAdmission({ limit: 1, saturated: () => saturated, recheckMs: 50 });
    const a = controlled(log, 'a');
    const b = controlled(log, 'b');
    void gate.run(a.task);
    void gate.run(b.task);
    await vi.advanceTimersByTimeAsync(200);
    expect(log).toEqual(['start a']);
    // a waits on something slow: the loop goes idle, and b starts at the next check.
    saturated = false;
    await vi.advanceTimersByTimeAsync(50);
    expect(log).toEqual(['start a', 'start b']);
    expect(vi.getTimerCount()).toBe(0);
    a.finish();
    b.finish();
  });

  it('keeps the order of thousands that pass one at a time while others always wait', async () => {
    const gate = createExecutionAdmission({ limit: 1, saturated: () => true });
    const order: number[] = [];
    const all = Array.from({ length: 5000 }, (_, i) =>
      gate.run(async () => {
        order.push(i);
        await Promise.resolve();
        return i;
      }),
    );
    expect(await Promise.all(all)).toEqual(order);
    expect(order).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect([gate.running, gate.waiting]).toEqual([0, 0]);
  });

  it('with limit 0 is no gate at all', async () => {
    const probe = vi.fn(() => true);
    const gate = createExecutionAdmission({ limit: 0, saturated: probe });
    const results = await Promise.all([1, 2, 3].map((n) => gate.run(async () => n)));
    expect(results).toEqual([1, 2, 3]);
    expect(probe).not.toHaveBeenCalled();
    expect(gate.running).toBe(0);
  });
});

describe('loopSaturation', () => {
  it('is saturated after a window the loop spent running code, and not after one it spent waiting', async () => {
    const probe = loopSaturation(0.9, 20);
    // A window spent in one synchronous stretch of work.
    const until = performance.now() + 40;
    while (performance.now() < until) {
      // busy
    }
    expect(probe()).toBe(true);
    // The answer holds until the next window ends.
    expect(probe()).toBe(true);
    // Windows spent waiting on a timer. On a loaded machine one such window can still read busy
    // (a collection, the test runner's own messages), so a few are allowed before it must clear.
    const answers: boolean[] = [];
    for (let window = 0; window < 10 && answers.at(-1) !== false; window += 1) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      answers.push(probe());
    }
    expect(answers.at(-1)).toBe(false);
  });
});
