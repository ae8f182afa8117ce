/** A REST route takes its auth mode, scope and rate-limit policy from its root field's SDL directives. */
import { describe, expect, it } from 'vitest';
import { readPolicies } from '../kernel/policy.ts';
import { defineRoute } from './route.ts';
import { followPolicies, withFieldPolicies } from './route-policies.ts';
import type { PolicyTable } from '../kernel/policy.ts';
import { ROUTES } from './areas/index.ts';

const policyOf = (id: string) => {
  const r = ROUTES.find((x) => x.id === id);
  return r ? [r.auth, r.scope, r.policy] : null;
};

describe('route policies', () => {
  it('reads each route’s access and rate policy from the supergraph', () => {
    expect(Object.fromEntries(['AUTH-1', 'AUTH-5', 'ORG-6', 'KEY-2', 'CONV-2', 'CONV-2S', 'CONV-12', 'KB-3', 'KB-4'].map((id) => [id, policyOf(id)]))).toEqual({
      'AUTH-1': ['P', null, 'auth'],
      'AUTH-5': ['B', null, 'default'],
      'ORG-6': ['B+K', 'organizations:read', 'default'],
      'KEY-2': ['B', null, 'default'],
      'CONV-2': ['B+K', 'conversations:write', 'ai'],
      'CONV-2S': ['B+K', 'conversations:read', 'default'],
      'CONV-12': ['B+K·adm', 'api:read', 'default'],
      'KB-3': ['B+K', 'rag:write', 'upload'],
      'KB-4': ['B+K', 'rag:read', 'ai'],
    });
  });

  const base = { method: 'GET', path: '/api/x', summary: 'x', tag: 'X', status: 200, variables: () => ({}), result: (d: Record<string, unknown>) => d } as const;
  const policies = readPolicies('type Query { a: Int @access(auth: "B+K", scope: "a:read") @rateLimit(policy: "ai") b: Int @access(auth: "B") }');
  const operations = new Map([['A', 'query A { a }'], ['AB', 'query AB { a b }']]);

  it('keeps what a route declares itself, and refuses a route whose fields disagree', () => {
    expect(withFieldPolicies([defineRoute({ ...base, id: 'X-1', operation: 'A' })], policies, operations).map((r) => [r.auth, r.scope, r.policy])).toEqual([['B+K', 'a:read', 'ai']]);
    expect(withFieldPolicies([defineRoute({ ...base, id: 'X-2', operation: 'A', auth: 'B+I', scope: null, policy: null })], policies, operations).map((r) => [r.auth, r.scope, r.policy])).toEqual([['B+I', null, null]]);
    expect(() => withFieldPolicies([defineRoute({ ...base, id: 'X-3', operation: 'AB' })], policies, operations)).toThrow('Route X-3: the root fields of AB declare no single @access; declare auth and scope on the route');
    expect(() => withFieldPolicies([defineRoute({ ...base, id: 'X-4', operation: 'Nope' })], policies, operations)).toThrow('Route X-4 names unknown operation Nope');
  });

  it('follows the supergraph served: a new table re-resolves what the route does not declare; one that makes it ambiguous keeps what it had', () => {
    const [route, declared] = withFieldPolicies([defineRoute({ ...base, id: 'X-5', operation: 'A' }), defineRoute({ ...base, id: 'X-6', operation: 'A', policy: 'public' })], policies, operations);
    if (!route || !declared) throw new Error('unreachable');
    let served: PolicyTable = policies;
    const live: PolicyTable = { get fields() { return served.fields; }, get uploadInputs() { return served.uploadInputs; }, get rootFields() { return served.rootFields; } };
    const conflicts: string[] = [];
    const accessOf = followPolicies(live, new Map([...operations, ['A', 'query A { a }']]), (r, err) => conflicts.push(`${r.id}: ${err.message}`));
    const seen = () => [route, declared].map((r) => { const a = accessOf(r); return [a.auth, a.scope, a.policy]; });
    expect(seen()).toEqual([['B+K', 'a:read', 'ai'], ['B+K', 'a:read', 'public']]);
    served = readPolicies('type Query { a: Int @access(auth: "B+K", scope: "a:write") @rateLimit(policy: "upload") }');
    expect(seen()).toEqual([['B+K', 'a:write', 'upload'], ['B+K', 'a:write', 'public']]);
    served = readPolicies('type Query { a: Int }');
    expect([seen(), seen()]).toEqual(Array(2).fill([['B+K', 'a:read', 'ai'], ['B+K', 'a:read', 'public']]));
    expect(conflicts).toEqual(['X-5: Route X-5: the root fields of A declare no single @access; declare auth and scope on the route', 'X-6: Route X-6: the root fields of A declare no single @access; declare auth and scope on the route']);
  });
});
