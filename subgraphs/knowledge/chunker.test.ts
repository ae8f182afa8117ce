import { describe, expect, it } from 'vitest';
import { CHUNK_OVERLAP, CHUNK_SIZE, chunkBlocks } from './chunker.ts';
import type { Block } from './parse.ts';

const para = (text: string): Block => ({ kind: 'paragraph', level: 0, text });
const heading = (level: number, text: string): Block => ({ kind: 'heading', level, text });
const words = (n: number, word = 'alpha'): string => Array.from({ length: n }, (_, i) => `${word}${i}`).join(' ');

describe('chunkBlocks', () => {
  it('keeps a short text as one chunk with its whitespace collapsed', () => {
    expect(chunkBlocks([para('  one   two\n\tthree ')])).toEqual([{ index: 0, content: 'one two three', headings: '' }]);
  });

  it('cuts chunks of at most 1,000 chars at whitespace, overlapping by at most 200 chars', () => {
    const text = words(600);
    const chunks = chunkBlocks([para(text)]);
    expect(chunks.length).toBeGreaterThan(4);
    chunks.forEach((c, i) => {
      expect(c.index).toBe(i);
      expect(c.content.length).toBeLessThanOrEqual(CHUNK_SIZE);
      // Whole words only: every chunk is a run of the original words.
      expect(text.includes(c.content)).toBe(true);
      expect(c.content.startsWith('alpha')).toBe(true);
    });
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1]?.content ?? '';
      const next = chunks[i]?.content ?? '';
      const firstWord = next.split(' ')[0] ?? '';
      const at = prev.lastIndexOf(` ${firstWord} `);
      expect(at).toBeGreaterThan(-1);
      // The overlap is the tail of the previous chunk, shorter than 200 chars but not empty.
      const overlap = prev.length - at - 1;
      expect(overlap).toBeGreaterThan(100);
      expect(overlap).toBeLessThanOrEqual(CHUNK_OVERLAP);
      expect(next.startsWith(prev.slice(at + 1))).toBe(true);
    }
    expect(chunks.at(-1)?.content.endsWith('alpha599')).toBe(true);
  });

  it('ends a chunk before a heading inside the window second half, and records the heading path', () => {
    const first = words(100, 'intro'); // ~ 700 chars
    const blocks = [heading(1, 'Guide'), para(first), heading(2, 'Setup steps'), para(words(100, 'setup'))];
    const chunks = chunkBlocks(blocks);
    expect(chunks[0]?.content).toBe(`Guide ${first}`);
    expect(chunks[0]?.headings).toBe('Guide');
    expect(chunks[1]?.content.includes('Setup steps setup0')).toBe(true);
    expect(chunks[1]?.headings).toBe('Guide / Setup steps');
  });

  it('prefers a paragraph end, then a sentence end, over the last whitespace', () => {
    const a = `${words(80, 'aa')}.`; // ~ 400 chars
    const b = `${words(30, 'bb')}. ${words(40, 'cc')}`;
    const chunks = chunkBlocks([para(a), para(b), para(words(100, 'dd'))]);
    expect(chunks[0]?.content.endsWith(words(40, 'cc'))).toBe(true);
    const sentences = chunkBlocks([para(`${words(150, 'ee')}. ${words(100, 'ff')}`)]);
    expect(sentences[0]?.content.endsWith('ee149.')).toBe(true);
  });

  it('cuts a window without whitespace hard at 1,000 chars', () => {
    const chunks = chunkBlocks([para('x'.repeat(2_500))]);
    expect(chunks.map((c) => c.content.length)).toEqual([1000, 1000, 900]);
  });

  it('gives no chunks for blocks without text', () => {
    expect(chunkBlocks([para('   '), heading(1, ' ')])).toEqual([]);
  });
});
