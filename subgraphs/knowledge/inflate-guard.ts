/**
 * Checks for decompression bombs, run on the raw bytes before a parser inflates anything (see
 * §4.10: a document whose parsing would exceed the parser's budget is unreadable). Both checks use
 * zlib's native inflate with `maxOutputLength`, so each stops as soon as a bound is passed and
 * never holds more than that bound: sizes a file declares are checked first, then the sizes its
 * data really inflates to (a declared size can lie).
 *
 * Runs inside the parser worker (parse.worker.ts); imports nothing from the project.
 */
import { constants, inflateRawSync, inflateSync } from 'node:zlib';

/** A bound was passed: the document is refused as over the parser's budget. */
export class OverBudget extends Error {
  constructor(what: string) {
    super(`over the parser's budget: ${what}`);
    this.name = 'OverBudget';
  }
}

/** Bounds of a DOCX (a ZIP) before mammoth reads it. */
export const DOCX_LIMITS = {
  /** Entries in the archive (each costs JSZip an object even if never read). */
  maxEntries: 10_000,
  /**
   * One part, inflated. mammoth needs about 20 times a part's size in heap (10 MiB of paragraphs
   * take ~200 MiB), so anything larger could not be parsed within the worker's memory anyway.
   * Media and embedded objects are exempt (the parser never reads them); the total still counts them.
   */
  maxPartBytes: 16 * 1024 * 1024,
  /** All entries together, inflated. */
  maxTotalBytes: 64 * 1024 * 1024,
} as const;

/** Bounds of a PDF's Flate streams before pdf.js reads it. */
export const PDF_LIMITS = {
  /** One stream, inflated (a page's content stream or an object stream). */
  maxStreamBytes: 64 * 1024 * 1024,
  /** All checked streams together, inflated. */
  maxTotalBytes: 256 * 1024 * 1024,
} as const;

