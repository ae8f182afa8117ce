/**
 * The buffers answers of GraphQL over HTTP are written into (shape-write.ts), used again once an
 * answer has been sent. Writing an answer into a buffer and then copying it out to send cost a
 * fresh allocation and a copy of about 90 KB per request under the heavy benchmark query; now the
 * buffer written into is the one sent, and the caller gives it back when the socket has taken all
 * of it (the response's `finish`). An answer never given back (its client went away) is simply
 * collected.
 */
export class AnswerBuffers {
  readonly #spare: Buffer[] = [];
  /** Buffers lent out as answers and not given back yet, by their memory. */
  readonly #lent = new WeakSet<ArrayBufferLike>();

  /**
   * @param initial the size of a new buffer
   * @param kept the largest buffer taken back (a larger one is left to the collector)
   * @param spares how many given-back buffers wait for reuse at most
   */
  constructor(
    private readonly initial: number,
    private readonly kept: number,
    private readonly spares = 16,
  ) {}

  /** A buffer to write into: one given back, or a new one. */
  get(): Buffer {
    return this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.initial);
  }

  /** The first `length` bytes of `buf` as an answer; `buf` is not written into again until given back. */
  lend(buf: Buffer, length: number): Buffer {
    this.#lent.add(buf.buffer);
    return buf.subarray(0, length);
  }

  /** Takes an answer's buffer back once it has been sent. Anything not lent, or given back before, is ignored. */
  giveBack(answer: Buffer): void {
    const memory = answer.buffer;
    if (!this.#lent.delete(memory)) return;
    if (memory.byteLength > this.kept || this.#spare.length >= this.spares) return;
    this.#spare.push(Buffer.from(memory, 0, memory.byteLength));
  }
}
