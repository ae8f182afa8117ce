/**
 * `npm run bench -- knowledge [megabytes]`: knowledge-base ingestion and search through the
 * gateway (the whole stack in this process on embedded PostgreSQL, as the test harness runs it).
 *
 * 1. Ingest a generated text corpus (default 5 MB; deterministic pseudo-words with a skewed
 *    frequency, paragraphs and sentences) as ~26 KB documents through KB-3 (REST multipart), four
 *    uploads at a time: documents/s, chunks/s, MB/s.
 * 2. Top up with more documents of the same kind until the index holds at least 10 000 chunks.
 * 3. 1 000 searches, one at a time (no queueing): `knowledgeSearch` through GraphQL (800 with
 *    words of the corpus, 200 with a misspelled word, which adds the trigram-correction step) and
 *    KB-1 through REST; p50/p99. Baselines measured in the same run and the same way, interleaved
 *    with the searches: `{ __typename }` (answered by the gateway alone) and
 *    `knowledgeDocuments(limit: 1)` (one hop to the knowledge subgraph and a trivial query), with
 *    the ratios of search to each.
 */
import { startTestStack } from '../test/harness.ts';
import { upload } from '../test/knowledge-fixtures.ts';
import { percentile } from './distributed.ts';

const MB = 1024 * 1024;
const DOC_BYTES = 26 * 1024;
const TARGET_CHUNKS = 10_000;
const QUERIES = 1_000;
const CONCURRENCY = 4;

/** mulberry32: a small deterministic PRNG, so every run searches the same corpus. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = 'ka lo mi ra ten vus dor pel quin sha tor ul ven xi zor bre cal fen gri hol'.split(' ');

/** A vocabulary of distinct pseudo-words of 2..4 syllables. */
function vocabulary(size: number, rand: () => number): string[] {
  const words = new Set<string>();
  while (words.size < size) {
    const n = 2 + Math.floor(rand() * 3);
    let w = '';
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
    words.add(w);
  }
  return [...words];
}

/** A document of about `bytes` bytes: sentences of 8..16 words, paragraphs of 4..8 sentences. */
function documentText(bytes: number, vocab: readonly string[], rand: () => number): string {
  // Skewed toward the start of the vocabulary, like natural word frequencies.
  const word = () => vocab[Math.floor(vocab.length * rand() * rand())] ?? 'ka';
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const sentences: string[] = [];
    const count = 4 + Math.floor(rand() * 5);
    for (let s = 0; s < count; s++) {
      const words = Array.from({ length: 8 + Math.floor(rand() * 9) }, word);
      const first = words[0] ?? 'ka';
      words[0] = first.charAt(0).toUpperCase() + first.slice(1);
      sentences.push(`${words.join(' ')}.`);
    }
    const paragraph = sentences.join(' ');
    parts.push(paragraph);
    size += paragraph.length + 2;
  }
  return parts.join('\n\n');
}

