/**
 * Hostile uploads (§4.10, issue 11 item 1): decompression bombs and oversized text are
 * refused with their exact errors, through REST and GraphQL, while `/api/health` keeps answering
 * promptly — parsing runs in worker threads with a time and memory budget, never on the event
 * loop that serves everyone. The files are built here: a 170 KB DOCX whose `word/document.xml`
 * inflates to 50 MB, the same with headers that lie about that size, a 1 MB PDF whose one Flate
 * stream inflates to 1 GiB, and a DOCX and a .txt whose text passes 5,000,000 characters.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { constants, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './harness.ts';
import { person, type Person } from './org-fixtures.ts';
import { DOCX_TYPE, gql, makeDocx, makePdf, upload, uploadGraphql, uploadRest, type UploadFile } from './knowledge-fixtures.ts';
import { coded } from './assertions.ts';

const UNREADABLE = coded('document_unreadable', 'Text could not be extracted from the document');
const TOO_LARGE = coded('document_too_large', "The document's text exceeds the limit", { max_chars: 5_000_000 });
/** A GraphQL error of `uploadKnowledgeDocument`. */
const gqlError = (code: string, status: number, message: string, extra: Record<string, unknown> = {}) => ({
  status: 200,
  body: { errors: [{ message, path: ['uploadKnowledgeDocument'], extensions: { code, status, ...extra, serviceName: 'knowledge' } }], data: null },
});
const GQL_UNREADABLE = gqlError('DOCUMENT_UNREADABLE', 400, 'Text could not be extracted from the document');
const GQL_TOO_LARGE = gqlError('DOCUMENT_TOO_LARGE', 413, "The document's text exceeds the limit", { max_chars: 5_000_000 });
/** Each health check must answer within this while a hostile file is parsed (generous: not a benchmark). */
const HEALTH_BOUND_MS = 2_000;

// ---------------------------------------------------------------------------------------------
// Hostile files.

const SENTENCE = 'The quick brown fox jumps over the lazy dog and keeps running through the field. ';

/** A DOCX whose `word/document.xml` is `mb` MB of short paragraphs (deflated: about 3.4 KB per MB). */
function paragraphsDocx(mb: number, declaredDocumentSize?: number): Buffer {
  const paragraphs = Array.from({ length: Math.ceil((mb * 1e6) / 133) }, () => ({ text: SENTENCE }));
  return makeDocx(paragraphs, { deflate: true, declaredDocumentSize });
}

/** A DOCX with `chars` characters of text in paragraphs of 2,000 (deflated: a few KB). */
function longTextDocx(chars: number): Buffer {
  const para = SENTENCE.repeat(Math.ceil(2_000 / SENTENCE.length)).slice(0, 2_000).trim();
  return makeDocx(Array.from({ length: Math.ceil(chars / para.length) }, () => ({ text: para })), { deflate: true });
}

/**
 * A zlib stream of `mib` MiB of zeros, without ever holding them: one fully flushed deflate block
 * of 1 MiB repeated, a final empty block, and the Adler-32 of n zeros ((n mod 65521) << 16 | 1).
 */
function zerosZlib(mib: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_FULL_FLUSH });
  const n = mib * (1 << 20);
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((n % 65521) << 16) | 1) >>> 0);
  return Buffer.concat([Buffer.from([0x78, 0x9c]), ...Array.from({ length: mib }, () => block), Buffer.from([0x03, 0x00]), adler]);
}

