/**
 * A REST route's auth mode, API-key scope and rate-limit policy are those of the GraphQL root
 * field its operation runs, read from the composed supergraph (README "Field policies"), so they
 * are declared once, in the subgraph SDL. A route declares them itself only where it is not one
 * root field's surface (e.g. `B+I`, or not rate limited).
 */
import { Kind, parse, type DocumentNode } from 'graphql';
import { loadPolicies, policyOf, rootFieldsOfOperation, type PolicyTable } from '../gateway/policies.ts';
import { loadSupergraph } from '../schema/compose.ts';
import type { RateLimitPolicy } from '../kernel/config.ts';
import type { AuthMode, RatePolicy, Route, RouteDecl } from './route.ts';
import { loadOperations } from './operations.ts';

/** When an operation touches several policies it counts once, against the strictest (as over GraphQL). */
const STRICTNESS: readonly RateLimitPolicy[] = ['auth', 'upload', 'ai', 'public', 'default'];

/** The root fields (`Type.field`) of the operation named `name` in `text` (parsed through `parsed`, once per file). */
function rootFieldsOf(text: string, name: string, parsed: Map<string, DocumentNode>): string[] {
  let doc = parsed.get(text);
  if (!doc) {
    doc = parse(text, { noLocation: true });
    parsed.set(text, doc);
  }
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name);
  return op?.kind === Kind.OPERATION_DEFINITION ? rootFieldsOfOperation(op, doc) : [];
}

/**
 * Completes each route with the `@access` and `@rateLimit` of its operation's root fields.
 * @throws Error when a route's operation is unknown, or its root fields disagree on access and the
 * route does not declare its own.
 */
export function withFieldPolicies(routes: readonly RouteDecl[], policies: PolicyTable, operations: ReadonlyMap<string, string>): Route[] {
  // An area's routes share its operations file.
  const parsed = new Map<string, DocumentNode>();
  return routes.map((route) => {
    const text = operations.get(route.operation);
    if (text === undefined) throw new Error(`Route ${route.id} names unknown operation ${route.operation}`);
    const fields = rootFieldsOf(text, route.operation, parsed).map((f) => policyOf(policies, f));
    const rules = [...new Set(fields.map((p) => JSON.stringify(p?.access ?? null)))];
    const access = fields[0]?.access;
    if ((route.auth === undefined || route.scope === undefined) && (rules.length !== 1 || !access)) {
      throw new Error(`Route ${route.id}: the root fields of ${route.operation} declare no single @access; declare auth and scope on the route`);
    }
    const found = new Set(fields.map((p) => p?.rateLimit ?? 'default'));
    const auth: AuthMode = route.auth ?? access?.auth ?? 'B';
    const scope: string | null = route.scope !== undefined ? route.scope : (access?.scope ?? null);
    const policy: RatePolicy = route.policy !== undefined ? route.policy : (STRICTNESS.find((p) => found.has(p)) ?? 'default');
    return { ...route, auth, scope, policy };
  });
}

/** {@link withFieldPolicies} against the committed supergraph and `schema/operations`. */
export function resolveRoutes(routes: readonly RouteDecl[]): Route[] {
  return withFieldPolicies(routes, loadPolicies(loadSupergraph()), loadOperations());
}
