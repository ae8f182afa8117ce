/**
 * The committed trusted-documents manifest must be what `npm run compose` makes from today's
 * operation files, in the client preset's format, and hold every operation the REST layer runs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { loadOperations, operationFiles } from '../rest-compat/operations.ts';
import { PERSISTED_DOCUMENTS_PATH, buildManifest, documentHash, manifestText, persistedOperations, printPersistedDocument, readManifest } from './persisted-documents.ts';

const STALE = 'schema/persisted-documents.json is stale: run `npm run compose` and commit it';

describe('trusted documents manifest', () => {
  it('matches the operation files byte for byte', () => {
    const expected = manifestText(buildManifest(operationFiles().map((f) => readFileSync(f, 'utf8'))));
    expect(readFileSync(PERSISTED_DOCUMENTS_PATH, 'utf8') === expected, STALE).toBe(true);
  });

  it('goes stale when an operation file changes', () => {
    const sources = operationFiles().map((f) => readFileSync(f, 'utf8'));
    const changed = [...sources.slice(0, -1), `${sources.at(-1) ?? ''}\nquery AddedWithoutCompose { me { id } }\n`];
    expect(manifestText(buildManifest(changed))).not.toBe(readFileSync(PERSISTED_DOCUMENTS_PATH, 'utf8'));
  });

  it('holds every operation the REST layer runs, keyed by the sha256 of the printed document', () => {
    const manifest = readManifest(PERSISTED_DOCUMENTS_PATH);
    const names = new Set([...manifest.values()].flatMap((doc) => persistedOperations(doc).map((op) => op.name)));
    expect([...loadOperations().keys()].filter((name) => !names.has(name))).toEqual([]);
    expect(manifest.size).toBe(loadOperations().size);
    for (const [hash, doc] of manifest) expect(documentHash(doc)).toBe(hash);
  });

  it('prints like the client preset: one operation with the fragments it uses, sorted, white space collapsed', () => {
    const source = `
      fragment B on User { username id }
      fragment A on User { email ...B }
      fragment Unused on User { id }
      query Me { me { ...A createdAt } }
      mutation M { b: logout { ok } a: logout { ok } }`;
    const [me, m] = persistedOperations(source);
    expect(me?.name).toBe('Me');
    expect(printPersistedDocument(me!.document)).toBe('fragment A on User { email ...B } fragment B on User { id username } query Me { me { createdAt ...A } }');
    // Mutation fields run in order: the preset leaves their order alone.
    expect(printPersistedDocument(m!.document)).toBe('mutation M { b: logout { ok } a: logout { ok } }');
    expect(() => persistedOperations('query Q { ...Missing }')).toThrow('Operation Q spreads unknown fragment Missing');
  });

  it('reads a frontend manifest and refuses one that is not sha256 → document', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xentree-manifest-'));
    const doc = printPersistedDocument(parse('query Mine { me { id } }'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ [documentHash(doc)]: doc }));
    expect(readManifest(good)).toEqual(new Map([[documentHash(doc), doc]]));
    const sha1 = join(dir, 'sha1.json');
    writeFileSync(sha1, JSON.stringify({ '0a4d55a8d778e5022fab701977c5d840bbc486d0': doc }));
    expect(() => readManifest(sha1)).toThrow(`${sha1}: 0a4d55a8d778e5022fab701977c5d840bbc486d0 is not the sha256 of its document (generate it with persistedDocuments: { hashAlgorithm: 'sha256' })`);
    const list = join(dir, 'list.json');
    writeFileSync(list, '[]');
    expect(() => readManifest(list)).toThrow(`${list}: a manifest is a JSON object of sha256 hash → document`);
  });
});
