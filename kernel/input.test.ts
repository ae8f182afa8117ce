import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from './errors.ts';
import { parseInput } from './input.ts';

function fieldsOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError && e.code === 'BAD_USER_INPUT') return e.fields;
    throw e;
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('parseInput', () => {
  const schema = z.object({ title: z.string().min(1), tags: z.array(z.string()).default([]) });

  it('refuses NUL in any string of the input, at its path, next to the schema issues', () => {
    // graphql-js builds input objects without a prototype.
    const input = Object.assign(Object.create(null) as Record<string, unknown>, { title: 'a\u0000b', tags: ['ok', '\u0000'] });
    expect(fieldsOf(() => parseInput(schema, input))).toEqual([
      { type: 'value_error', loc: ['input', 'title'], msg: 'String should not contain NUL characters', input: 'a\u0000b' },
      { type: 'value_error', loc: ['input', 'tags', 1], msg: 'String should not contain NUL characters', input: '\u0000' },
    ]);
    expect(fieldsOf(() => parseInput(schema, { title: '', tags: ['\u0000'] }, null))).toEqual([
      expect.objectContaining({ type: 'string_too_short', loc: ['title'] }),
      { type: 'value_error', loc: ['tags', 0], msg: 'String should not contain NUL characters', input: '\u0000' },
    ]);
  });

  it('reports a field once when the schema already refused it', () => {
    expect(fieldsOf(() => parseInput(z.object({ n: z.number() }), { n: '\u0000' }))).toEqual([expect.objectContaining({ loc: ['input', 'n'], msg: expect.not.stringContaining('NUL') })]);
  });

  it('passes clean input through', () => {
    expect(parseInput(schema, { title: 'ok' })).toEqual({ title: 'ok', tags: [] });
  });
});
