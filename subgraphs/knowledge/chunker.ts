/**
 * Chunking (API.md §4.10): the text's whitespace is collapsed, chunks are at most 1,000 chars
 * with a 200-char overlap. Within each window the cut prefers, in order, the start of a heading,
 * the end of a paragraph, the end of a sentence, then the last whitespace (any of them only in
 * the window's second half, so chunks stay large); a window with no whitespace is cut hard.
 * Each chunk carries the headings above it, which the index weighs above body text.
 */
import type { Block } from './extract.ts';

export const CHUNK_SIZE = 1_000;
export const CHUNK_OVERLAP = 200;

export interface Chunk {
  index: number;
  content: string;
  /** The heading path in force where the chunk starts, plus headings inside it. */
  headings: string;
}

interface Layout {
  text: string;
  /** Offsets where a block starts (heading starts also in `headingStarts`). */
  blockStarts: Set<number>;
  headingStarts: Set<number>;
  /** Headings with their offset and level, in order. */
  headings: { at: number; level: number; text: string }[];
}

function layout(blocks: readonly Block[]): Layout {
  let text = '';
  const blockStarts = new Set<number>();
  const headingStarts = new Set<number>();
  const headings: Layout['headings'] = [];
  for (const b of blocks) {
    const t = b.text.replace(/\s+/g, ' ').trim();
    if (!t) continue;
    if (text) text += ' ';
    blockStarts.add(text.length);
    if (b.kind === 'heading') {
      headingStarts.add(text.length);
      headings.push({ at: text.length, level: b.level, text: t });
    }
    text += t;
  }
  return { text, blockStarts, headingStarts, headings };
}

/** Where to end the chunk starting at `start` (exclusive). */
function cutPoint(l: Layout, start: number): number {
  const end = start + CHUNK_SIZE;
  if (end >= l.text.length) return l.text.length;
  const min = start + CHUNK_SIZE / 2;
  // A boundary at offset b means the chunk ends at b - 1 (the separating space).
  const lastIn = (set: Set<number>): number => {
    for (let b = end; b > min; b--) if (set.has(b)) return b - 1;
    return -1;
  };
  const heading = lastIn(l.headingStarts);
  if (heading > 0) return heading;
  const block = lastIn(l.blockStarts);
  if (block > 0) return block;
  for (let i = end; i > min; i--) if (l.text[i] === ' ' && /[.!?]/.test(l.text[i - 1] ?? '')) return i;
  const space = l.text.lastIndexOf(' ', end);
  return space > start ? space : end;
}

/** Where the next chunk starts: 200 chars before `cut`, moved forward to the next word start. */
function nextStart(l: Layout, start: number, cut: number): number {
  let s = Math.max(cut - CHUNK_OVERLAP, start + 1);
  if (s > 0 && l.text[s - 1] !== ' ') {
    const space = l.text.indexOf(' ', s);
    s = space === -1 || space >= cut ? s : space + 1;
  }
  while (l.text[s] === ' ') s++;
  return s;
}

/** The heading path in force at `at` (the last heading of each level above it), plus those inside [at, end). */
function headingsFor(l: Layout, at: number, end: number): string {
  const path: string[] = [];
  for (const h of l.headings) {
    if (h.at >= end) break;
    if (h.at <= at) {
      path.length = Math.min(path.length, h.level - 1);
      path[h.level - 1] = h.text;
    } else path.push(h.text);
  }
  return path.filter(Boolean).join(' / ');
}

export function chunkBlocks(blocks: readonly Block[]): Chunk[] {
  const l = layout(blocks);
  const chunks: Chunk[] = [];
  let start = 0;
  while (start < l.text.length) {
    const cut = cutPoint(l, start);
    const content = l.text.slice(start, cut).trim();
    if (content) chunks.push({ index: chunks.length, content, headings: headingsFor(l, start, cut) });
    if (cut >= l.text.length) break;
    start = nextStart(l, start, cut);
  }
  return chunks;
}