const isTooLarge = (err: unknown): boolean => err instanceof RangeError && (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';

/**
 * Bytes `data` inflates to (zlib-wrapped, else raw deflate), or null when it is neither; throws
 * OverBudget past `max` bytes.
 */
function inflatedSize(data: Uint8Array, zlibFirst: boolean, max: number, what: string): number | null {
  // SYNC_FLUSH: a truncated stream still yields what it holds (parsers read such streams too).
  const opts = { maxOutputLength: Math.max(1, max), finishFlush: constants.Z_SYNC_FLUSH };
  for (const inflate of zlibFirst ? [inflateSync, inflateRawSync] : [inflateRawSync]) {
    try {
      return inflate(data, opts).length;
    } catch (err) {
      if (isTooLarge(err)) throw new OverBudget(what);
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// ZIP (DOCX)

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX32 = 0xffffffff;

const u16 = (b: Buffer, at: number): number => (at + 2 <= b.length ? b.readUInt16LE(at) : 0);
const u32 = (b: Buffer, at: number): number => (at + 4 <= b.length ? b.readUInt32LE(at) : 0);
const u64 = (b: Buffer, at: number): number => (at + 8 <= b.length ? Number(b.readBigUInt64LE(at)) : 0);

/** The central directory's entries (ZIP64 included); throws when there is none. */
function zipEntries(b: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (u32(b, i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a ZIP archive');
  let count = u16(b, eocd + 10);
  let cdOffset = u32(b, eocd + 16);
  if (u32(b, eocd - 20) === ZIP64_LOCATOR) {
    const z = u64(b, eocd - 12);
    if (u32(b, z) === ZIP64_EOCD) {
      count = u64(b, z + 32);
      cdOffset = u64(b, z + 48);
    }
  }
  if (count > DOCX_LIMITS.maxEntries) throw new OverBudget(`${count} ZIP entries`);
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (u32(b, p) !== CENTRAL) throw new Error('damaged ZIP central directory');
    const nameLength = u16(b, p + 28);
    const extraLength = u16(b, p + 30);
    const entry: ZipEntry = {
      name: b.toString('utf8', p + 46, p + 46 + nameLength),
      method: u16(b, p + 10),
      compressedSize: u32(b, p + 20),
      size: u32(b, p + 24),
      localOffset: u32(b, p + 42),
    };
    // ZIP64 extra field: the 64-bit values of whichever fields are 0xFFFFFFFF, in this order.
    for (let x = p + 46 + nameLength; x + 4 <= p + 46 + nameLength + extraLength; x += 4 + u16(b, x + 2)) {
      if (u16(b, x) !== 0x0001) continue;
      let v = x + 4;
      if (entry.size === MAX32) {
        entry.size = u64(b, v);
        v += 8;
      }
      if (entry.compressedSize === MAX32) {
        entry.compressedSize = u64(b, v);
        v += 8;
      }
      if (entry.localOffset === MAX32) entry.localOffset = u64(b, v);
    }
    entries.push(entry);
    p += 46 + nameLength + extraLength + u16(b, p + 32);
  }
  return entries;
}

/**
 * Refuses a ZIP whose entries inflate past DOCX_LIMITS: first by the sizes the central directory
 * declares (nothing inflated), then by inflating each entry against the bounds. A damaged archive
 * passes (the parser then finds it unreadable).
 * @throws OverBudget
 */
export function checkZip(bytes: Uint8Array): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let entries: ZipEntry[];
  try {
    entries = zipEntries(b);
  } catch (err) {
    if (err instanceof OverBudget) throw err;
    return;
  }
  const isMedia = (e: ZipEntry): boolean => /^word\/(media|embeddings)\//i.test(e.name);
  let declared = 0;
  for (const e of entries) {
    declared += e.size;
    if (!isMedia(e) && e.size > DOCX_LIMITS.maxPartBytes) throw new OverBudget(`a part declares ${e.size} bytes`);
    if (declared > DOCX_LIMITS.maxTotalBytes) throw new OverBudget(`the archive declares over ${DOCX_LIMITS.maxTotalBytes} bytes`);
  }
  let total = 0;
  for (const e of entries) {
    if (u32(b, e.localOffset) !== LOCAL) continue;
    const start = e.localOffset + 30 + u16(b, e.localOffset + 26) + u16(b, e.localOffset + 28);
    const data = b.subarray(start, Math.min(b.length, start + e.compressedSize));
    const remaining = DOCX_LIMITS.maxTotalBytes - total;
    const partBound = isMedia(e) ? Infinity : DOCX_LIMITS.maxPartBytes;
    const max = Math.min(partBound, remaining);
    const what = max === remaining ? `the archive inflates past ${DOCX_LIMITS.maxTotalBytes} bytes` : `a part inflates past ${max} bytes`;
    const size = e.method === 8 ? (inflatedSize(data, false, max, what) ?? 0) : data.length;
    if (size > max) throw new OverBudget(what);
    total += size;
  }
}

// ---------------------------------------------------------------------------------------------
// PDF

const STREAM = Buffer.from('stream');
const END_STREAM = Buffer.from('endstream');

/**
 * Refuses a PDF any of whose Flate streams (the first filter of their chain) inflates past
 * PDF_LIMITS. Images and attached files are skipped: text extraction never decodes them (a bomb
 * that only claims to be one is left to the worker's budgets). Streams in other encodings
 * (encrypted, LZW, chains starting with ASCII85) cannot be checked here; the worker's time and
 * memory budgets bound those.
 * @throws OverBudget
 */
export function checkPdfStreams(bytes: Uint8Array): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let total = 0;
  for (let at = b.indexOf(STREAM); at >= 0; at = b.indexOf(STREAM, at + STREAM.length)) {
    if (at >= 3 && b.toString('latin1', at - 3, at) === 'end') continue;
    let start = at + STREAM.length;
    if (b[start] === 0x0d) start++;
    if (b[start] !== 0x0a && b[start - 1] !== 0x0d) continue; // `stream` inside some other token
    if (b[start] === 0x0a) start++;
    // The stream's dictionary: from the last `<num> <gen> obj` before it.
    const dict = b.toString('latin1', Math.max(0, at - 4096), at);
    let own = dict;
    for (const m of dict.matchAll(/\d+\s+\d+\s+obj\b/g)) own = dict.slice(m.index);
    if (/\/Subtype\s*\/Image\b|\/Type\s*\/EmbeddedFile\b/.test(own)) continue;
    const filter = /\/Filter\s*\[?\s*\/([A-Za-z0-9]+)/.exec(own)?.[1];
    if (filter !== 'FlateDecode' && filter !== 'Fl') continue;
    const end = b.indexOf(END_STREAM, start);
    const data = b.subarray(start, end < 0 ? b.length : end);
    const remaining = PDF_LIMITS.maxTotalBytes - total;
    const max = Math.min(PDF_LIMITS.maxStreamBytes, remaining);
    const what = max === remaining ? `streams inflate past ${PDF_LIMITS.maxTotalBytes} bytes in all` : `a stream inflates past ${max} bytes`;
    total += inflatedSize(data, true, max, what) ?? 0;
    if (end < 0) break;
    at = end;
  }
}
