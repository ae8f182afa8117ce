/**
 * Knowledge Base through REST, KB-1..4 (§3.3, §4.10): exact statuses and whole bodies of the
 * multipart upload (FastAPI 422 shapes, 413/415/400/403/404), the document list with its envelope
 * and filters, search, and RAG with the offline `local` provider. Multipart bodies are built by
 * hand where a part must lack a Content-Type (fetch's FormData always sends one).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { as, addMember, apiKey, createKey, createOrg, person, scopeMissing, type Person } from './org-fixtures.ts';
import { createConversation } from './chat-fixtures.ts';
import { BOUNDARY, DOCX_TYPE, makeDocx, makePdf, multipart, txt, upload, uploadRest, type Part, type RagDocumentBody, type RagQueryBody, type SearchItemBody } from './knowledge-fixtures.ts';
import { coded, notFoundBody, TIMESTAMP, UUID_V4, wire } from './assertions.ts';

const t = useTestStack();
let alice: Person;
let bob: Person;
beforeAll(async () => {
  [alice, bob] = await Promise.all([person(t, 'alice'), person(t, 'bob')]);
});

const DOCS = '/api/knowledge/documents';
const MAX = 10_485_760;
const ACCEPTED = ['text/plain', 'text/markdown', 'application/pdf', DOCX_TYPE];
const FILE_TOO_LARGE = coded('file_too_large', 'File exceeds the 10 MB limit', { max_bytes: MAX });
const UNSUPPORTED = coded('unsupported_media_type', 'Unsupported file type', { accepted: ACCEPTED });
const missing = (field: string) => ({ type: 'missing', loc: ['body', field], msg: 'Field required', input: null });
const uuidParsing = (loc: string[], input: string, found: string) => {
  const error = `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${found}\` at 1`;
  return { type: 'uuid_parsing', loc, msg: `Input should be a valid UUID, ${error}`, input, ctx: { error } };
};
const boolParsing = (loc: string[], input: string) => ({ type: 'bool_parsing', loc, msg: 'Input should be a valid boolean, unable to interpret input', input });
const scopeEnum = (loc: string[], input: string) => ({ type: 'enum', loc, msg: "Input should be 'user' or 'conversation'", input, ctx: { expected: "'user' or 'conversation'" } });

async function postRaw(body: Buffer | string, contentType: string, headers: Record<string, string>): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(`${t.url}${DOCS}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : null };
}
const postParts = (parts: Part[], p: Person = alice) => postRaw(multipart(parts), `multipart/form-data; boundary=${BOUNDARY}`, bearer(p.access));
const filePart = (filename = 'notes.txt', value: string | Buffer = 'Some notes.', type: string | null = 'text/plain'): Part => ({ name: 'file', filename, value, type });

/** The RagDocument of a user-scoped, unshared .txt upload of `text`. */
const txtDocument = (owner: Person, filename: string, text: string, extra: Partial<RagDocumentBody> = {}): RagDocumentBody => ({
  id: expect.stringMatching(UUID_V4),
  title: filename.replace(/\.[^.]+$/, ''),
  filename,
  content_type: 'text/plain',
  size_bytes: Buffer.byteLength(text),
  scope: 'user',
  conversation_id: null,
  shared: false,
  organization_id: null,
  owner_id: owner.id,
  chunk_count: 1,
  created_at: expect.stringMatching(TIMESTAMP),
  ...extra,
});