/** A one-page PDF whose content stream is `stream` under `filter` (default FlateDecode). */
function pdfWithContent(stream: Buffer, filter = '/FlateDecode'): Buffer {
  const objects = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>'),
    Buffer.concat([Buffer.from(`<< /Length ${stream.length} /Filter ${filter} >>\nstream\n`), stream, Buffer.from('\nendstream')]),
  ];
  const parts = [Buffer.from('%PDF-1.4\n')];
  let offset = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  for (const [i, body] of objects.entries()) {
    offsets.push(offset);
    const obj = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    parts.push(obj);
    offset += obj.length;
  }
  const xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${offset}\n%%EOF\n`));
  return Buffer.concat(parts);
}

const DOCX_BOMB: UploadFile = { name: 'bomb.docx', type: DOCX_TYPE, bytes: paragraphsDocx(50) };
/** The same 50 MB, but the headers declare 4 KB: only inflating (bounded) finds out. */
const LYING_DOCX_BOMB: UploadFile = { name: 'liar.docx', type: DOCX_TYPE, bytes: paragraphsDocx(50, 4_096) };
const PDF_BOMB: UploadFile = { name: 'zeros.pdf', type: 'application/pdf', bytes: pdfWithContent(zerosZlib(1024)) };
/**
 * 1 GiB again, its Flate data hex-encoded first: no check before parsing can size it, so the
 * worker's memory watchdog is what stops it.
 */
const HIDDEN_PDF_BOMB: UploadFile = { name: 'hex.pdf', type: 'application/pdf', bytes: pdfWithContent(Buffer.from(`${zerosZlib(1024).toString('hex')}>`), '[/ASCIIHexDecode /FlateDecode]') };
const LONG_DOCX: UploadFile = { name: 'long.docx', type: DOCX_TYPE, bytes: longTextDocx(5_100_000) };

// ---------------------------------------------------------------------------------------------
// Health probing.

/**
 * Runs `work` while checking `/api/health` every 50 ms; returns its result and each check's
 * latency (every check must be a 200).
 */
async function whileProbingHealth<T>(base: string, work: () => Promise<T>): Promise<{ result: T; latencies: number[] }> {
  const latencies: number[] = [];
  let done = false;
  const probe = (async () => {
    while (!done) {
      const start = performance.now();
      const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(30_000) });
      const text = await res.text();
      latencies.push(performance.now() - start);
      expect({ status: res.status, text }).toEqual({ status: 200, text: '{"status":"ok"}' });
      await sleep(50);
    }
  })();
  try {
    return { result: await work(), latencies };
  } finally {
    done = true;
    await probe;
  }
}

function expectPromptHealth(latencies: number[]): void {
  expect(latencies.length).toBeGreaterThan(0);
  expect(Math.max(...latencies)).toBeLessThan(HEALTH_BOUND_MS);
}

async function documentCount(base: string, p: Person): Promise<number> {
  const res = await gql(base, p.access, '{ knowledgeDocuments { total } }');
  return (res.body.data?.knowledgeDocuments as { total: number }).total;
}

// ---------------------------------------------------------------------------------------------

describe('hostile uploads with the default parser budget', () => {
  let t: TestStack;
  let mallory: Person;
  beforeAll(async () => {
    t = await startTestStack();
    mallory = await person(t, 'mallory');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the hostile files are what they claim: small on the wire', () => {
    expect(DOCX_BOMB.bytes.length).toBeLessThan(400_000);
    expect(LYING_DOCX_BOMB.bytes.length).toBeLessThan(400_000);
    expect(PDF_BOMB.bytes.length).toBeLessThan(1_200_000);
    expect(HIDDEN_PDF_BOMB.bytes.length).toBeLessThan(2_400_000);
    expect(LONG_DOCX.bytes.length).toBeLessThan(400_000);
  });

  it.each([
    ['a DOCX whose document.xml inflates to 50 MB', DOCX_BOMB],
    ['a DOCX whose headers hide that its document.xml inflates to 50 MB', LYING_DOCX_BOMB],
    ['a PDF whose one Flate stream inflates to 1 GiB', PDF_BOMB],
    ['a PDF whose 1 GiB Flate stream is hex-encoded first', HIDDEN_PDF_BOMB],
  ])('REST: %s is 400 document_unreadable, and health answers promptly meanwhile', async (_label, file) => {
    const { result, latencies } = await whileProbingHealth(t.url, () => uploadRest(t.url, mallory.access, file));
    expect({ status: result.status, body: result.body }).toEqual({ status: 400, body: UNREADABLE });
    expectPromptHealth(latencies);
  });

  it('REST: a DOCX of 5,100,000 characters is 413 document_too_large, and health answers promptly meanwhile', async () => {
    const { result, latencies } = await whileProbingHealth(t.url, () => uploadRest(t.url, mallory.access, LONG_DOCX));
    expect({ status: result.status, body: result.body }).toEqual({ status: 413, body: TOO_LARGE });
    expectPromptHealth(latencies);
  });

  it('REST: a .txt of 5,000,001 characters is 413 document_too_large; one of exactly 5,000,000 is not refused for its length', async () => {
    const trent = await person(t, 'trent');
    const over = await uploadRest(t.url, trent.access, { name: 'over.txt', type: 'text/plain', bytes: 'a'.repeat(5_000_001) });
    expect({ status: over.status, body: over.body }).toEqual({ status: 413, body: TOO_LARGE });
    // Exactly at the limit, as words, so that chunking and indexing stay cheap for the test.
    const words = 'word '.repeat(1_000_000).trim() + 'x';
    expect(words.length).toBe(5_000_000);
    const { result, latencies } = await whileProbingHealth(t.url, () => uploadRest(t.url, trent.access, { name: 'limit.txt', type: 'text/plain', bytes: words }));
    expect(result.status).toBe(201);
    expectPromptHealth(latencies);
  });

  it('GraphQL: the DOCX and PDF bombs are DOCUMENT_UNREADABLE, the long DOCX DOCUMENT_TOO_LARGE, with health prompt meanwhile', async () => {
    for (const [file, expected] of [
      [DOCX_BOMB, GQL_UNREADABLE],
      [PDF_BOMB, GQL_UNREADABLE],
      [LONG_DOCX, GQL_TOO_LARGE],
    ] as const) {
      const { result, latencies } = await whileProbingHealth(t.url, () => uploadGraphql(t.url, mallory.access, { file }));
      expect(result).toEqual(expected);
      expectPromptHealth(latencies);
    }
  });

  it('several bombs at once, from two users: each refused, health prompt, nothing stored', async () => {
    const eve = await person(t, 'eve');
    const { result, latencies } = await whileProbingHealth(t.url, () =>
      Promise.all([
        uploadRest(t.url, mallory.access, DOCX_BOMB),
        uploadRest(t.url, eve.access, PDF_BOMB),
        uploadRest(t.url, mallory.access, LYING_DOCX_BOMB),
        uploadRest(t.url, eve.access, LONG_DOCX),
      ]),
    );
    expect(result.map((r) => ({ status: r.status, body: r.body }))).toEqual([
      { status: 400, body: UNREADABLE },
      { status: 400, body: UNREADABLE },
      { status: 400, body: UNREADABLE },
      { status: 413, body: TOO_LARGE },
    ]);
    expectPromptHealth(latencies);
    expect([await documentCount(t.url, mallory), await documentCount(t.url, eve)]).toEqual([0, 0]);
  });

  it('afterwards the server still parses real documents: a DOCX and a PDF are stored and found', async () => {
    const docx = await upload(t.url, mallory.access, { name: 'after.docx', bytes: makeDocx([{ text: 'Aftermath', heading: 1 }, { text: 'The parser recovered from zanzibar.' }], { deflate: true }) });
    const pdf = await upload(t.url, mallory.access, { name: 'after.pdf', bytes: makePdf([['Quokkas live on Rottnest Island.']]) });
    expect([docx.chunk_count, pdf.chunk_count]).toEqual([1, 1]);
    const found = await t.rest('POST', '/api/knowledge/search', { json: { query: 'zanzibar' }, headers: { authorization: `Bearer ${mallory.access}` } });
    expect(found.status).toBe(200);
    expect((found.body as { results: { document_id: string }[] }).results.map((r) => r.document_id)).toEqual([docx.id]);
    expect(await documentCount(t.url, mallory)).toBe(2);
  });
});

describe('a parse that outlives its time budget', () => {
  let t: TestStack;
  let mallory: Person;
  beforeAll(async () => {
    // Memory to spare, so that the time budget is what stops the parse.
    t = await startTestStack({ env: { KNOWLEDGE_PARSE_TIMEOUT_MS: '1000', KNOWLEDGE_PARSE_MEMORY_MB: '1024' } });
    mallory = await person(t, 'mallory');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is stopped and refused as 400 document_unreadable, health stays prompt, and the next upload works', async () => {
    // 12 MB of one-letter paragraphs: within the archive's bounds, but mammoth needs far more than 1 s.
    const slow: UploadFile = { name: 'slow.docx', type: DOCX_TYPE, bytes: makeDocx(Array.from({ length: 220_000 }, () => ({ text: 'x' })), { deflate: true }) };
    const started = performance.now();
    const { result, latencies } = await whileProbingHealth(t.url, () => uploadRest(t.url, mallory.access, slow));
    expect({ status: result.status, body: result.body }).toEqual({ status: 400, body: UNREADABLE });
    expect(performance.now() - started).toBeLessThan(15_000);
    expectPromptHealth(latencies);
    const doc = await upload(t.url, mallory.access, { name: 'fine.docx', bytes: makeDocx([{ text: 'A fresh worker parses this one.' }]) });
    expect(doc.chunk_count).toBe(1);
  });
});
