/**
 * The knowledge base end to end (§3.3 KB-1..3, §4.10) through the gateway: every accepted
 * file type uploaded through REST multipart and through GraphQL, each found afterwards by a word
 * of its body and by a misspelling of it; ranking; GraphQL highlights; the exact document shapes;
 * chunking of long texts (size, overlap, nothing lost).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestStack, type TestStack } from './harness.ts';
import { person, type Person } from './org-fixtures.ts';
import {
  DOCUMENT_FIELDS,
  DOCX_TYPE,
  gql,
  makeDocx,
  makePdf,
  makeZip,
  txt,
  upload,
  uploadGraphql,
  uploadRest,
  type KnowledgeDocumentGql,
  type RagDocumentBody,
  type SearchItemBody,
  type UploadFile,
} from './knowledge-fixtures.ts';
import { ok, TIMESTAMP, UUID_V4 } from './assertions.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
});

afterAll(async () => {
  await t?.close();
});

/** KB-1 as `p`. */
async function search(p: Person, json: Record<string, unknown>): Promise<{ query: string; results: SearchItemBody[] }> {
  return ok(await t.rest('POST', '/api/knowledge/search', { json, headers: bearer(p.access) }), 200);
}

const HIT_FIELDS = `documentId document { id title } title chunkIndex content highlight score scope conversationId shared`;
const SEARCH = `query Search($input: KnowledgeSearchInput!) { knowledgeSearch(input: $input) { query results { ${HIT_FIELDS} } } }`;

interface HitGql {
  documentId: string;
  document: { id: string; title: string };
  title: string;
  chunkIndex: number;
  content: string;
  highlight: string;
  score: number;
  scope: string;
  conversationId: string | null;
  shared: boolean;
}

/** `knowledgeSearch` as `p`; fails on GraphQL errors. */
async function searchGql(p: Person, input: Record<string, unknown>): Promise<{ query: string; results: HitGql[] }> {
  const res = await gql(t.url, p.access, SEARCH, { input });
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data?.knowledgeSearch as { query: string; results: HitGql[] };
}

/** A score as the contract allows it: in (0, 1]. */
const SCORE = expect.toSatisfy((s: unknown) => typeof s === 'number' && s > 0 && s <= 1);

interface Case {
  label: string;
  file: UploadFile;
  contentType: string;
  /** The single chunk's text: the extracted text with whitespace collapsed. */
  content: string;
  /** A word of the body (not of the title) and a misspelling of it. */
  word: string;
  misspelled: string;
}

const CASES: Case[] = [
  {
    label: 'text (.txt)',
    file: { name: 'plants.txt', type: 'text/plain', bytes: 'Green plants rely on photosynthesis to turn sunlight into sugar.\n\n  Chlorophyll   absorbs light.\n' },
    contentType: 'text/plain',
    content: 'Green plants rely on photosynthesis to turn sunlight into sugar. Chlorophyll absorbs light.',
    word: 'photosynthesis',
    misspelled: 'photosyntesis',
  },
  {
    label: 'markdown (.md)',
    file: { name: 'cells.md', type: 'text/markdown', bytes: '# Cell biology\n\nThe mitochondria produce\nenergy for the cell.\n' },
    contentType: 'text/markdown',
    content: 'Cell biology The mitochondria produce energy for the cell.',
    word: 'mitochondria',
    misspelled: 'mitocondria',
  },
  {
    label: 'markdown (.markdown, type from the extension)',
    file: { name: 'rivers.markdown', type: 'application/octet-stream', bytes: 'Rivers\n======\n\nA meandering river deposits sediment on its floodplain.\n' },
    contentType: 'text/markdown',
    content: 'Rivers A meandering river deposits sediment on its floodplain.',
    word: 'sediment',
    misspelled: 'sedimant',
  },
  {
    label: 'PDF (two pages)',
    file: {
      name: 'islands.pdf',
      type: 'application/pdf',
      bytes: makePdf([['Volcanic survey notes', 'The archipelago contains seven islands.'], ['Page two mentions basalt (columnar) cliffs.']]),
    },
    contentType: 'application/pdf',
    content: 'Volcanic survey notes The archipelago contains seven islands. Page two mentions basalt (columnar) cliffs.',
    word: 'archipelago',
    misspelled: 'archipelgo',
  },
  {
    label: 'DOCX (type from the extension)',
    file: {
      name: 'heat.docx',
      bytes: makeDocx([{ text: 'Thermodynamics primer', heading: 1 }, { text: 'Entropy always increases in an isolated system.' }, { text: 'Heat flows & energy <spreads>.' }]),
    },
    contentType: DOCX_TYPE,
    content: 'Thermodynamics primer Entropy always increases in an isolated system. Heat flows & energy <spreads>.',
    word: 'entropy',
    misspelled: 'entrophy',
  },
];