describe('KB-3 POST /api/knowledge/documents', () => {
  it('stores a .txt: 201 with the whole RagDocument (title = file name without extension), under the `upload` policy', async () => {
    const text = 'The 28 tram climbs from Baixa through Alfama to Graça.';
    const res = await uploadRest(t.url, alice.access, txt('Lisbon trams', text));
    expect(wire(res)).toEqual({ status: 201, body: txtDocument(alice, 'Lisbon trams.txt', text) });
    expect([res.headers.get('ratelimit-policy'), res.headers.get('cache-control')]).toEqual(['"upload";q=100000;w=60', 'no-store']);
  });

  it('takes the type from the extension when the part has no Content-Type or application/octet-stream', async () => {
    const md = await postParts([filePart('guide.md', '# Guide\n\nHello there.', null)]);
    expect(md).toMatchObject({ status: 201, body: { filename: 'guide.md', content_type: 'text/markdown', title: 'guide' } });
    const pdf = await uploadRest(t.url, alice.access, { name: 'Report.pdf', type: 'application/octet-stream', bytes: makePdf([['Quarterly report page one.']]) });
    expect(pdf).toMatchObject({ status: 201, body: { filename: 'Report.pdf', content_type: 'application/pdf', title: 'Report' } });
    const docx = await uploadRest(t.url, alice.access, { name: 'Memo.docx', bytes: makeDocx([{ text: 'A memo about the offsite.' }]) });
    expect(docx).toMatchObject({ status: 201, body: { content_type: DOCX_TYPE, title: 'Memo' } });
  });

  it('takes title, conversation scope and form booleans (on/off/yes/no/1/0) from the form; ignores conversation_id for scope=user', async () => {
    const conv = await createConversation(t, alice);
    const inConv = await uploadRest(t.url, alice.access, txt('c', 'Conversation notes.'), { title: 'Trip plan', scope: 'conversation', conversation_id: conv.id, shared: 'off' });
    expect(wire(inConv)).toEqual({ status: 201, body: txtDocument(alice, 'c.txt', 'Conversation notes.', { title: 'Trip plan', scope: 'conversation', conversation_id: conv.id }) });
    const bobs = await createConversation(t, bob);
    const userScoped = await uploadRest(t.url, alice.access, txt('u', 'User notes.'), { scope: 'user', conversation_id: bobs.id, shared: 'no', title: '' });
    expect(wire(userScoped)).toEqual({ status: 201, body: txtDocument(alice, 'u.txt', 'User notes.') });
    const org = await createOrg(t, alice);
    for (const word of ['on', 'YES', '1', 'true']) {
      const res = await uploadRest(t.url, alice.access, txt('s', 'Shared notes.'), { shared: word, organization_id: org.id });
      expect({ status: res.status, shared: (res.body as RagDocumentBody).shared, org: (res.body as RagDocumentBody).organization_id }).toEqual({ status: 201, shared: true, org: org.id });
    }
  });

  describe('422 in FastAPI shapes', () => {
    it('a missing file, or a body that is not multipart: file "Field required"', async () => {
      expect(await postParts([{ name: 'title', value: 'No file' }])).toMatchObject({ status: 422, body: { detail: [missing('file')] } });
      const json = await postRaw(JSON.stringify({ file: 'x', title: 'T' }), 'application/json', bearer(alice.access));
      expect({ status: json.status, body: json.body }).toEqual({ status: 422, body: { detail: [missing('file')] } });
      const none = await postRaw('', 'text/plain', bearer(alice.access));
      expect({ status: none.status, body: none.body }).toEqual({ status: 422, body: { detail: [missing('file')] } });
      const broken = await postRaw('--nope\r\ngarbage', `multipart/form-data; boundary=${BOUNDARY}`, bearer(alice.access));
      expect({ status: broken.status, body: broken.body }).toEqual({ status: 422, body: { detail: [missing('file')] } });
    });

    it('a text value where the file belongs: value_error Expected UploadFile', async () => {
      const res = await postParts([{ name: 'file', value: 'just text' }]);
      expect({ status: res.status, body: res.body }).toEqual({
        status: 422,
        body: { detail: [{ type: 'value_error', loc: ['body', 'file'], msg: "Value error, Expected UploadFile, received: <class 'str'>", input: 'just text', ctx: { error: {} } }] },
      });
    });

    it('title over 200 characters, scope outside the enum, bad UUIDs and a non-boolean shared, all reported in field order', async () => {
      const res = await postParts([
        { name: 'organization_id', value: 'org' },
        { name: 'shared', value: 'maybe' },
        { name: 'conversation_id', value: 'nope' },
        { name: 'scope', value: 'team' },
        { name: 'title', value: 'x'.repeat(201) },
        filePart(),
      ]);
      expect({ status: res.status, body: res.body }).toEqual({
        status: 422,
        body: {
          detail: [
            { type: 'string_too_long', loc: ['body', 'title'], msg: 'String should have at most 200 characters', input: 'x'.repeat(201), ctx: { max_length: 200 } },
            scopeEnum(['body', 'scope'], 'team'),
            uuidParsing(['body', 'conversation_id'], 'nope', 'n'),
            boolParsing(['body', 'shared'], 'maybe'),
            uuidParsing(['body', 'organization_id'], 'org', 'o'),
          ],
        },
      });
    });
  });

  describe('413 and 415', () => {
    it('a file of 10,485,761 bytes: 413 file_too_large (one of 10,485,760 is not refused for its size)', async () => {
      const over = await uploadRest(t.url, alice.access, { name: 'big.exe', type: 'application/octet-stream', bytes: Buffer.alloc(MAX + 1, 0x61) });
      expect({ status: over.status, body: over.body }).toEqual({ status: 413, body: FILE_TOO_LARGE });
      // At the limit the upload gets past the size check: the unsupported type is what refuses it.
      const atLimit = await uploadRest(t.url, alice.access, { name: 'big.exe', type: 'application/octet-stream', bytes: Buffer.alloc(MAX, 0x61) });
      expect({ status: atLimit.status, body: atLimit.body }).toEqual({ status: 415, body: UNSUPPORTED });
    });

    it('a body over the multipart limit (10 MiB + 1 MiB): 413 file_too_large', async () => {
      const res = await uploadRest(t.url, alice.access, { name: 'huge.txt', type: 'text/plain', bytes: Buffer.alloc(MAX + 1024 * 1024 + 1, 0x61) });
      expect({ status: res.status, body: res.body }).toEqual({ status: 413, body: FILE_TOO_LARGE });
    });

    it.each([
      ['a PNG', 'photo.png', 'image/png'],
      ['an .exe sent as application/octet-stream', 'setup.exe', 'application/octet-stream'],
      ['an .exe without a part type', 'setup.exe', null],
    ])('%s: 415 unsupported_media_type', async (_label, filename, type) => {
      const res = await postParts([filePart(filename, 'MZ binary', type)]);
      expect({ status: res.status, body: res.body }).toEqual({ status: 415, body: UNSUPPORTED });
    });
  });

  describe('400, 403 and 404', () => {
    it('a zero-byte file: 400 empty_file', async () => {
      const res = await postParts([filePart('empty.txt', '')]);
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: coded('empty_file', 'Uploaded file is empty') });
    });

    it.each([
      ['a .pdf whose bytes are not a PDF', filePart('fake.pdf', 'this is not a pdf at all', 'application/pdf')],
      ['a .txt of whitespace only', filePart('blank.txt', ' \n\t  \r\n ')],
    ])('%s: 400 document_unreadable', async (_label, part) => {
      const res = await postParts([part]);
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: coded('document_unreadable', 'Text could not be extracted from the document') });
    });

    it('scope rules: conversation_required, invalid_share_scope, organization_required', async () => {
      const conv = await createConversation(t, alice);
      const cases: [Record<string, string>, unknown][] = [
        [{ scope: 'conversation' }, coded('conversation_required', 'conversation_id is required for conversation-scoped documents')],
        [{ scope: 'conversation', conversation_id: conv.id, shared: 'true' }, coded('invalid_share_scope', 'Only user-scoped documents can be shared')],
        [{ shared: 'true' }, coded('organization_required', 'organization_id is required for shared documents')],
      ];
      for (const [fields, body] of cases) {
        const res = await uploadRest(t.url, alice.access, txt('r', 'Rules.'), fields);
        expect({ fields, status: res.status, body: res.body }).toEqual({ fields, status: 400, body });
      }
    });

    it("404 for another user's conversation and for an organization the caller is not in", async () => {
      const bobs = await createConversation(t, bob);
      const conv = await uploadRest(t.url, alice.access, txt('x', 'X.'), { scope: 'conversation', conversation_id: bobs.id });
      expect({ status: conv.status, body: conv.body }).toEqual({ status: 404, body: notFoundBody('Conversation') });
      const bobsOrg = await createOrg(t, bob);
      const org = await uploadRest(t.url, alice.access, txt('x', 'X.'), { shared: 'true', organization_id: bobsOrg.id });
      expect({ status: org.status, body: org.body }).toEqual({ status: 404, body: notFoundBody('Organization') });
    });

    it("API keys: 403 tenant_mismatch for another organization, 403 without rag:write, 201 sharing with the key's organization by default", async () => {
      const [orgA, orgB] = [await createOrg(t, alice), await createOrg(t, alice)];
      const key = await createKey(t, alice, orgA.id, ['rag:write', 'rag:read']);
      const other = await uploadRest(t.url, apiKey(key.key), txt('k', 'Key upload.'), { shared: 'true', organization_id: orgB.id });
      expect({ status: other.status, body: other.body }).toEqual({ status: 403, body: coded('tenant_mismatch', 'Credential is not valid for this organization') });
      const readOnly = await createKey(t, alice, orgA.id, ['rag:read']);
      const refused = await uploadRest(t.url, apiKey(readOnly.key), txt('k', 'Key upload.'));
      expect({ status: refused.status, body: refused.body }).toEqual({ status: 403, body: scopeMissing('rag:write', ['rag:read']) });
      const shared = await uploadRest(t.url, apiKey(key.key), txt('k', 'Key upload.'), { shared: 'true' });
      expect(wire(shared)).toEqual({ status: 201, body: txtDocument(alice, 'k.txt', 'Key upload.', { shared: true, organization_id: orgA.id }) });
    });

    it('without credentials: 401 {"detail":"Not authenticated"} with WWW-Authenticate', async () => {
      const res = await postRaw(multipart([filePart()]), `multipart/form-data; boundary=${BOUNDARY}`, {});
      expect({ status: res.status, body: res.body, auth: res.headers.get('www-authenticate') }).toEqual({ status: 401, body: { detail: 'Not authenticated' }, auth: 'Bearer' });
    });
  });
});

