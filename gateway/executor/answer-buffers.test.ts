import { describe, expect, it } from 'vitest';
import { AnswerBuffers } from './answer-buffers.ts';

describe('answer buffers', () => {
  it('never hands out a lent buffer again before it is given back, then reuses its memory', () => {
    const buffers = new AnswerBuffers(64, 1024);
    const first = buffers.get();
    first.write('first answer');
    const answer = buffers.lend(first, 12);
    const second = buffers.get();
    expect(second.buffer).not.toBe(first.buffer);
    second.write('second answer');
    expect(answer.toString()).toBe('first answer');
    buffers.giveBack(answer);
    expect(buffers.get().buffer).toBe(first.buffer);
  });

  it('takes an answer back once: given back twice, its memory still goes to one writer only', () => {
    const buffers = new AnswerBuffers(64, 1024);
    const answer = buffers.lend(buffers.get(), 10);
    buffers.giveBack(answer);
    buffers.giveBack(answer);
    const a = buffers.get();
    const b = buffers.get();
    expect(a.buffer).toBe(answer.buffer);
    expect(b.buffer).not.toBe(answer.buffer);
  });

  it('ignores buffers it did not lend, lets go of large ones, and keeps at most `spares`', () => {
    const buffers = new AnswerBuffers(64, 1024, 2);
    const foreign = Buffer.allocUnsafeSlow(64);
    buffers.giveBack(foreign);
    expect(buffers.get().buffer).not.toBe(foreign.buffer);

    const large = buffers.lend(Buffer.allocUnsafeSlow(2048), 10);
    buffers.giveBack(large);
    expect(buffers.get().buffer).not.toBe(large.buffer);

    const lent = [1, 2, 3].map(() => buffers.lend(buffers.get(), 8));
    for (const answer of lent) buffers.giveBack(answer);
    const reused = [buffers.get(), buffers.get(), buffers.get()].map((b) => b.buffer);
    expect(reused.filter((m) => lent.some((a) => a.buffer === m))).toHaveLength(2);
  });
});
