/**
 * The checks run before a parser inflates anything (inflate-guard.ts): where each bound lies, and
 * that a declared size that lies is caught by inflating (bounded). Hostile uploads end to end:
 * test/knowledge-bombs.e2e.test.ts.
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { makeDocx, makePdf, makeZip } from '../../test/knowledge-fixtures.ts';
import { checkPdfStreams, checkZip, DOCX_LIMITS, PDF_LIMITS } from './inflate-guard.ts';

const MiB = 1024 * 1024;
/** What a check did: passed, or refused with its message. */
const outcome = (check: () => void): string => {
  try {
    check();
    return 'passed';
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : 'not an Error';
  }
};
const refused = (what: string) => `OverBudget: over the parser's budget: ${what}`;

describe('checkZip', () => {
  it('passes an ordinary DOCX, stored or deflated, and a damaged archive (the parser judges those)', () => {
    const paragraphs = [{ text: 'Hello', heading: 1 as const }, { text: 'World' }];
    expect(outcome(() => checkZip(makeDocx(paragraphs)))).toBe('passed');
    expect(outcome(() => checkZip(makeDocx(paragraphs, { deflate: true })))).toBe('passed');
    expect(outcome(() => checkZip(Buffer.from('PK not really a zip')))).toBe('passed');
  });

  it('refuses a part declared over the bound before inflating anything', () => {
    const zip = makeZip([{ name: 'word/document.xml', data: Buffer.from('<w:document/>'), deflate: true, declaredSize: DOCX_LIMITS.maxPartBytes + 1 }]);
    expect(outcome(() => checkZip(zip))).toBe(refused(`a part declares ${DOCX_LIMITS.maxPartBytes + 1} bytes`));
  });

  it('refuses a part that inflates past the bound while declaring 1 KB; one exactly at the bound passes', () => {
    const over = makeZip([{ name: 'word/document.xml', data: Buffer.alloc(DOCX_LIMITS.maxPartBytes + 1, 0x20), deflate: true, declaredSize: 1024 }]);
    expect(outcome(() => checkZip(over))).toBe(refused(`a part inflates past ${DOCX_LIMITS.maxPartBytes} bytes`));
    const at = makeZip([{ name: 'word/document.xml', data: Buffer.alloc(DOCX_LIMITS.maxPartBytes, 0x20), deflate: true, declaredSize: 1024 }]);
    expect(outcome(() => checkZip(at))).toBe('passed');
  });

  it('refuses parts that together inflate past the total while declaring little', () => {
    const part = (n: number) => ({ name: `word/part${n}.xml`, data: Buffer.alloc(DOCX_LIMITS.maxPartBytes, 0x20), deflate: true, declaredSize: 1024 });
    const parts = Array.from({ length: DOCX_LIMITS.maxTotalBytes / DOCX_LIMITS.maxPartBytes }, (_, i) => part(i));
    expect(outcome(() => checkZip(makeZip(parts)))).toBe('passed');
    expect(outcome(() => checkZip(makeZip([...parts, part(99)])))).toBe(refused(`the archive inflates past ${DOCX_LIMITS.maxTotalBytes} bytes`));
  });

  it('lets media past the part bound, but not past the total', () => {
    const media = (n: number) => ({ name: `word/media/image${n}.bmp`, data: Buffer.alloc(20 * MiB), deflate: true });
    expect(outcome(() => checkZip(makeZip([media(1), media(2), media(3)])))).toBe('passed');
    expect(outcome(() => checkZip(makeZip([media(1), media(2), media(3), media(4)])))).toBe(refused(`the archive declares over ${DOCX_LIMITS.maxTotalBytes} bytes`));
  });

  it('refuses an archive of more entries than the bound', () => {
    const entries = Array.from({ length: DOCX_LIMITS.maxEntries + 1 }, (_, i) => ({ name: `f${i}`, data: Buffer.alloc(0) }));
    expect(outcome(() => checkZip(makeZip(entries)))).toBe(refused(`${DOCX_LIMITS.maxEntries + 1} ZIP entries`));
  });
});

/** A PDF-like body with one stream object (only the stream matters to the check). */
const withStream = (dict: string, data: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`%PDF-1.4\n4 0 obj\n<< ${dict} /Length ${data.length} >>\nstream\n`), data, Buffer.from('\nendstream\nendobj\n%%EOF\n')]);

describe('checkPdfStreams', () => {
  it('passes an ordinary PDF', () => {
    expect(outcome(() => checkPdfStreams(makePdf([['Hello'], ['World']])))).toBe('passed');
  });

  it('refuses a Flate stream past the bound (also as the first filter of a chain); one at the bound passes', () => {
    const over = deflateSync(Buffer.alloc(PDF_LIMITS.maxStreamBytes + 1));
    expect(outcome(() => checkPdfStreams(withStream('/Filter /FlateDecode', over)))).toBe(refused(`a stream inflates past ${PDF_LIMITS.maxStreamBytes} bytes`));
    expect(outcome(() => checkPdfStreams(withStream('/Filter [/FlateDecode /ASCIIHexDecode]', over)))).toBe(refused(`a stream inflates past ${PDF_LIMITS.maxStreamBytes} bytes`));
    expect(outcome(() => checkPdfStreams(withStream('/Filter /FlateDecode', deflateSync(Buffer.alloc(PDF_LIMITS.maxStreamBytes)))))).toBe('passed');
  });

  it('refuses streams that together pass the total bound', () => {
    const one = withStream('/Filter /FlateDecode', deflateSync(Buffer.alloc(PDF_LIMITS.maxStreamBytes)));
    const count = PDF_LIMITS.maxTotalBytes / PDF_LIMITS.maxStreamBytes;
    expect(outcome(() => checkPdfStreams(Buffer.concat(Array.from({ length: count }, () => one))))).toBe('passed');
    expect(outcome(() => checkPdfStreams(Buffer.concat(Array.from({ length: count + 1 }, () => one))))).toBe(refused(`streams inflate past ${PDF_LIMITS.maxTotalBytes} bytes in all`));
  });

  it('skips images and attached files (text extraction never decodes them)', () => {
    const big = deflateSync(Buffer.alloc(PDF_LIMITS.maxStreamBytes + 1));
    expect(outcome(() => checkPdfStreams(withStream('/Type /XObject /Subtype /Image /Width 9000 /Height 9000 /Filter /FlateDecode', big)))).toBe('passed');
    expect(outcome(() => checkPdfStreams(withStream('/Type /EmbeddedFile /Filter /FlateDecode', big)))).toBe('passed');
  });
});
