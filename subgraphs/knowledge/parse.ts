/**
 * Text extraction (§4.10): bytes of an accepted type → the document's blocks (headings and
 * paragraphs, so the chunker can break at them). Runs inside the parser worker (parse.worker.ts),
 * never on the server's event loop; imports nothing from the project but the inflate guard.
 *
 * Reading stops as soon as the text passes MAX_DOCUMENT_CHARS (PDF page by page; DOCX and text
 * once converted, their size being bounded before).
 */
import { checkPdfStreams, checkZip } from './inflate-guard.ts';

/** §4.10: more extracted text than this is 413 `document_too_large`. */
export const MAX_DOCUMENT_CHARS = 5_000_000;

/** A unit of the document's structure. */
export interface Block {
  kind: 'heading' | 'paragraph';
  /** 1..6 for headings, 0 for paragraphs. */
  level: number;
  text: string;
}

/** The types `parseDocument` reads (the stored content types of §3.3). */
export type ParsedType = 'text/plain' | 'text/markdown' | 'application/pdf' | 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** The text passed MAX_DOCUMENT_CHARS. */
export class TextTooLong extends Error {
  constructor() {
    super(`the text passes ${MAX_DOCUMENT_CHARS} characters`);
    this.name = 'TextTooLong';
  }
}

/** Not a readable file of its type (bad bytes, not UTF-8, …). */
export class Unreadable extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'Unreadable';
  }
}

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Collects blocks and counts their text as the chunker lays it out (one space between blocks). */
class Blocks {
  readonly list: Block[] = [];
  private chars = 0;

  add(block: Block): void {
    if (!block.text) return;
    this.chars += block.text.length + (this.list.length > 0 ? 1 : 0);
    if (this.chars > MAX_DOCUMENT_CHARS) throw new TextTooLong();
    this.list.push(block);
  }
}

/** Plain text: paragraphs are separated by blank lines. */
function addTextBlocks(out: Blocks, text: string): void {
  for (const para of text.split(/\n\s*\n/)) out.add({ kind: 'paragraph', level: 0, text: collapse(para) });
}

/** Markdown: ATX (`# x`) and setext (`x` over `===`/`---`) headings; paragraphs between blank lines. */
function addMarkdownBlocks(out: Blocks, text: string): void {
  let para: string[] = [];
  const flush = () => {
    out.add({ kind: 'paragraph', level: 0, text: collapse(para.join(' ')) });
    para = [];
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const atx = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    const next = lines[i + 1] ?? '';
    if (atx?.[1]) {
      flush();
      out.add({ kind: 'heading', level: atx[1].length, text: collapse(atx[2] ?? '') });
    } else if (line.trim() !== '' && para.length === 0 && /^\s{0,3}(=+|-+)\s*$/.test(next)) {
      out.add({ kind: 'heading', level: next.trim().startsWith('=') ? 1 : 2, text: collapse(line) });
      i++;
    } else if (line.trim() === '') flush();
    else para.push(line);
  }
  flush();
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
const decodeEntities = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? m;
    const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });

/**
 * DOCX through mammoth's HTML (which keeps Word's heading styles as h1..h6). The archive's sizes
 * are checked first; images are never read (only the text is kept).
 */
async function addDocxBlocks(out: Blocks, bytes: Uint8Array): Promise<void> {
  checkZip(bytes);
  const { default: mammoth } = await import('mammoth');
  const noImage = mammoth.images.imgElement(() => Promise.resolve({ src: '' }));
  const { value: html } = await mammoth.convertToHtml({ buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) }, { convertImage: noImage });
  for (const m of html.matchAll(/<(h[1-6]|p|li|td|th|caption)\b[^>]*>([\s\S]*?)<\/\1>/g)) {
    const text = collapse(decodeEntities((m[2] ?? '').replace(/<[^>]+>/g, ' ')));
    const tag = m[1] ?? 'p';
    out.add(tag.startsWith('h') ? { kind: 'heading', level: Number(tag[1]), text } : { kind: 'paragraph', level: 0, text });
  }
}

/** PDF through unpdf (pdf.js), page by page; each page's blank-line-separated runs are paragraphs. */
async function addPdfBlocks(out: Blocks, bytes: Uint8Array): Promise<void> {
  checkPdfStreams(bytes);
  const { getDocumentProxy } = await import('unpdf');
  // verbosity 0: pdf.js reports errors (thrown here) but prints no warnings about damaged files.
  const pdf = await getDocumentProxy(bytes, { verbosity: 0 });
  try {
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        text += item.str + (item.hasEOL ? '\n' : '');
      }
      addTextBlocks(out, text);
      page.cleanup();
    }
  } finally {
    await pdf.destroy();
  }
}

/**
 * UTF-8 text without a BOM. Bytes that are not valid UTF-8 (or hold NUL characters: a binary file
 * sent as text) are unreadable.
 */
function decodeText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new Unreadable('not UTF-8 text');
  }
  if (text.includes('\u0000')) throw new Unreadable('binary data sent as text');
  return text.replace(/\r\n?/g, '\n');
}

/**
 * The document's blocks (possibly none: the caller decides that an empty document is unreadable).
 * @throws TextTooLong past MAX_DOCUMENT_CHARS; OverBudget (inflate-guard.ts) for a decompression
 *   bomb; Unreadable or the parser's own error for bytes that are not a file of the type
 */
export async function parseDocument(bytes: Uint8Array, type: ParsedType): Promise<Block[]> {
  const out = new Blocks();
  switch (type) {
    case 'application/pdf':
      await addPdfBlocks(out, bytes);
      break;
    case 'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
      await addDocxBlocks(out, bytes);
      break;
    case 'text/markdown':
      addMarkdownBlocks(out, decodeText(bytes));
      break;
    case 'text/plain':
      addTextBlocks(out, decodeText(bytes));
      break;
  }
  return out.list;
}