describe('KB-2 GET /api/knowledge/documents', () => {
  let carol: Person;
  let dave: Person;
  let docs: RagDocumentBody[];
  let convId: string;
  let sharedByDave: RagDocumentBody;
  /** Newest first, ties by id (§1.2, §3.3). */
  const newestFirst = (list: RagDocumentBody[]) => [...list].sort((a, b) => b.created_at.localeCompare(a.created_at) || a.id.localeCompare(b.id));

  beforeAll(async () => {
    [carol, dave] = await Promise.all([person(t, 'carol'), person(t, 'dave')]);
    const org = await createOrg(t, dave);
    await addMember(t, org.id, dave, carol.id);
    convId = (await createConversation(t, carol)).id;
    docs = [];
    for (const name of ['one', 'two', 'three']) docs.push(await upload(t.url, carol.access, txt(name, `Document ${name}.`)));
    docs.push(await upload(t.url, carol.access, txt('conv', 'In a conversation.'), { scope: 'conversation', conversation_id: convId }));
    sharedByDave = await upload(t.url, dave.access, txt('handbook', 'The team handbook.'), { shared: true, organization_id: org.id });
    await upload(t.url, dave.access, txt('private', 'Dave only.'));
  });

  const list = (p: Person, query = '') => t.rest('GET', `${DOCS}${query}`, as(p));

  it("lists the caller's documents and the shared ones of their organizations, newest first, in the §1.2 envelope", async () => {
    const res = await list(carol);
    expect(wire(res)).toEqual({ status: 200, body: { items: newestFirst([...docs, sharedByDave]), total: 5, limit: 20, offset: 0 } });
    expect(res.headers.get('ratelimit-policy')).toBe('"default";q=100000;w=60');
  });

  it('pages with limit and offset; past the end is an empty page', async () => {
    const all = newestFirst([...docs, sharedByDave]);
    expect(wire(await list(carol, '?limit=2&offset=1'))).toEqual({ status: 200, body: { items: all.slice(1, 3), total: 5, limit: 2, offset: 1 } });
    expect(wire(await list(carol, '?offset=5'))).toEqual({ status: 200, body: { items: [], total: 5, limit: 20, offset: 5 } });
  });

  it('filters by scope, conversation_id, shared and mine', async () => {
    const conv = docs.filter((d) => d.scope === 'conversation');
    const own = newestFirst(docs);
    const cases: [string, RagDocumentBody[]][] = [
      ['?scope=conversation', conv],
      ['?scope=user', newestFirst([...docs.filter((d) => d.scope === 'user'), sharedByDave])],
      [`?conversation_id=${convId}`, conv],
      ['?shared=true', [sharedByDave]],
      ['?shared=0', own],
      ['?mine=1', own],
      ['?mine=false', newestFirst([...docs, sharedByDave])],
    ];
    for (const [query, items] of cases) {
      expect({ query, ...wire(await list(carol, query)) }).toEqual({ query, status: 200, body: { items, total: items.length, limit: 20, offset: 0 } });
    }
  });

  it("404 for another user's conversation_id", async () => {
    expect(wire(await list(dave, `?conversation_id=${convId}`))).toEqual({ status: 404, body: notFoundBody('Conversation') });
  });

  it('422 for out-of-range paging and malformed filters', async () => {
    expect(wire(await list(carol, '?limit=0&offset=-1&scope=team&conversation_id=zzz&shared=maybe&mine=x'))).toEqual({
      status: 422,
      body: {
        detail: [
          { type: 'greater_than_equal', loc: ['query', 'limit'], msg: 'Input should be greater than or equal to 1', input: '0', ctx: { ge: 1 } },
          { type: 'greater_than_equal', loc: ['query', 'offset'], msg: 'Input should be greater than or equal to 0', input: '-1', ctx: { ge: 0 } },
          scopeEnum(['query', 'scope'], 'team'),
          uuidParsing(['query', 'conversation_id'], 'zzz', 'z'),
          boolParsing(['query', 'shared'], 'maybe'),
          boolParsing(['query', 'mine'], 'x'),
        ],
      },
    });
    expect((await list(carol, '?limit=101')).body).toEqual({ detail: [{ type: 'less_than_equal', loc: ['query', 'limit'], msg: 'Input should be less than or equal to 100', input: '101', ctx: { le: 100 } }] });
  });
});

