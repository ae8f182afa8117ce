/**
 * Fixtures of the knowledge suites (§3.3, §4.10): tiny but valid PDF and DOCX files written
 * by hand (so no fixture binary is committed and every byte is known), uploads through REST
 * multipart (KB-3) and through GraphQL (`uploadKnowledgeDocument` with base64 content), and the
 * wire shapes the suites assert against. Helpers take a gateway base URL so the benchmark can use
 * them too.
 */
import { crc32, deflateRawSync, deflateSync } from 'node:zlib';

export const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

// ---------------------------------------------------------------------------------------------
// PDF 1.4, uncompressed, Helvetica: one content stream per page, one text line per entry.

/** A string as a PDF literal string: `(`…`)` with `\`, `(` and `)` escaped. */
function pdfString(s: string): string {
  return `(${s.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/**
 * A minimal valid PDF: `pages[i]` is the lines of page i. Catalog, page tree, one Helvetica Type1
 * font, a page object and a compressed content stream per page, and an xref table with exact
 * byte offsets.
 * Text must be Latin-1 (it is written as such).
 */
export function makePdf(pages: string[][]): Buffer {
  if (pages.length === 0) throw new Error('a PDF needs at least one page');
  const objects: Buffer[] = [];
  const pageIds = pages.map((_, i) => 4 + i * 2);
  objects.push(Buffer.from('<< /Type /Catalog /Pages 2 0 R >>', 'latin1'));
  objects.push(Buffer.from(`<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} >>`, 'latin1'));
  objects.push(Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>', 'latin1'));
  for (const [i, lines] of pages.entries()) {
    const contentId = 5 + i * 2;
    objects.push(
      Buffer.from(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contentId} 0 R >>`, 'latin1'),
    );
    const text = lines.map((l) => `${pdfString(l)} Tj`).join(' T* ');
    // Compressed as PDF writers do (FlateDecode), so extraction goes through pdf.js's decoder.
    const stream = deflateSync(Buffer.from(`BT /F1 12 Tf 72 720 Td 14 TL ${text} ET`, 'latin1'));
    objects.push(Buffer.concat([Buffer.from(`<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`, 'latin1'), stream, Buffer.from('\nendstream', 'latin1')]));
  }
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  for (const [i, body] of objects.entries()) {
    offsets.push(offset);
    const obj = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), body, Buffer.from('\nendobj\n', 'latin1')]);
    parts.push(obj);
    offset += obj.length;
  }
  const xref = [`xref\n0 ${objects.length + 1}\n`, '0000000000 65535 f \n', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join('');
  const trailer = `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${offset}\n%%EOF\n`;
  parts.push(Buffer.from(xref + trailer, 'latin1'));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// DOCX: a ZIP (stored or deflated entries) with the three parts Word processors need.

function xmlEscape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

/** An entry of `makeZip`. */
export interface ZipEntryInput {
  name: string;
  data: Buffer;
  /** Deflate the entry (default: stored, no compression). */
  deflate?: boolean;
  /** The uncompressed size the headers declare (default: the true one; a lie tests the parser). */
  declaredSize?: number;
}

/** A header field: its size in bytes and its value. */
type Field = [bytes: 2 | 4, value: number];

/** `fields` one after another, little-endian. */
function littleEndian(fields: Field[]): Buffer {
  const buf = Buffer.alloc(fields.reduce((n, [bytes]) => n + bytes, 0));
  let at = 0;
  for (const [bytes, value] of fields) at = bytes === 2 ? buf.writeUInt16LE(value, at) : buf.writeUInt32LE(value, at);
  return buf;
}

/** A ZIP archive, written by hand. */
export function makeZip(entries: ZipEntryInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  // 1980-01-01 00:00:00 in DOS format.
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  for (const { name, data: raw, deflate = false, declaredSize = raw.length } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(raw);
    const data = deflate ? deflateRawSync(raw) : raw;
    const method = deflate ? 8 : 0;
    // The fields the local and the central header share, in the same order.
    const shared: Field[] = [
      [2, 20], // version needed
      [2, 0x0800], // flags: UTF-8 names
      [2, method],
      [2, dosTime],
      [2, dosDate],
      [4, crc],
      [4, data.length],
      [4, declaredSize],
      [2, nameBytes.length],
    ];
    const local = littleEndian([[4, 0x04034b50], ...shared, [2, 0]]); // no extra field
    locals.push(local, nameBytes, data);

    // Version made by, the shared fields, no extra field, comment, disk or attributes, and where the local header starts.
    const central = littleEndian([[4, 0x02014b50], [2, 20], ...shared, [2, 0], [2, 0], [2, 0], [2, 0], [4, 0], [4, offset]]);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = littleEndian([[4, 0x06054b50], [2, 0], [2, 0], [2, entries.length], [2, entries.length], [4, cd.length], [4, offset], [2, 0]]);
  return Buffer.concat([...locals, cd, end]);
}

const CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`;

const ROOT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`;

/** How `makeDocx` writes its archive. */
export interface DocxOptions {
  /** Deflate the parts, as Word does (default: stored). */
  deflate?: boolean;
  /** The size `word/document.xml` declares (default: its true size). */
  declaredDocumentSize?: number;
}

/** A minimal DOCX: one `w:p` per paragraph, headings styled `Heading1`..`Heading3`. */
export function makeDocx(paragraphs: { text: string; heading?: 1 | 2 | 3 }[], opts: DocxOptions = {}): Buffer {
  const body = paragraphs
    .map((p) => {
      const style = p.heading ? `<w:pPr><w:pStyle w:val="Heading${p.heading}"/></w:pPr>` : '';
      return `<w:p>${style}<w:r><w:t xml:space="preserve">${xmlEscape(p.text)}</w:t></w:r></w:p>`;
    })
    .join('');
  const document = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`;
  const deflate = opts.deflate ?? false;
  return makeZip([
    { name: '[Content_Types].xml', data: Buffer.from(CONTENT_TYPES, 'utf8'), deflate },
    { name: '_rels/.rels', data: Buffer.from(ROOT_RELS, 'utf8'), deflate },
    { name: 'word/document.xml', data: Buffer.from(document, 'utf8'), deflate, declaredSize: opts.declaredDocumentSize },
  ]);
}

// ---------------------------------------------------------------------------------------------
// Wire shapes.

/** `RagDocument` (KB-2, KB-3). */
export interface RagDocumentBody {
  id: string;
  title: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  scope: 'user' | 'conversation';
  conversation_id: string | null;
  shared: boolean;
  organization_id: string | null;
  owner_id: string;
  chunk_count: number;
  created_at: string;
}

/** `KnowledgeSearchResultItem` (KB-1). */
export interface SearchItemBody {
  document_id: string;
  title: string;
  chunk_index: number;
  content: string;
  score: number;
  scope: string;
  conversation_id: string | null;
  shared: boolean;
}

/** `RagQueryResponse` (KB-4). */
export interface RagQueryBody {
  answer: string;
  sources: { document_id: string; title: string; chunk_index: number; content: string; score: number }[];
  provider: string;
  model: string;
}

/** The GraphQL `KnowledgeDocument` fields (every scalar one plus `owner { id }`). */
export const DOCUMENT_FIELDS = 'id title filename contentType sizeBytes scope conversationId shared organizationId ownerId owner { id } chunkCount createdAt';

/** GraphQL `KnowledgeDocument` as selected by DOCUMENT_FIELDS. */
export interface KnowledgeDocumentGql {
  id: string;
  title: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  scope: 'USER' | 'CONVERSATION';
  conversationId: string | null;
  shared: boolean;
  organizationId: string | null;
  ownerId: string;
  owner: { id: string };
  chunkCount: number;
  createdAt: string;
}

// ---------------------------------------------------------------------------------------------
// Calls.

export interface UploadFile {
  name: string;
  /** The part's Content-Type; omitted → no type on the part (the extension decides). */
  type?: string;
  bytes: Buffer | string;
}

export type Credentials = string | Record<string, string>;

const authHeaders = (c: Credentials): Record<string, string> => (typeof c === 'string' ? { authorization: `Bearer ${c}` } : c);

function parse(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    return text;
  }
}

/**
 * KB-3: a multipart upload of `file` with `fields` (booleans as `true`/`false`). `credentials` is a
 * bearer token or whole headers (e.g. `{ 'x-api-key': … }`).
 */
export async function uploadRest(
  base: string,
  credentials: Credentials,
  file: UploadFile,
  fields: Record<string, string | boolean> = {},
): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const form = new FormData();
  const bytes = typeof file.bytes === 'string' ? Buffer.from(file.bytes, 'utf8') : file.bytes;
  // A Blob without a type sends the part without a Content-Type header.
  form.append('file', new Blob([bytes], file.type === undefined ? {} : { type: file.type }), file.name);
  for (const [k, v] of Object.entries(fields)) form.append(k, String(v));
  const res = await fetch(`${base}/api/knowledge/documents`, { method: 'POST', headers: authHeaders(credentials), body: form, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: parse(text), text };
}

export interface GqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown>; path?: (string | number)[] }[];
}

/** A GraphQL POST to the gateway with a bearer token (or whole headers). */
export async function gql(base: string, credentials: Credentials, query: string, variables: Record<string, unknown> = {}): Promise<{ status: number; body: GqlBody }> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders(credentials) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as GqlBody };
}

export interface GqlUploadInput {
  file: UploadFile;
  title?: string;
  scope?: 'USER' | 'CONVERSATION';
  conversationId?: string;
  shared?: boolean;
  organizationId?: string;
  uploadId?: string;
}

export const UPLOAD_MUTATION = `mutation Upload($input: UploadDocumentInput!) { uploadKnowledgeDocument(input: $input) { document { ${DOCUMENT_FIELDS} } } }`;

/** `uploadKnowledgeDocument` with the file base64-encoded in JSON. */
export async function uploadGraphql(base: string, credentials: Credentials, input: GqlUploadInput): Promise<{ status: number; body: GqlBody }> {
  const { file, ...rest } = input;
  const bytes = typeof file.bytes === 'string' ? Buffer.from(file.bytes, 'utf8') : file.bytes;
  const fileInput = { filename: file.name, ...(file.type === undefined ? {} : { contentType: file.type }), contentBase64: bytes.toString('base64') };
  return gql(base, credentials, UPLOAD_MUTATION, { input: { ...rest, file: fileInput } });
}

/** KB-3 that must succeed (201); returns the document. */
export async function upload(base: string, credentials: Credentials, file: UploadFile, fields: Record<string, string | boolean> = {}): Promise<RagDocumentBody> {
  const res = await uploadRest(base, credentials, file, fields);
  if (res.status !== 201) throw new Error(`upload of ${file.name} failed: ${res.status} ${res.text}`);
  return res.body as RagDocumentBody;
}

/** A `.txt` file with `text`. */
export const txt = (name: string, text: string): UploadFile => ({ name: `${name}.txt`, type: 'text/plain', bytes: text });

// ---------------------------------------------------------------------------------------------
// Raw multipart bodies, for tests that need parts a FormData cannot express.

/** A multipart part; no `type` (or null) sends no Content-Type header. */
export interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  type?: string | null;
}

export const BOUNDARY = 'xentree-test-boundary';

/** `parts` as a multipart/form-data body delimited by `BOUNDARY`. */
export function multipart(parts: Part[]): Buffer {
  return Buffer.concat([
    ...parts.flatMap((p) => [
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`),
      Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value),
      Buffer.from('\r\n'),
    ]),
    Buffer.from(`--${BOUNDARY}--\r\n`),
  ]);
}
