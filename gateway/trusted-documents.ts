/**
 * Trusted documents (README "Trusted documents"): which GraphQL documents the gateway runs, decided
 * before anything is parsed for execution, the same way for GraphQL over HTTP (graphql-handler.ts)
 * and graphql-ws (subscriptions/ws-server.ts).
 *
 * A request names its document by text (`query`), or by the sha256 of its text: `documentId`
 * (GraphQL over HTTP's persisted documents, `sha256:<hex>` or bare hex) or
 * `extensions.persistedQuery.sha256Hash` (Apollo's automatic persisted queries, APQ). The
 * manifests (`schema/persisted-documents.json` and `XENTREE_PERSISTED_DOCUMENTS`) map hashes to
 * documents; APQ's own cache (Apollo Server's, Redis or memory: apq-cache.ts) is separate.
 *
 * - `off`: the manifests are not read; a `documentId` is refused (PERSISTED_QUERY_NOT_SUPPORTED),
 *   ad-hoc documents and APQ work as they always did.
 * - `allow`: a hash in a manifest runs its document; any other hash goes to APQ, a `documentId`
 *   not in a manifest is PERSISTED_QUERY_NOT_FOUND; ad-hoc documents run.
 * - `enforce`: only manifest documents run. A hash not in a manifest, and a document whose text
 *   (or the client preset's canonical printing of it) is not in one, are PERSISTED_QUERY_NOT_ALLOWED.
 *
 * Every document, whichever way it came, then goes through the same parser limits, validation
 * and operation limits (limits.ts) as any other.
 */
import { parse, type ParseOptions } from 'graphql';
import type { TrustedDocumentsConfig } from '../kernel/config.ts';
import { PERSISTED_DOCUMENTS_PATH, documentHash, printPersistedDocument, readManifest } from '../schema/persisted-documents.ts';

export type TrustedDocumentsMode = TrustedDocumentsConfig['mode'];

/** What a GraphQL request says about its document (whatever the transport). */
export interface DocumentRequest {
  query?: unknown;
  documentId?: unknown;
  extensions?: unknown;
}

/** A request refused for its document: a GraphQL error with its code and HTTP status. */
export interface DocumentRefusal {
  message: string;
  code: 'PERSISTED_QUERY_NOT_ALLOWED' | 'PERSISTED_QUERY_NOT_FOUND' | 'PERSISTED_QUERY_NOT_SUPPORTED' | 'BAD_REQUEST';
  status: 400;
}

/**
 * How to run a request: `manifest` runs the manifest's document instead of what the request
 * sent (its id is dropped); `as-sent` runs the request unchanged (an ad-hoc document, or an APQ
 * hash for Apollo Server to look up); or a refusal.
 */
export type DocumentResolution = { kind: 'manifest'; query: string } | { kind: 'as-sent' } | { kind: 'refused'; refusal: DocumentRefusal };

