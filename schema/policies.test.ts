/**
 * Field policies (README "Field policies") are declared once in the subgraph SDL and reach the
 * gateway through composition: every root field says who may call it, and the supergraph carries
 * the rate-limit, budget, sharing and upload declarations the gateway reads.
 */
import { describe, expect, it } from 'vitest';
import { SUBGRAPHS } from '../subgraphs/index.ts';
import { fieldsWithoutAccess, readPolicies } from '../kernel/policy.ts';
import { exclusiveSubscriptions, loadPolicies } from '../gateway/policies.ts';
import { loadSupergraph } from './compose.ts';

describe('field policies', () => {
  it('declares @access on every Query, Mutation and Subscription field of every subgraph', () => {
    const missing = SUBGRAPHS.flatMap((s) => fieldsWithoutAccess(readPolicies(s.typeDefs)).map((f) => `${s.name}: ${f}`));
    expect(missing, 'add @access(auth: …, scope: …) to these fields').toEqual([]);
    const supergraph = loadPolicies(loadSupergraph());
    const subgraphFields = SUBGRAPHS.flatMap((s) => readPolicies(s.typeDefs).rootFields);
    expect([...supergraph.rootFields].sort()).toEqual(subgraphFields.sort());
    expect(fieldsWithoutAccess(supergraph)).toEqual([]);
  });

  it('carries every policy directive into the committed supergraph', () => {
    const table = loadPolicies(loadSupergraph());
    const only = (pick: (p: NonNullable<ReturnType<typeof table.fields.get>>) => unknown) =>
      Object.fromEntries([...table.fields].flatMap(([key, p]) => (pick(p) ? [[key, pick(p)]] : [])));
    expect(only((p) => p.rateLimit)).toEqual({
      'Mutation.register': 'auth',
      'Mutation.login': 'auth',
      'Mutation.refreshToken': 'auth',
      'Mutation.chat': 'ai',
      'Mutation.ragQuery': 'ai',
      'Mutation.uploadKnowledgeDocument': 'upload',
      'Query.integrationJwks': 'public',
      'Query.integrationKeyFingerprint': 'public',
      'Mutation.completeGoogleCalendarOAuth': 'public',
      'Query.publicXpProfile': 'public',
      'Mutation.evaluateXel': 'ai',
      'Mutation.regenerateXelTask': 'ai',
    });
    expect(only((p) => p.budget)).toEqual({ 'Mutation.chat': 'ai', 'Mutation.ragQuery': 'ai', 'Mutation.uploadKnowledgeDocument': 'ingestion' });
    expect([...exclusiveSubscriptions(table)].sort()).toEqual(['chatStream', 'chatStreamResume']);
    expect([...table.uploadInputs.keys()]).toEqual(['DocumentFileInput']);
    expect(table.fields.get('Query.me')?.access).toEqual({ auth: 'B' });
    expect(table.fields.get('Query.contentSearchStatus')?.access).toEqual({ auth: 'B+K·adm', scope: 'api:read' });
  });

  it('reports a root field without @access and refuses unknown values and upload shapes', () => {
    const sdl = (extra: string) => `type Query { a: Int @access(auth: "P") b: Int } ${extra}`;
    expect(fieldsWithoutAccess(readPolicies(sdl('')))).toEqual(['Query.b']);
    expect(() => readPolicies(sdl('type Mutation { m: Int @access(auth: "X") }'))).toThrow('Mutation.m @access(auth:): "X" is not one of P, B, B+K, B·adm, B+K·adm, B+I');
    expect(() => readPolicies(sdl('type Mutation { m: Int @rateLimit(policy: "fast") }'))).toThrow('Mutation.m @rateLimit(policy:): "fast" is not one of auth, ai, upload, public, default');
    expect(() => readPolicies(sdl('type Mutation { m: Int @budget(kind: "slow") }'))).toThrow('Mutation.m @budget(kind:): "slow" is not one of ai, ingestion');
    expect(() => loadPolicies(sdl('input F @upload { filename: String! bytes: String! }'))).toThrow(
      '@upload input F must have exactly the fields contentBase64, contentType, filename (has filename, bytes)',
    );
  });
});