/** Runs `task` for every item with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await task(item);
      }
    }),
  );
}

interface Timing {
  label: string;
  ms: number[];
  errors: number;
}

const row = (t: Timing) =>
  `  ${t.label.padEnd(46)} p50 ${percentile(t.ms, 50).toFixed(2).padStart(7)} ms   p99 ${percentile(t.ms, 99).toFixed(2).padStart(7)} ms   mean ${(t.ms.reduce((a, b) => a + b, 0) / t.ms.length).toFixed(2).padStart(7)} ms   n ${t.ms.length}   errors ${t.errors}`;

export async function run(): Promise<void> {
  const megabytes = Number(process.argv[3] ?? 5);
  if (!(megabytes > 0)) throw new Error('usage: npm run bench -- knowledge [megabytes > 0]');
  const rand = prng(20_240_601);
  const vocab = vocabulary(6_000, rand);
  const t = await startTestStack();
  try {
    const user = { email: `kbbench_${Date.now()}@example.com`, username: `kbbench_${Date.now()}`.slice(0, 30), password: 'benchmark password' };
    await t.rest('POST', '/api/auth/register', { json: user });
    const login = await t.rest('POST', '/api/auth/login', { form: { username: user.username, password: user.password } });
    const token = (login.body as { access_token: string }).access_token;
    const auth = { authorization: `Bearer ${token}` };

    // 1. The corpus.
    const corpus: string[] = [];
    let corpusBytes = 0;
    while (corpusBytes < megabytes * MB) {
      const text = documentText(Math.min(DOC_BYTES, megabytes * MB - corpusBytes), vocab, rand);
      corpus.push(text);
      corpusBytes += Buffer.byteLength(text);
    }
    let chunks = 0;
    let n = 0;
    const ingest = async (text: string) => {
      const i = n++;
      const doc = await upload(t.url, token, { name: `corpus-${i}.txt`, type: 'text/plain', bytes: text });
      chunks += doc.chunk_count;
    };
    console.log(`knowledge bench: whole stack in one process (embedded PostgreSQL); ${CONCURRENCY} uploads at a time`);
    const started = performance.now();
    await pool(corpus, CONCURRENCY, ingest);
    const seconds = (performance.now() - started) / 1000;
    console.log(`ingestion of a ${(corpusBytes / MB).toFixed(2)} MB corpus: ${corpus.length} documents, ${chunks} chunks in ${seconds.toFixed(2)} s`);
    console.log(
      `  ${(corpus.length / seconds).toFixed(1)} documents/s   ${(chunks / seconds).toFixed(0)} chunks/s   ${(corpusBytes / MB / seconds).toFixed(2)} MB/s`,
    );

    // 2. Top up to the search size.
    let extra = 0;
    while (chunks < TARGET_CHUNKS) {
      const batch = Array.from({ length: Math.max(1, Math.min(CONCURRENCY * 4, Math.ceil((TARGET_CHUNKS - chunks) / 30))) }, () => documentText(DOC_BYTES, vocab, rand));
      extra += batch.length;
      await pool(batch, CONCURRENCY, ingest);
    }
    console.log(`index for searching: ${n} documents (${extra} added after the corpus), ${chunks} chunks`);

    // 3. Searches and baselines, one request at a time.
    const makeQuery = (i: number) => {
      const pick = () => vocab[Math.floor(rand() * vocab.length)] ?? 'ka';
      if (i % 5 === 4) {
        // A misspelling: one letter dropped from a longer word.
        let w = pick();
        while (w.length < 6) w = pick();
        const at = 1 + Math.floor(rand() * (w.length - 2));
        return { kind: 'misspelled' as const, text: w.slice(0, at) + w.slice(at + 1) };
      }
      return { kind: 'exact' as const, text: rand() < 0.5 ? pick() : `${pick()} ${pick()}` };
    };
    const queries = Array.from({ length: QUERIES }, (_, i) => makeQuery(i));
    const warmUp = Array.from({ length: 100 }, (_, i) => makeQuery(i));
    const post = async (path: string, body: unknown): Promise<{ ok: boolean; json: unknown }> => {
      const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });
      const json = (await res.json()) as { errors?: unknown };
      return { ok: res.ok && json.errors === undefined, json };
    };
    const SEARCH = 'query($q: String!) { knowledgeSearch(input: { query: $q, topK: 5 }) { results { documentId chunkIndex score highlight } } }';
    let list = warmUp;
    const q = (i: number) => list[i]?.text ?? 'ka';
    const calls: { timing: Timing; call: (i: number) => Promise<{ ok: boolean; json: unknown }> }[] = [
      { timing: { label: 'baseline { __typename } (gateway only)', ms: [], errors: 0 }, call: () => post('/graphql', { query: '{ __typename }' }) },
      { timing: { label: 'baseline knowledgeDocuments(limit: 1)', ms: [], errors: 0 }, call: () => post('/graphql', { query: '{ knowledgeDocuments(limit: 1) { total } }' }) },
      { timing: { label: 'knowledgeSearch (GraphQL), top 5', ms: [], errors: 0 }, call: (i) => post('/graphql', { query: SEARCH, variables: { q: q(i) } }) },
      { timing: { label: 'KB-1 POST /api/knowledge/search (REST), top 5', ms: [], errors: 0 }, call: (i) => post('/api/knowledge/search', { query: q(i), top_k: 5 }) },
    ];
    const [typename, hop, gqlSearch, restSearch] = calls.map((c) => c.timing) as [Timing, Timing, Timing, Timing];
    const found = { exact: 0, misspelled: 0 };
    const byKind: Record<'exact' | 'misspelled', Timing> = {
      exact: { label: '  of which: corpus words', ms: [], errors: 0 },
      misspelled: { label: '  of which: one misspelled word', ms: [], errors: 0 },
    };

    // Warm-up (JIT, plans, connection pools), not counted.
    for (let i = 0; i < warmUp.length; i++) for (const c of calls) await c.call(i);
    list = queries;
    // Interleaved: each query's search runs next to its baselines, so a load change on the machine
    // shifts all of them alike and the ratios stay meaningful.
    for (let i = 0; i < QUERIES; i++) {
      for (const c of calls) {
        const s = performance.now();
        const r = await c.call(i);
        const ms = performance.now() - s;
        c.timing.ms.push(ms);
        if (!r.ok) c.timing.errors++;
        if (c.timing === gqlSearch) {
          const kind = queries[i]?.kind ?? 'exact';
          byKind[kind].ms.push(ms);
          const hits = (r.json as { data?: { knowledgeSearch?: { results: unknown[] } } }).data?.knowledgeSearch?.results.length ?? 0;
          if (hits > 0) found[kind]++;
        }
      }
    }

    console.log(`search latency over ${QUERIES} queries at ${chunks} chunks, one request at a time:`);
    for (const timing of [typename, hop, gqlSearch, byKind.exact, byKind.misspelled, restSearch]) console.log(row(timing));
    const exactCount = queries.filter((x) => x.kind === 'exact').length;
    console.log(`  queries with results: ${found.exact}/${exactCount} with corpus words, ${found.misspelled}/${QUERIES - exactCount} misspelled`);
    const ratio = (a: Timing, b: Timing, p: number) => (percentile(a.ms, p) / percentile(b.ms, p)).toFixed(1);
    console.log(`  search/{ __typename }: p50 ${ratio(gqlSearch, typename, 50)}x, p99 ${ratio(gqlSearch, typename, 99)}x`);
    console.log(`  search/knowledgeDocuments(limit: 1): p50 ${ratio(gqlSearch, hop, 50)}x, p99 ${ratio(gqlSearch, hop, 99)}x`);
    console.log(`  search cost beyond the subgraph hop (p50): ${(percentile(gqlSearch.ms, 50) - percentile(hop.ms, 50)).toFixed(2)} ms`);
  } finally {
    await t.close();
  }
}