export interface TrustedDocuments {
  readonly mode: TrustedDocumentsMode;
  resolve(request: DocumentRequest): DocumentResolution;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

const refused = (code: DocumentRefusal['code'], message: string): DocumentResolution => ({ kind: 'refused', refusal: { code, message, status: 400 } });

const NOT_ALLOWED = 'This server runs only trusted documents: this document is not in its manifest.';

function persistedHashOf(extensions: unknown): string | undefined {
  if (!extensions || typeof extensions !== 'object') return undefined;
  const persisted = (extensions as { persistedQuery?: unknown }).persistedQuery;
  if (!persisted || typeof persisted !== 'object') return undefined;
  const hash = (persisted as { sha256Hash?: unknown }).sha256Hash;
  return typeof hash === 'string' ? hash : undefined;
}

/** The sha256 hex of a `documentId` (`sha256:<hex>` or bare hex), or null for any other form. */
export function hashOfDocumentId(id: string): string | null {
  const hex = id.startsWith('sha256:') ? id.slice('sha256:'.length) : id;
  return SHA256_HEX.test(hex) ? hex : null;
}

/** Reads the manifests the configuration names (none when `off`). @throws Error naming a bad file. */
export function loadManifests(config: TrustedDocumentsConfig): Map<string, string> {
  if (config.mode === 'off') return new Map();
  const all = new Map<string, string>();
  for (const path of [PERSISTED_DOCUMENTS_PATH, ...config.manifests]) for (const [hash, doc] of readManifest(path)) all.set(hash, doc);
  return all;
}

/**
 * Hears of every document not in a manifest: `refused` under `enforce`, `allowed` under `allow`
 * (what `enforce` would refuse: a dry run before turning it on).
 */
export type UntrustedObserver = (action: 'allowed' | 'refused') => void;

/** Longest ad-hoc text remembered by itself (1,000 of them at most: 4 M characters); a longer one is remembered by its sha256. */
const TEXT_KEY_MAX = 4096;

/**
 * The gateway's document policy over the given manifests. `parseOptions` bounds the parse of an
 * ad-hoc document checked against them (the same token limit as execution). With an observer,
 * `allow` checks ad-hoc documents too, to report those `enforce` would refuse.
 */
export function createTrustedDocuments(mode: TrustedDocumentsMode, manifests: ReadonlyMap<string, string>, parseOptions?: ParseOptions, observe?: UntrustedObserver): TrustedDocuments {
  // A manifest's own text is trusted without hashing it.
  const manifestTexts = new Set(manifests.values());
  // Whether each ad-hoc text already checked is trusted: a short text by itself (no sha256 per
  // request), a longer one by its raw hash. Both bounded, cleared when full.
  const checkedTexts = new Map<string, boolean>();
  const checkedHashes = new Map<string, boolean>();

  function isTrustedText(query: string): boolean {
    if (manifestTexts.has(query)) return true;
    const [checked, key, max] = query.length <= TEXT_KEY_MAX ? [checkedTexts, query, 1_000] : [checkedHashes, documentHash(query), 10_000];
    const known = checked.get(key);
    if (known !== undefined) return known;
    let trusted: boolean;
    try {
      trusted = manifests.has(documentHash(printPersistedDocument(parse(query, parseOptions))));
    } catch {
      trusted = false; // text that does not parse is in no manifest
    }
    if (checked.size >= max) checked.clear();
    checked.set(key, trusted);
    return trusted;
  }

  const notAllowed = (): DocumentResolution => {
    observe?.('refused');
    return refused('PERSISTED_QUERY_NOT_ALLOWED', NOT_ALLOWED);
  };

  /** An untrusted document under `allow`: it runs (reported to the observer). */
  const allowed = (): DocumentResolution => {
    observe?.('allowed');
    return { kind: 'as-sent' };
  };

  function byHash(hash: string, kind: 'documentId' | 'apq'): DocumentResolution {
    const document = manifests.get(hash);
    if (document !== undefined) return { kind: 'manifest', query: document };
    if (mode === 'enforce') return notAllowed();
    // APQ hashes not in a manifest are Apollo Server's to look up (PERSISTED_QUERY_NOT_FOUND, 200, when unknown).
    return kind === 'apq' ? allowed() : refused('PERSISTED_QUERY_NOT_FOUND', 'No persisted document has this documentId.');
  }

  return {
    mode,
    resolve(request) {
      const query = typeof request.query === 'string' && request.query !== '' ? request.query : undefined;
      if (request.documentId !== undefined && request.documentId !== null) {
        if (mode === 'off') return refused('PERSISTED_QUERY_NOT_SUPPORTED', 'Persisted documents (documentId) are turned off on this server.');
        if (query !== undefined) return refused('BAD_REQUEST', 'Send either `query` or `documentId`, not both.');
        const hash = typeof request.documentId === 'string' ? hashOfDocumentId(request.documentId) : null;
        if (hash === null) return mode === 'enforce' ? notAllowed() : refused('BAD_REQUEST', '`documentId` must be `sha256:<64 hex digits>`.');
        return byHash(hash, 'documentId');
      }
      if (mode === 'off') return { kind: 'as-sent' };
      if (query === undefined) {
        const hash = persistedHashOf(request.extensions);
        return hash === undefined ? { kind: 'as-sent' } : byHash(hash, 'apq');
      }
      if (mode === 'enforce') return isTrustedText(query) ? { kind: 'as-sent' } : notAllowed();
      return observe && !isTrustedText(query) ? allowed() : { kind: 'as-sent' };
    },
  };
}

/** The request's `extensions` without `persistedQuery` (a manifest document needs no APQ step). */
export function withoutPersistedQuery(extensions: unknown): Record<string, unknown> | undefined {
  if (!extensions || typeof extensions !== 'object' || Array.isArray(extensions)) return undefined;
  const { persistedQuery: _dropped, ...rest } = extensions as Record<string, unknown>;
  return Object.keys(rest).length > 0 ? rest : undefined;
}