const sizeOf = (f: UploadFile): number => (typeof f.bytes === 'string' ? Buffer.byteLength(f.bytes) : f.bytes.length);
const stem = (name: string): string => name.replace(/\.[^.]+$/, '');

describe.each(CASES)('a $label upload', (c) => {
  it('through REST is stored, listed and found by a body word and by a misspelling of it', async () => {
    const alice = await person(t, 'kb_rest');
    const res = await uploadRest(t.url, alice.access, c.file);
    const doc: RagDocumentBody = {
      id: expect.stringMatching(UUID_V4),
      title: stem(c.file.name),
      filename: c.file.name,
      content_type: c.contentType,
      size_bytes: sizeOf(c.file),
      scope: 'user',
      conversation_id: null,
      shared: false,
      organization_id: null,
      owner_id: alice.id,
      chunk_count: 1,
      created_at: expect.stringMatching(TIMESTAMP),
    };
    expect({ status: res.status, body: res.body }).toEqual({ status: 201, body: doc });
    const created = res.body as RagDocumentBody;

    const list = await t.rest('GET', '/api/knowledge/documents', { headers: bearer(alice.access) });
    expect({ status: list.status, body: list.body }).toEqual({ status: 200, body: { items: [created], total: 1, limit: 20, offset: 0 } });

    const hit: SearchItemBody = {
      document_id: created.id,
      title: stem(c.file.name),
      chunk_index: 0,
      content: c.content,
      score: SCORE,
      scope: 'user',
      conversation_id: null,
      shared: false,
    };
    expect(await search(alice, { query: c.word })).toEqual({ query: c.word, results: [hit] });
    expect(await search(alice, { query: c.misspelled })).toEqual({ query: c.misspelled, results: [hit] });
    // A word the document does not contain (nor anything close to it) finds nothing.
    expect(await search(alice, { query: 'saxophone' })).toEqual({ query: 'saxophone', results: [] });
  });

  it('through GraphQL is stored and found by a body word and by a misspelling, with the match highlighted', async () => {
    const bob = await person(t, 'kb_gql');
    const res = await uploadGraphql(t.url, bob.access, { file: c.file, title: `Notes on ${c.word}` });
    const doc: KnowledgeDocumentGql = {
      id: expect.stringMatching(UUID_V4),
      title: `Notes on ${c.word}`,
      filename: c.file.name,
      contentType: c.contentType,
      sizeBytes: sizeOf(c.file),
      scope: 'USER',
      conversationId: null,
      shared: false,
      organizationId: null,
      ownerId: bob.id,
      owner: { id: bob.id },
      chunkCount: 1,
      createdAt: expect.stringMatching(TIMESTAMP),
    };
    expect(res).toEqual({ status: 200, body: { data: { uploadKnowledgeDocument: { document: doc } } } });
    const created = (res.body.data?.uploadKnowledgeDocument as { document: KnowledgeDocumentGql }).document;

    const one = await gql(t.url, bob.access, `query($id: ID!) { knowledgeDocument(id: $id) { ${DOCUMENT_FIELDS} } }`, { id: created.id });
    expect(one.body).toEqual({ data: { knowledgeDocument: created } });
    const page = await gql(t.url, bob.access, `{ knowledgeDocuments { items { ${DOCUMENT_FIELDS} } total limit offset } }`);
    expect(page.body).toEqual({ data: { knowledgeDocuments: { items: [created], total: 1, limit: 20, offset: 0 } } });

    for (const query of [c.word, c.misspelled]) {
      const found = await searchGql(bob, { query });
      expect(found).toEqual({
        query,
        results: [
          {
            documentId: created.id,
            document: { id: created.id, title: `Notes on ${c.word}` },
            title: `Notes on ${c.word}`,
            chunkIndex: 0,
            content: c.content,
            highlight: expect.any(String),
            score: SCORE,
            scope: 'USER',
            conversationId: null,
            shared: false,
          },
        ],
      });
      // The body's word (whatever its case there) is the one marked, even for the misspelled query.
      const highlight = found.results[0]?.highlight ?? '';
      expect(highlight.toLowerCase()).toContain(`<mark>${c.word}</mark>`);
      // The highlight is HTML: the passage's own text comes back escaped.
      const html = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
      expect(html(c.content)).toContain(highlight.replace(/<\/?mark>/g, '').replace(/^ … | … $/g, ''));
    }
  });
});

