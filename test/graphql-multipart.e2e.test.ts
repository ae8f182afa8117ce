/**
 * The GraphQL multipart request spec on the gateway's `/graphql`
 * (https://github.com/jaydenseric/graphql-multipart-request-spec): a file part replaces the null at
 * its mapped path with a `DocumentFileInput`, Apollo's CSRF prevention still demands a preflight
 * header, invalid `operations`/`map` are 400 with a GraphQL `errors` body, and the size limits.
 * Also the rate-limit policies of the knowledge and chat mutations over GraphQL (§1.9).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { person, type Person } from './org-fixtures.ts';
import { BOUNDARY, DOCUMENT_FIELDS, multipart, UPLOAD_MUTATION, type KnowledgeDocumentGql, type Part } from './knowledge-fixtures.ts';
import { TIMESTAMP, UUID_V4, wire } from './assertions.ts';

let alice: Person;
const t = useTestStack();
beforeAll(async () => {
  alice = await person(t, 'alice');
});

const MAX = 10_485_760;
const PREFLIGHT = { 'apollo-require-preflight': 'true' };
const OPERATIONS = JSON.stringify({ query: UPLOAD_MUTATION, variables: { input: { file: null, title: null } } });
const MAP = JSON.stringify({ 0: ['variables.input.file'] });
const CSRF_MESSAGE =
  "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a 'content-type' header (with a type that is not one of " +
  'application/x-www-form-urlencoded, multipart/form-data, text/plain) or provide a non-empty value for one of the following headers: x-apollo-operation-name, apollo-require-preflight\n';


interface GqlReply { status: number; headers: Headers; body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } }
async function post(parts: Part[], headers: Record<string, string> = PREFLIGHT): Promise<GqlReply> {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, ...bearer(alice.access), ...headers },
    body: multipart(parts),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GqlReply['body'] };
}
const standard = (file: Part = { name: '0', filename: 'notes.txt', type: 'text/plain', value: 'Alpacas hum when they are curious.' }): Part[] => [
  { name: 'operations', value: OPERATIONS },
  { name: 'map', value: MAP },
  file,
];
const badRequest = (message: string) => ({ status: 400, body: { errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] } });
const documentCount = async (): Promise<number> => ((await t.rest('GET', '/api/knowledge/documents', { headers: bearer(alice.access) })).body as { total: number }).total;

describe('multipart uploads on /graphql', () => {
  it('refuses a multipart request without a preflight header (CSRF): 400, nothing stored', async () => {
    const before = await documentCount();
    expect(wire(await post(standard(), {}))).toEqual(badRequest(CSRF_MESSAGE));
    expect(await documentCount()).toBe(before);
  });

  it('uploads a .txt with apollo-require-preflight: the file becomes the DocumentFileInput, under the `upload` policy', async () => {
    const res = await post(standard());
    expect(wire(res)).toEqual({
      status: 200,
      body: {
        data: {
          uploadKnowledgeDocument: {
            document: {
              id: expect.stringMatching(UUID_V4),
              title: 'notes',
              filename: 'notes.txt',
              contentType: 'text/plain',
              sizeBytes: 34,
              scope: 'USER',
              conversationId: null,
              shared: false,
              organizationId: null,
              ownerId: alice.id,
              owner: { id: alice.id },
              chunkCount: 1,
              createdAt: expect.stringMatching(TIMESTAMP),
            } satisfies KnowledgeDocumentGql,
          },
        },
      },
    });
    expect(res.headers.get('ratelimit-policy')).toBe('"upload";q=100000;w=60');
    const search = await t.gql('query S($input: KnowledgeSearchInput!) { knowledgeSearch(input: $input) { results { title content } } }', { input: { query: 'alpacas curious' } }, bearer(alice.access));
    expect(search.body).toEqual({ data: { knowledgeSearch: { results: [{ title: 'notes', content: 'Alpacas hum when they are curious.' }] } } });
  });

  it('accepts x-apollo-operation-name as the preflight header; a part without a type is typed by its extension', async () => {
    const res = await post(standard({ name: '0', filename: 'Field guide.md', value: '# Llamas\n\nLlamas spit when annoyed.' }), { 'x-apollo-operation-name': 'Upload' });
    expect({ status: res.status, errors: res.body.errors, document: (res.body.data?.uploadKnowledgeDocument as { document: KnowledgeDocumentGql } | undefined)?.document })
      .toEqual({ status: 200, errors: undefined, document: expect.objectContaining({ title: 'Field guide', filename: 'Field guide.md', contentType: 'text/markdown' }) });
  });

  it("keeps each file part's own type, even after a text field whose quoted name contains `; filename=`", async () => {
    const res = await post([{ name: 'x; filename=y', value: 'text' }, ...standard({ name: '0', filename: 'typed.md', type: 'text/plain', value: 'Plain after all.' })]);
    expect({ status: res.status, contentType: (res.body.data?.uploadKnowledgeDocument as { document: KnowledgeDocumentGql }).document.contentType }).toEqual({ status: 200, contentType: 'text/plain' });
  });

  it('runs every other field of `operations` as given (title, variables, operationName)', async () => {
    const operations = JSON.stringify({
      query: `query Other { __typename } mutation Named($input: UploadDocumentInput!) { uploadKnowledgeDocument(input: $input) { document { ${DOCUMENT_FIELDS} } } }`,
      operationName: 'Named',
      variables: { input: { title: 'Chosen title', file: null } },
    });
    const res = await post([{ name: 'operations', value: operations }, { name: 'map', value: MAP }, { name: '0', filename: 'x.txt', type: 'text/plain', value: 'Vicuñas are wild.' }]);
    expect({ status: res.status, title: (res.body.data?.uploadKnowledgeDocument as { document: KnowledgeDocumentGql }).document.title }).toEqual({ status: 200, title: 'Chosen title' });
  });

  describe('invalid requests: 400 with a GraphQL errors body', () => {
    const file: Part = { name: '0', filename: 'a.txt', type: 'text/plain', value: 'A.' };
    it.each<[string, Part[], string]>([
      ['map is not JSON', [{ name: 'operations', value: OPERATIONS }, { name: 'map', value: '{nope' }, file], "Invalid multipart request: the 'map' field is not valid JSON."],
      ['map is missing', [{ name: 'operations', value: OPERATIONS }, file], "Invalid multipart request: the 'map' field is missing (or is a file)."],
      ['map is an array', [{ name: 'operations', value: OPERATIONS }, { name: 'map', value: '[["variables.input.file"]]' }, file], "Invalid multipart request: 'map' must be a JSON object of file field name → array of paths."],
      ['a map entry is not a list of paths', [{ name: 'operations', value: OPERATIONS }, { name: 'map', value: '{"0":"variables.input.file"}' }, file], "Invalid multipart request: map entry '0' must be a non-empty array of paths."],
      ['map names a file that was not sent', [{ name: 'operations', value: OPERATIONS }, { name: 'map', value: '{"1":["variables.input.file"]}' }, file], "Invalid multipart request: no file part named '1'."],
      ['a map path does not hold null', [{ name: 'operations', value: OPERATIONS }, { name: 'map', value: '{"0":["variables.input.missing.file"]}' }, file], "Invalid multipart request: map path 'variables.input.missing.file' does not lead to a null in 'operations'."],
      ['a map path through __proto__', [{ name: 'operations', value: OPERATIONS }, { name: 'map', value: '{"0":["variables.__proto__"]}' }, file], "Invalid multipart request: map path 'variables.__proto__' does not lead to a null in 'operations'."],
      ['a map path outside variables', [{ name: 'operations', value: OPERATIONS }, { name: 'map', value: '{"0":["query"]}' }, file], "Invalid multipart request: map path 'query' does not start with 'variables.' (batching is not supported)."],
      ['operations is missing', [{ name: 'map', value: MAP }, file], "Invalid multipart request: the 'operations' field is missing (or is a file)."],
      ['operations is not JSON', [{ name: 'operations', value: 'query' }, { name: 'map', value: MAP }, file], "Invalid multipart request: the 'operations' field is not valid JSON."],
      ['operations is a batch', [{ name: 'operations', value: `[${OPERATIONS}]` }, { name: 'map', value: '{"0":["0.variables.input.file"]}' }, file], 'Batched operations are not supported.'],
    ])('%s', async (_label, parts, message) => {
      expect(wire(await post(parts))).toEqual(badRequest(message));
    });

    it('a body that is not valid multipart', async () => {
      const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, ...PREFLIGHT, ...bearer(alice.access) }, body: 'garbage' });
      expect({ status: res.status, body: await res.json() }).toEqual(badRequest('Invalid multipart request: the body is not valid multipart/form-data.'));
    });
  });

  describe('size limits', () => {
    it('a file of 10,485,761 bytes: 413 FILE_TOO_LARGE before it is encoded or executed', async () => {
      const res = await post(standard({ name: '0', filename: 'big.txt', type: 'text/plain', value: Buffer.alloc(MAX + 1, 0x61) }));
      expect(wire(res)).toEqual({ status: 413, body: { errors: [{ message: 'File exceeds the 10 MB limit', extensions: { code: 'FILE_TOO_LARGE', status: 413, max_bytes: MAX } }] } });
    });

    it('a body over 10 MiB + 1 MiB: 413 REQUEST_TOO_LARGE naming the multipart limit (JSON keeps its own 2 MB)', async () => {
      const res = await post(standard({ name: '0', filename: 'huge.txt', type: 'text/plain', value: Buffer.alloc(MAX + 1024 * 1024 + 1, 0x61) }));
      expect(wire(res)).toEqual({ status: 413, body: { errors: [{ message: 'Request body is larger than 11534336 bytes.', extensions: { code: 'REQUEST_TOO_LARGE', status: 413 } }] } });
    });
  });
});

describe('rate-limit policies of GraphQL mutations (§1.9)', () => {
  it.each([
    ['ragQuery', 'mutation { ragQuery(input: { query: "alpacas", provider: "local" }) { provider } }', '"ai";q=100000;w=60'],
    ['chat', 'mutation { chat(input: { message: "hello", provider: "local" }) { provider } }', '"ai";q=100000;w=60'],
    ['knowledgeSearch', 'query { knowledgeSearch(input: { query: "alpacas" }) { query } }', '"default";q=100000;w=60'],
  ])('%s', async (_name, query, policy) => {
    const res = await t.gql(query, undefined, bearer(alice.access));
    expect({ status: res.status, errors: res.body.errors, policy: res.headers.get('ratelimit-policy') }).toEqual({ status: 200, errors: undefined, policy });
  });
});
