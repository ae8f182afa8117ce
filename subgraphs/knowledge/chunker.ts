/**
 * Chunking (§4.10): the text's whitespace is collapsed, chunks are at most 1,000 chars
 * with a 200-char overlap. Within each window the cut prefers, in order, the start of a heading,
 * the end of a paragraph, the end of a sentence, then the last whitespace (any of them only in
 * the window's second half, so chunks stay large); a window with no whitespace is cut hard.
 * Each chunk carries the headings above it, which the index weighs above body text.
 */
import type { Block } from './parse.ts';

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
  /** Offsets where a block starts, ascending (heading starts also in `headingStarts`). */
  blockStarts: number[];
  headingStarts: number[];
  /** Headings with their offset and level, in order. */
  headings: { at: number; level: number; text: string }[];
}

function layout(blocks: readonly Block[]): Layout {
  const parts: string[] = [];
  let length = 0;
  const blockStarts: number[] = [];
  const headingStarts: number[] = [];
  const headings: Layout['headings'] = [];
  for (const b of blocks) {
    // U+E000/U+E001 delimit search matches (retrieval.sql.ts): documents never contain them.
    const t = b.text.replace(/[\uE000\uE001]/g, '').replace(/\s+/g, ' ').trim();
    if (!t) continue;
    if (parts.length > 0) length += 1;
    blockStarts.push(length);
    if (b.kind === 'heading') {
      headingStarts.push(length);
      headings.push({ at: length, level: b.level, text: t });
    }
    parts.push(t);
    length += t.length;
  }
  return { text: parts.join(' '), blockStarts, headingStarts, headings };
}

/** The largest value of the ascending `offsets` that is ≤ `max`, if it is > `min`; else -1. */
function lastBetween(offsets: readonly number[], min: number, max: number): number {
  let lo = 0;
  let hi = offsets.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = offsets[mid] ?? 0;
    if (v <= max) {
      found = v;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found > min ? found : -1;
}

const SPACE = 32;
const SENTENCE_END = new Set([46, 33, 63]); // . ! ?

/** Where to end the chunk starting at `start` (exclusive). */
function cutPoint(l: Layout, start: number): number {
  const end = start + CHUNK_SIZE;
  if (end >= l.text.length) return l.text.length;
  const min = start + CHUNK_SIZE / 2;
  // A boundary at offset b means the chunk ends at b - 1 (the separating space).
  const heading = lastBetween(l.headingStarts, min, end);
  if (heading > 0) return heading - 1;
  const block = lastBetween(l.blockStarts, min, end);
  if (block > 0) return block - 1;
  for (let i = end; i > min; i--) if (l.text.charCodeAt(i) === SPACE && SENTENCE_END.has(l.text.charCodeAt(i - 1))) return i;
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

/**
 * Heading paths for chunk starts that only move forward: the path in force at `at` (the last
 * heading of each level above it) plus the headings inside [at, end). Linear over the document.
 */
class HeadingTracker {
  private next = 0;
  private readonly path: string[] = [];

  constructor(private readonly headings: Layout['headings']) {}

  at(at: number, end: number): string {
    for (; this.next < this.headings.length; this.next++) {
      const h = this.headings[this.next];
      if (!h || h.at > at) break;
      this.path.length = Math.min(this.path.length, h.level - 1);
      this.path[h.level - 1] = h.text;
    }
    const inside: string[] = [];
    for (let i = this.next; i < this.headings.length; i++) {
      const h = this.headings[i];
      if (!h || h.at >= end) break;
      inside.push(h.text);
    }
    return [...this.path, ...inside].filter(Boolean).join(' / ');
  }
}

/** The chunks one by one, so a caller can yield to the event loop between them. */
export function* chunksOf(blocks: readonly Block[]): Generator<Chunk> {
  const l = layout(blocks);
  const tracker = new HeadingTracker(l.headings);
  let index = 0;
  let start = 0;
  while (start < l.text.length) {
    const cut = cutPoint(l, start);
    const content = l.text.slice(start, cut).trim();
    if (content) yield { index: index++, content, headings: tracker.at(start, cut) };
    if (cut >= l.text.length) break;
    start = nextStart(l, start, cut);
  }
}

export function chunkBlocks(blocks: readonly Block[]): Chunk[] {
  return [...chunksOf(blocks)];
}
