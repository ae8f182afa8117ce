/**
 * Trusted documents (README "Trusted documents"): `schema/persisted-documents.json` maps the
 * sha256 hash of every operation this project ships to its document, in the format GraphQL Code
 * Generator's client preset writes with `persistedDocuments: { hashAlgorithm: 'sha256' }`: a JSON
 * object `{ "<sha256 hex>": "<document>" }`, one entry per operation with the fragments it uses
 * (the GraphQL-over-HTTP "persisted operation"), printed by the preset's printer
 * (`printExecutableGraphQLDocument`: definitions, selections and arguments sorted, white space
 * collapsed) and hashed as that exact string. A frontend's own manifest from the client preset is
 * therefore read the same way. `npm run compose` writes the file from the REST layer's operation
 * files (`rest-compat/areas/<area>/*.graphql`); a test fails when it is stale.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { printExecutableGraphQLDocument } from '@graphql-tools/documents';
import { Kind, parse, type DefinitionNode, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

export const PERSISTED_DOCUMENTS_PATH = new URL('./persisted-documents.json', import.meta.url);

/** The sha256 hex digest of a document string: its id in a manifest. */
export function documentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The client preset's canonical text of a document (what its manifest stores and hashes). */
export function printPersistedDocument(document: DocumentNode): string {
  return printExecutableGraphQLDocument(document);
}

/** One operation of a source file with the fragments it spreads, directly or through other fragments. */
export interface PersistedOperation {
  name: string | null;
  document: DocumentNode;
}

function spreadsOf(set: SelectionSetNode, out: string[]): string[] {
  for (const s of set.selections) {
    if (s.kind === Kind.FRAGMENT_SPREAD) out.push(s.name.value);
    else if (s.selectionSet) spreadsOf(s.selectionSet, out);
  }
  return out;
}

/**
 * Splits a source of operations and fragments into persisted operations, in source order.
 * @throws GraphQLError when the source does not parse; Error when a spread names no fragment.
 */
export function persistedOperations(source: string): PersistedOperation[] {
  const definitions = parse(source).definitions;
  const fragments = new Map(definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  return definitions.flatMap((def) => {
    if (def.kind !== Kind.OPERATION_DEFINITION) return [];
    const used = new Map<string, FragmentDefinitionNode>();
    const pending = spreadsOf(def.selectionSet, []);
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      if (used.has(name)) continue;
      const fragment = fragments.get(name);
      if (!fragment) throw new Error(`Operation ${def.name?.value ?? '(anonymous)'} spreads unknown fragment ${name}`);
      used.set(name, fragment);
      spreadsOf(fragment.selectionSet, pending);
    }
    const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [def, ...used.values()] as DefinitionNode[] };
    return [{ name: def.name?.value ?? null, document }];
  });
}

/** The manifest of some sources: hash → canonical document, in source order. */
export function buildManifest(sources: readonly string[]): Record<string, string> {
  const manifest: Record<string, string> = {};
  for (const source of sources) {
    for (const { document } of persistedOperations(source)) {
      const text = printPersistedDocument(document);
      manifest[documentHash(text)] = text;
    }
  }
  return manifest;
}

/** The manifest file's text, as the client preset writes it (two-space JSON), with a final newline. */
export function manifestText(manifest: Record<string, string>): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Writes `schema/persisted-documents.json` from the operation files; returns whether it changed. */
export function writePersistedDocuments(files: readonly URL[]): boolean {
  const text = manifestText(buildManifest(files.map((f) => readFileSync(f, 'utf8'))));
  let before: string | null = null;
  try {
    before = readFileSync(PERSISTED_DOCUMENTS_PATH, 'utf8');
  } catch {
    before = null;
  }
  if (before === text) return false;
  writeFileSync(PERSISTED_DOCUMENTS_PATH, text);
  return true;
}

/**
 * Reads a manifest file (ours or a frontend's client preset output).
 * @throws Error naming the file when it is not a JSON object of sha256 hex → document, or when an
 * entry's key is not the sha256 of its document (e.g. a manifest generated with sha1).
 */
export function readManifest(path: string | URL): Map<string, string> {
  const where = String(path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${where}: not a readable JSON manifest (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${where}: a manifest is a JSON object of sha256 hash → document`);
  const out = new Map<string, string>();
  for (const [hash, document] of Object.entries(parsed)) {
    if (typeof document !== 'string') throw new Error(`${where}: the document of ${hash} is not a string`);
    if (documentHash(document) !== hash) {
      throw new Error(`${where}: ${hash} is not the sha256 of its document (generate it with persistedDocuments: { hashAlgorithm: 'sha256' })`);
    }
    out.set(hash, document);
  }
  return out;
}