/** A GraphQL error of the knowledge subgraph for `uploadKnowledgeDocument`. */
const uploadError = (code: string, status: number, message: string, extra: Record<string, unknown> = {}) => ({
  status: 200,
  body: { errors: [{ message, path: ['uploadKnowledgeDocument'], extensions: { code, status, ...extra, serviceName: 'knowledge' } }], data: null },
});
const UNREADABLE = uploadError('DOCUMENT_UNREADABLE', 400, 'Text could not be extracted from the document');

describe('bad files through GraphQL', () => {
  it.each([
    ['a zero-byte file', { name: 'empty.txt', bytes: '' }, uploadError('EMPTY_FILE', 400, 'Uploaded file is empty')],
    ['a PDF that is not one', { name: 'fake.pdf', type: 'application/pdf', bytes: 'just some words, no PDF structure' }, UNREADABLE],
    ['a PDF without any text', { name: 'blank.pdf', bytes: makePdf([[]]) }, UNREADABLE],
    ['a ZIP that is not a Word document', { name: 'archive.docx', bytes: makeZip([{ name: 'readme.txt', data: Buffer.from('hello') }]) }, UNREADABLE],
    ['a DOCX whose paragraphs are empty', { name: 'blank.docx', bytes: makeDocx([{ text: ' ' }, { text: '' }]) }, UNREADABLE],
    ['a .txt that is not UTF-8 text', { name: 'binary.txt', bytes: Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x00]) }, UNREADABLE],
    [
      'an image',
      { name: 'photo.png', type: 'image/png', bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47]) },
      uploadError('UNSUPPORTED_MEDIA_TYPE', 415, 'Unsupported file type', { accepted: ['text/plain', 'text/markdown', 'application/pdf', DOCX_TYPE] }),
    ],
  ] as const)('%s is refused with the exact error, and nothing is stored', async (_label, file, expected) => {
    const p = await person(t, 'kb_bad');
    expect(await uploadGraphql(t.url, p.access, { file })).toEqual(expected);
    const page = await gql(t.url, p.access, '{ knowledgeDocuments { total } }');
    expect(page.body).toEqual({ data: { knowledgeDocuments: { total: 0 } } });
  });
});

