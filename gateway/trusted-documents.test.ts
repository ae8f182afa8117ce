/**
 * The trusted documents policy on its own: a frontend's manifest (XENTREE_PERSISTED_DOCUMENTS)
 * joins the committed one, a bad one stops the gateway at start, and each mode settles ids, APQ
 * hashes and ad-hoc texts as documented.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { PERSISTED_DOCUMENTS_PATH, documentHash, printPersistedDocument, readManifest } from '../schema/persisted-documents.ts';
import { createTrustedDocuments, hashOfDocumentId, loadManifests, withoutPersistedQuery } from './trusted-documents.ts';

const dir = mkdtempSync(join(tmpdir(), 'xentree-trusted-'));
const frontendDoc = printPersistedDocument(parse('query FrontendMe { me { id username } }'));
const frontendManifest = join(dir, 'persisted-documents.json');
writeFileSync(frontendManifest, JSON.stringify({ [documentHash(frontendDoc)]: frontendDoc }, null, 2));
const committed = readManifest(PERSISTED_DOCUMENTS_PATH);

const config = (mode: 'off' | 'allow' | 'enforce', manifests: string[] = [frontendManifest]) => ({ mode, manifests, apqTtlSeconds: 60, apqKeyPrefix: 'x:' });

describe('trusted documents policy', () => {
  it('reads the committed manifest and the frontends’ (none when off); a bad file stops the start', () => {
    const all = loadManifests(config('enforce'));
    expect(all.size).toBe(committed.size + 1);
    expect(all.get(documentHash(frontendDoc))).toBe(frontendDoc);
    expect(loadManifests(config('off')).size).toBe(0);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ abc: frontendDoc }));
    expect(() => loadManifests(config('allow', [bad]))).toThrow(`${bad}: abc is not the sha256 of its document`);
  });

  it('under enforce runs a frontend document by id or as its text, and nothing else', () => {
    const trusted = createTrustedDocuments('enforce', loadManifests(config('enforce')));
    const hash = documentHash(frontendDoc);
    expect(trusted.resolve({ documentId: `sha256:${hash}` })).toEqual({ kind: 'manifest', query: frontendDoc });
    expect(trusted.resolve({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } })).toEqual({ kind: 'manifest', query: frontendDoc });
    expect(trusted.resolve({ query: 'query FrontendMe {\n  me {\n    username\n    id\n  }\n}' })).toEqual({ kind: 'as-sent' });
    const notAllowed = { kind: 'refused', refusal: { code: 'PERSISTED_QUERY_NOT_ALLOWED', status: 400, message: 'This server runs only trusted documents: this document is not in its manifest.' } };
    expect(trusted.resolve({ query: 'query FrontendMe { me { id username email } }' })).toEqual(notAllowed);
    expect(trusted.resolve({ query: '{ unparsable' })).toEqual(notAllowed);
    expect(trusted.resolve({})).toEqual({ kind: 'as-sent' }); // no document at all: Apollo Server's 400
  });

  it('under enforce judges a long text by its canonical form too, and answers a text again the same way', () => {
    const trusted = createTrustedDocuments('enforce', loadManifests(config('enforce')));
    const notAllowed = { kind: 'refused', refusal: { code: 'PERSISTED_QUERY_NOT_ALLOWED', status: 400, message: 'This server runs only trusted documents: this document is not in its manifest.' } };
    // Past 4,096 characters a text is remembered by its hash instead of by itself.
    const padded = `# ${'x'.repeat(5000)}\n${frontendDoc}`;
    const longOther = `# ${'x'.repeat(5000)}\nquery FrontendMe { me { id username email } }`;
    for (let round = 0; round < 2; round += 1) {
      expect(trusted.resolve({ query: padded })).toEqual({ kind: 'as-sent' });
      expect(trusted.resolve({ query: longOther })).toEqual(notAllowed);
      expect(trusted.resolve({ query: frontendDoc })).toEqual({ kind: 'as-sent' });
      expect(trusted.resolve({ query: 'query FrontendMe { me { id username email } }' })).toEqual(notAllowed);
    }
  });

  it('under allow passes unknown APQ hashes to Apollo Server and refuses unknown ids', () => {
    const trusted = createTrustedDocuments('allow', loadManifests(config('allow')));
    expect(trusted.resolve({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } })).toEqual({ kind: 'as-sent' });
    expect(trusted.resolve({ documentId: 'f'.repeat(64) })).toEqual({ kind: 'refused', refusal: { code: 'PERSISTED_QUERY_NOT_FOUND', status: 400, message: 'No persisted document has this documentId.' } });
    expect(trusted.resolve({ query: '{ anything }' })).toEqual({ kind: 'as-sent' });
  });

  it('reports documents in no manifest: run under allow (a dry run of enforce), refused under enforce', () => {
    const seen: string[] = [];
    const manifests = loadManifests(config('allow'));
    const allow = createTrustedDocuments('allow', manifests, undefined, (action) => seen.push(action));
    allow.resolve({ query: '{ __typename }' });
    allow.resolve({ query: frontendDoc });
    allow.resolve({ documentId: documentHash(frontendDoc) });
    allow.resolve({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } });
    const enforce = createTrustedDocuments('enforce', manifests, undefined, (action) => seen.push(action));
    enforce.resolve({ query: '{ __typename }' });
    enforce.resolve({ query: frontendDoc });
    expect(seen).toEqual(['allowed', 'allowed', 'refused']);
  });

  it('parses document ids and strips the APQ extension of a manifest document', () => {
    const hex = 'a'.repeat(64);
    expect([hashOfDocumentId(`sha256:${hex}`), hashOfDocumentId(hex), hashOfDocumentId('sha256:xyz'), hashOfDocumentId(`sha1:${hex}`), hashOfDocumentId(hex.toUpperCase())]).toEqual([hex, hex, null, null, null]);
    expect(withoutPersistedQuery({ persistedQuery: { version: 1 }, trace: true })).toEqual({ trace: true });
    expect(withoutPersistedQuery({ persistedQuery: { version: 1 } })).toBeUndefined();
  });
});
