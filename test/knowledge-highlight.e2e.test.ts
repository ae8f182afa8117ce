/**
 * GraphQL search highlights are safe HTML: the document's own text is escaped, and only the
 * matched words are wrapped in `<mark>` (REST KB-1 has no highlight field). (ts_headline itself
 * drops what its parser takes for HTML tags, so `<`, `>` are tested as plain characters.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './harness.ts';
import { person } from './org-fixtures.ts';
import { gql, txt, upload } from './knowledge-fixtures.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
});

afterAll(async () => {
  await t?.close();
});

it('escapes the document text and marks only the matched words', async () => {
  const p = await person(t, 'kbmark');
  const text = `Leaves use photosynthesis when 1 < 2 > 0 & "often" 'well'. \uE000Stray\uE001 delimiters vanish.`;
  await upload(t.url, p.access, txt('markup', text));
  const res = await gql(t.url, p.access, 'query($q: String!) { knowledgeSearch(input: { query: $q }) { results { highlight content } } }', { q: 'photosyntesis' });
  expect(res.body.errors).toBeUndefined();
  const [hit] = (res.body.data as { knowledgeSearch: { results: { highlight: string; content: string }[] } }).knowledgeSearch.results;
  expect(hit?.content).toBe(`Leaves use photosynthesis when 1 < 2 > 0 & "often" 'well'. Stray delimiters vanish.`);
  expect(hit?.highlight).toContain('use <mark>photosynthesis</mark> when 1 &lt; 2 &gt; 0 &amp; &quot;often&quot; &#39;well&#39;. Stray delimiters');
  // No markup but the marks.
  expect(hit?.highlight.replaceAll('<mark>', '').replaceAll('</mark>', '')).not.toMatch(/[<>\uE000\uE001]/);
});