describe('KB-1 search and KB-4 RAG', () => {
  let erin: Person;
  let quokka: RagDocumentBody;
  let hidden: RagDocumentBody;
  let convId: string;
  const QUOKKA = 'Quokkas live on Rottnest Island. They are small marsupials.';

  beforeAll(async () => {
    erin = await person(t, 'erin');
    convId = (await createConversation(t, erin)).id;
    quokka = await upload(t.url, erin.access, txt('Quokka facts', QUOKKA));
    hidden = await upload(t.url, erin.access, txt('Wombat diary', 'Wombats dig long burrows.'), { scope: 'conversation', conversation_id: convId });
  });

  const search = (json: unknown, p: Person = erin) => t.rest('POST', '/api/knowledge/search', { json, ...as(p) });
  const rag = (json: unknown, p: Person = erin) => t.rest('POST', '/api/rag/query', { json, ...as(p) });
  /** A hit's documented fields exactly; the score is implementation-defined within (0, 1]. */
  const hit = (d: RagDocumentBody, content: string): SearchItemBody => ({
    document_id: d.id, title: d.title, chunk_index: 0, content, score: expect.any(Number), scope: d.scope, conversation_id: d.conversation_id, shared: d.shared,
  });
  const scoresIn = (items: { score: number }[]) => items.every((i) => i.score > 0 && i.score <= 1);

  it('KB-1 finds the uploaded text, with exactly the documented fields', async () => {
    const res = await search({ query: 'Rottnest marsupials' });
    expect(wire(res)).toEqual({ status: 200, body: { query: 'Rottnest marsupials', results: [hit(quokka, QUOKKA)] } });
    expect(Object.keys((res.body as { results: object[] }).results[0] ?? {})).toEqual(['document_id', 'title', 'chunk_index', 'content', 'score', 'scope', 'conversation_id', 'shared']);
    expect(scoresIn((res.body as { results: SearchItemBody[] }).results)).toBe(true);
  });

  it('KB-1 returns conversation-scoped documents only with their conversation_id; 404 for a stranger', async () => {
    expect((await search({ query: 'wombats burrows' })).body).toEqual({ query: 'wombats burrows', results: [] });
    expect(wire(await search({ query: 'wombats burrows', conversation_id: convId }))).toEqual({ status: 200, body: { query: 'wombats burrows', results: [hit(hidden, 'Wombats dig long burrows.')] } });
    expect(wire(await search({ query: 'wombats', conversation_id: convId }, bob))).toEqual({ status: 404, body: notFoundBody('Conversation') });
  });

  it('KB-1 422: missing or empty query, top_k out of range', async () => {
    expect(wire(await search({}))).toEqual({ status: 422, body: { detail: [{ type: 'missing', loc: ['body', 'query'], msg: 'Field required', input: {} }] } });
    expect(wire(await search({ query: '', top_k: 51 }))).toEqual({
      status: 422,
      body: {
        detail: [
          { type: 'string_too_short', loc: ['body', 'query'], msg: 'String should have at least 1 character', input: '', ctx: { min_length: 1 } },
          { type: 'less_than_equal', loc: ['body', 'top_k'], msg: 'Input should be less than or equal to 50', input: 51, ctx: { le: 50 } },
        ],
      },
    });
  });

  it('KB-4 with provider local: the uploaded document as the source, quoted and cited in the answer, under the `ai` policy', async () => {
    const res = await rag({ query: 'Where do quokkas live?', provider: 'local' });
    const body = res.body as RagQueryBody;
    expect(wire(res)).toEqual({
      status: 200,
      body: {
        answer: 'From your knowledge base, these passages match your question: 1. "Quokkas live on Rottnest Island." (Quokka facts)',
        sources: [{ document_id: quokka.id, title: 'Quokka facts', chunk_index: 0, content: QUOKKA, score: expect.any(Number) }],
        provider: 'local',
        model: 'local-grounded-1',
      },
    });
    expect(scoresIn(body.sources)).toBe(true);
    expect(res.headers.get('ratelimit-policy')).toBe('"ai";q=100000;w=60');
  });

  it('KB-4: no match still answers with no sources; 400 unknown_provider; 404 for a stranger\'s conversation; 422', async () => {
    expect(wire(await rag({ query: 'zeppelin timetables', provider: 'local' }))).toEqual({
      status: 200,
      body: {
        answer:
          'No language model is configured, so I can only answer from your own conversation and documents, and nothing there matches "zeppelin timetables". ' +
          'To get full answers, configure a provider: set OPENAI_BASE_URL and OPENAI_API_KEY (OpenAI, Azure, Ollama, vLLM or LM Studio) or ANTHROPIC_API_KEY, and optionally DEFAULT_AI_PROVIDER.',
        sources: [],
        provider: 'local',
        model: 'local-grounded-1',
      },
    });
    expect(wire(await rag({ query: 'quokkas', provider: 'nope' }))).toEqual({ status: 400, body: coded('unknown_provider', 'Unknown or unavailable AI provider', { provider: 'nope' }) });
    expect(wire(await rag({ query: 'quokkas', conversation_id: convId }, bob))).toEqual({ status: 404, body: notFoundBody('Conversation') });
    expect(wire(await rag({ query: 'q'.repeat(2001), top_k: 0 }))).toEqual({
      status: 422,
      body: {
        detail: [
          { type: 'string_too_long', loc: ['body', 'query'], msg: 'String should have at most 2000 characters', input: 'q'.repeat(2001), ctx: { max_length: 2000 } },
          { type: 'greater_than_equal', loc: ['body', 'top_k'], msg: 'Input should be greater than or equal to 1', input: 0, ctx: { ge: 1 } },
        ],
      },
    });
  });

  it('API keys need rag:read for KB-1, KB-2 and KB-4', async () => {
    const org = await createOrg(t, erin);
    const key = await createKey(t, erin, org.id, ['rag:write']);
    const refused = scopeMissing('rag:read', ['rag:write']);
    const calls = [
      t.rest('POST', '/api/knowledge/search', { json: { query: 'quokkas' }, headers: apiKey(key.key) }),
      t.rest('GET', DOCS, { headers: apiKey(key.key) }),
      t.rest('POST', '/api/rag/query', { json: { query: 'quokkas' }, headers: apiKey(key.key) }),
    ];
    expect((await Promise.all(calls)).map(wire)).toEqual([0, 1, 2].map(() => ({ status: 403, body: refused })));
  });
});
