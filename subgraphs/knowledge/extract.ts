/**
 * File type detection and text extraction (§3.3 accepted types, §4.10 limits). Extraction
 * keeps the document's structure as blocks (headings and paragraphs) so the chunker can break at
 * them; it runs in the parser's worker threads (parser-pool.ts, parse.ts), never on the event loop.
 */
import { AppError } from '../../kernel/errors.ts';
import type { Block } from './parse.ts';
import type { ParserPool } from './parser-pool.ts';

export type { Block } from './parse.ts';

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

/** 415 with the accepted types (§1.7). */
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

/**
 * The document's blocks, parsed off the event loop by `parser`.
 * @throws DOCUMENT_TOO_LARGE past 5,000,000 characters of text; DOCUMENT_UNREADABLE when the bytes
 *   are not a readable file of the type, hold no text, or exceed the parser's time or memory budget
 */
export async function extractBlocks(parser: ParserPool, bytes: Uint8Array, type: ContentType): Promise<Block[]> {
  const blocks = await parser.parse(bytes, type);
  if (!blocks.some((b) => b.text.trim() !== '')) throw new AppError('DOCUMENT_UNREADABLE');
  return blocks;
}
