/**
 * File type detection and text extraction (API.md §3.3 accepted types, §4.10 limits). Extraction
 * keeps the document's structure as blocks (headings and paragraphs) so the chunker can break at
 * them. Large files yield to the event loop between pages and blocks, so other requests go on.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { AppError } from '../../kernel/errors.ts';

export const CONTENT_TYPES = {
  txt: 'text/plain',
  md: 'text/markdown',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
} as const;
export type ContentType = (typeof CONTENT_TYPES)[keyof typeof CONTENT_TYPES];

const BY_EXTENSION: Record<string, ContentType> = {
  txt: CONTENT_TYPES.txt,
  md: CONTENT_TYPES.md,
  markdown: CONTENT_TYPES.md,
  pdf: CONTENT_TYPES.pdf,
  docx: CONTENT_TYPES.docx,
};
const ACCEPTED: ReadonlySet<string> = new Set(Object.values(CONTENT_TYPES));

/** 415 with the accepted types (API.md §1.7). */
const unsupported = (): AppError => new AppError('UNSUPPORTED_MEDIA_TYPE', { extras: { accepted: Object.values(CONTENT_TYPES) } });


/**
 * The stored content type: the part's own type (parameters dropped), or the extension's when the
 * type is missing or `application/octet-stream`.
 * @throws UNSUPPORTED_MEDIA_TYPE
 */
export function detectContentType(filename: string, declared: string | null | undefined): ContentType {
  const type = (declared ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== '' && type !== 'application/octet-stream') {
    if (ACCEPTED.has(type)) return type as ContentType;
    throw unsupported();
  }
  const ext = /\.([^./\\]+)$/.exec(filename)?.[1]?.toLowerCase() ?? '';
  const byExt = BY_EXTENSION[ext];
  if (!byExt) throw unsupported();
  return byExt;
}

/** A unit of the document's structure. */
export interface Block {
  kind: 'heading' | 'paragraph';
  /** 1..6 for headings, 0 for paragraphs. */
  level: number;
  text: string;
}

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Plain text: paragraphs are separated by blank lines. */
function textBlocks(text: string): Block[] {
  return text
    .split(/\n\s*\n/)
    .map(collapse)
    .filter((t) => t !== '')
    .map((t) => ({ kind: 'paragraph', level: 0, text: t }));
}

/** Markdown: ATX (`# x`) and setext (`x` over `===`/`---`) headings; paragraphs between blank lines. */
function markdownBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    const t = collapse(para.join(' '));
    if (t) blocks.push({ kind: 'paragraph', level: 0, text: t });
    para = [];
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const atx = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    const next = lines[i + 1] ?? '';
    if (atx?.[1]) {
      flush();
      const t = collapse(atx[2] ?? '');
      if (t) blocks.push({ kind: 'heading', level: atx[1].length, text: t });
    } else if (line.trim() !== '' && para.length === 0 && /^\s{0,3}(=+|-+)\s*$/.test(next)) {
      blocks.push({ kind: 'heading', level: next.trim().startsWith('=') ? 1 : 2, text: collapse(line) });
      i++;
    } else if (line.trim() === '') flush();
    else para.push(line);
  }
  flush();
  return blocks;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
const decodeEntities = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e.toLowerCase()] ?? m;
  });

/** DOCX through mammoth's HTML (which keeps Word's heading styles as h1..h6). */
async function docxBlocks(bytes: Buffer): Promise<Block[]> {
  const mammoth = await import('mammoth');
  const { value: html } = await mammoth.convertToHtml({ buffer: bytes });
  const blocks: Block[] = [];
  for (const m of html.matchAll(/<(h[1-6]|p|li|td|th|caption)\b[^>]*>([\s\S]*?)<\/\1>/g)) {
    const text = collapse(decodeEntities((m[2] ?? '').replace(/<[^>]+>/g, ' ')));
    if (!text) continue;
    const tag = m[1] ?? 'p';
    blocks.push(tag.startsWith('h') ? { kind: 'heading', level: Number(tag[1]), text } : { kind: 'paragraph', level: 0, text });
  }
  return blocks;
}

/** PDF through unpdf (pdf.js), page by page; each page's blank-line-separated runs are paragraphs. */
async function pdfBlocks(bytes: Buffer): Promise<Block[]> {
  const { getDocumentProxy } = await import('unpdf');
  // verbosity 0: pdf.js reports errors (thrown here) but prints no warnings about damaged files.
  const pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  const blocks: Block[] = [];
  try {
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        text += item.str + (item.hasEOL ? '\n' : '');
      }
      blocks.push(...textBlocks(text));
      page.cleanup();
      await yieldToLoop();
    }
  } finally {
    await pdf.destroy();
  }
  return blocks;
}

/**
 * The document's blocks.
 * @throws DOCUMENT_UNREADABLE when the bytes are not a readable file of the type or hold no text
 */
export async function extractBlocks(bytes: Buffer, type: ContentType): Promise<Block[]> {
  let blocks: Block[];
  try {
    switch (type) {
      case CONTENT_TYPES.pdf:
        blocks = await pdfBlocks(bytes);
        break;
      case CONTENT_TYPES.docx:
        blocks = await docxBlocks(bytes);
        break;
      case CONTENT_TYPES.md:
        blocks = markdownBlocks(decodeText(bytes));
        break;
      default:
        blocks = textBlocks(decodeText(bytes));
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('DOCUMENT_UNREADABLE', { cause: err });
  }
  if (!blocks.some((b) => b.text.trim() !== '')) throw new AppError('DOCUMENT_UNREADABLE');
  return blocks;
}

/**
 * UTF-8 text without a BOM. Bytes that are not valid UTF-8 (or hold NUL characters: a binary file
 * sent as text) are unreadable.
 */
function decodeText(bytes: Buffer): string {
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  if (text.includes('\u0000')) throw new AppError('DOCUMENT_UNREADABLE');
  return text.replace(/\r\n?/g, '\n');
}
