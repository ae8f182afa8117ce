/**
 * The repository documents itself: every relative link in README.md and docs/*.md names a file
 * that exists in the repository (none leaves it), and docs/configuration.md documents exactly the
 * variables kernel/config.ts reads.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

const DOCS = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Markdown link targets (`[text](target)`), outside fenced code blocks. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] ?? '');
}

/** The environment variables kernel/config.ts reads, from its source. */
function variablesReadByConfig(): string[] {
  const source = read('kernel/config.ts');
  const schema = source.slice(source.indexOf('const envSchema = z.object({'), source.indexOf('});', source.indexOf('const envSchema')));
  const keys = [...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] ?? '');
  const perSubgraph = [...source.matchAll(/`SUBGRAPH_\$\{name\.toUpperCase\(\)\}_([A-Z_]+)`/g)].map((m) => `SUBGRAPH_<NAME>_${m[1] ?? ''}`);
  const direct = [...source.matchAll(/(?<!process\.)\benv\.([A-Z][A-Z0-9_]*)\b|allowed\('([A-Z][A-Z0-9_]*)'\)/g)].map((m) => m[1] ?? m[2] ?? '');
  return [...new Set([...keys, ...perSubgraph, ...direct])].sort();
}

/** The variables named in the first column of docs/configuration.md's tables. */
function documentedVariables(): string[] {
  const rows = read('docs/configuration.md').split('\n').filter((l) => l.startsWith('| `'));
  const names = rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_<>]*)`/g)].map((m) => m[1] ?? ''));
  return [...new Set(names)].sort();
}

describe('documentation', () => {
  it.each(DOCS)('%s links only files that exist in the repository', (file) => {
    const targets = linkTargets(read(file)).filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith('#'));
    const broken = targets.filter((t) => {
      const resolved = path.resolve(ROOT, path.dirname(file), decodeURIComponent(t.split('#')[0] ?? ''));
      return !resolved.startsWith(ROOT) || !existsSync(resolved);
    });
    expect(broken).toEqual([]);
  });

  it('names no document outside the repository', () => {
    for (const file of DOCS) expect(read(file), file).not.toMatch(/\.\.\/shared|\b(API|DESIGN|CONVENTIONS|STACK)\.md\b/);
  });

  it('finds the variables of kernel/config.ts (the parser of this test works)', () => {
    const read = variablesReadByConfig();
    expect(read).toEqual(expect.arrayContaining(['PORT', 'DATABASE_URL', 'SUBGRAPH_<NAME>_URL', 'XENTREE_ALLOW_EMBEDDED_DB']));
    expect(read.length).toBeGreaterThan(50);
  });

  it('docs/configuration.md documents every variable kernel/config.ts reads, and no other', () => {
    const read = variablesReadByConfig();
    const documented = documentedVariables();
    expect({ undocumented: read.filter((v) => !documented.includes(v)), unknown: documented.filter((v) => !read.includes(v)) }).toEqual({
      undocumented: [],
      unknown: [],
    });
  });

  it('.env.example names every variable kernel/config.ts reads, and no other', () => {
    const known = variablesReadByConfig();
    const named = [...read('.env.example').matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? '');
    const perSubgraph = (v: string): string => v.replace(/^SUBGRAPH_[A-Z]+_(PORT|URL|TIMEOUT_MS|PIPELINING)$/, 'SUBGRAPH_<NAME>_$1');
    expect(named.map(perSubgraph).filter((v) => !known.includes(v))).toEqual([]);
    expect(known.filter((v) => !named.map(perSubgraph).includes(v))).toEqual([]);
  });
});