describe('ranking', () => {
  it('puts a document about the term (title and many mentions) above one that mentions it once, whatever their age', async () => {
    const p = await person(t, 'kb_rank');
    // The stronger document is the older one, so only the score can put it first.
    const strong = await upload(
      t.url,
      p.access,
      txt('guide', 'Volcano basics. A volcano erupts when magma rises. Every volcano has a vent, and an active volcano may erupt again.'),
      { title: 'Volcano field guide' },
    );
    const weak = await upload(t.url, p.access, txt('diary', 'We visited a museum, ate pasta, and saw a volcano from the train window before reaching the coast.'), {
      title: 'Travel diary',
    });
    await upload(t.url, p.access, txt('unrelated', 'Quarterly budget figures for the marketing department.'));

    const rest = await search(p, { query: 'volcano' });
    expect(rest.results.map((r) => [r.document_id, r.title])).toEqual([
      [strong.id, 'Volcano field guide'],
      [weak.id, 'Travel diary'],
    ]);
    expect(rest.results[0]?.score).toBeGreaterThan(rest.results[1]?.score ?? 1);

    const viaGql = await searchGql(p, { query: 'volcanoes' });
    expect(viaGql.results.map((r) => r.documentId)).toEqual([strong.id, weak.id]);
    expect(viaGql.results[1]?.highlight).toContain('<mark>volcano</mark>');

    // top_k bounds the results to the best ones.
    expect((await search(p, { query: 'volcano', top_k: 1 })).results.map((r) => r.document_id)).toEqual([strong.id]);
  });

  it('ranks a heading mention above a body mention (DOCX headings, Markdown headings)', async () => {
    const p = await person(t, 'kb_head');
    const heading = await upload(t.url, p.access, {
      name: 'glaciers.docx',
      type: DOCX_TYPE,
      bytes: makeDocx([{ text: 'Glacier retreat', heading: 2 }, { text: 'Ice sheets shrink as summers lengthen and snowfall declines.' }]),
    }, { title: 'Field notes one' });
    const body = await upload(
      t.url,
      p.access,
      { name: 'hiking.md', type: 'text/markdown', bytes: '# Hiking log\n\nWe walked past a glacier and stopped for lunch at the hut.\n' },
      { title: 'Field notes two' },
    );
    expect((await search(p, { query: 'glacier' })).results.map((r) => r.document_id)).toEqual([heading.id, body.id]);
  });
});

/** Sentences that each carry a unique number, so any two stretches of the text differ. */
function catalogue(entries: number): string {
  let text = '';
  for (let i = 0; i < entries; i++) {
    // Paragraph breaks every fifth entry, ragged spacing elsewhere: the index collapses both.
    text += `Entry ${i + 1} of the quasar catalogue lists magnitude ${(i * 37) % 101} at epoch ${2000 + i}.` + (i % 5 === 4 ? '\n\n' : '  ');
  }
  return text;
}

describe('chunking', () => {
  it('cuts a long text into overlapping chunks of at most 1,000 chars that together hold the whole text', async () => {
    const p = await person(t, 'kb_chunk');
    const raw = catalogue(60);
    const collapsed = raw.replace(/\s+/g, ' ').trim();
    expect(collapsed.length).toBeGreaterThan(4000);
    const doc = await upload(t.url, p.access, txt('catalogue', raw));
    expect(doc.chunk_count).toBeGreaterThan(4);

    const found = await search(p, { query: 'quasar', top_k: 50 });
    const chunks = [...found.results].sort((a, b) => a.chunk_index - b.chunk_index);
    expect(chunks.map((c) => [c.document_id, c.chunk_index])).toEqual(Array.from({ length: doc.chunk_count }, (_, i) => [doc.id, i]));

    let rebuilt = chunks[0]?.content ?? '';
    for (const [i, chunk] of chunks.entries()) {
      expect(chunk.content.length).toBeLessThanOrEqual(1000);
      if (i < chunks.length - 1) expect(chunk.content.length).toBeGreaterThan(500);
      if (i === 0) continue;
      // The longest end of the previous chunk that starts this one: the overlap.
      const prev = chunks[i - 1]?.content ?? '';
      let overlap = 0;
      for (let k = Math.min(prev.length, chunk.content.length); k > 0; k--) {
        if (prev.endsWith(chunk.content.slice(0, k))) {
          overlap = k;
          break;
        }
      }
      expect(overlap).toBeGreaterThan(150);
      expect(overlap).toBeLessThanOrEqual(200);
      rebuilt += chunk.content.slice(overlap);
    }
    expect(rebuilt).toBe(collapsed);
  });
});
