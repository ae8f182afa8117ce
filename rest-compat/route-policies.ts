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
function rootFieldsOf(text: string, name: string, parsed: Map<string, DocumentNode>): readonly string[] {
  let doc = parsed.get(text);
  if (!doc) {
    doc = parse(text, { noLocation: true });
    parsed.set(text, doc);
  }
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name);
  return op?.kind === Kind.OPERATION_DEFINITION ? rootFieldsOfOperation(op, doc) : [];
}

/** What authorising a route needs: its auth mode, API-key scope and rate-limit policy. */
export type RouteAccess = Pick<Route, 'auth' | 'scope' | 'policy'>;

/**
 * A route's access under `policies`: what it declares itself, the rest from its operation's root fields.
 * @throws Error when the root fields disagree on access and the route does not declare its own.
 */
function accessOf(route: RouteDecl, policies: PolicyTable, text: string, parsed: Map<string, DocumentNode>): RouteAccess {
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
  return { auth, scope, policy };
}

/**
 * Completes each route with the `@access` and `@rateLimit` of its operation's root fields (and
 * keeps what it declares itself, in `declared`, so that {@link followPolicies} can resolve it again).
 * @throws Error when a route's operation is unknown, or its root fields disagree on access and the
 * route does not declare its own.
 */
export function withFieldPolicies(routes: readonly RouteDecl[], policies: PolicyTable, operations: ReadonlyMap<string, string>): Route[] {
  // An area's routes share its operations file.
  const parsed = new Map<string, DocumentNode>();
  return routes.map((route) => {
    const text = operations.get(route.operation);
    if (text === undefined) throw new Error(`Route ${route.id} names unknown operation ${route.operation}`);
    return { ...route, ...accessOf(route, policies, text, parsed), declared: { auth: route.auth, scope: route.scope, policy: route.policy } };
  });
}

/**
 * Each route's access under the supergraph served now (`policies`: the gateway's live view), so a
 * reload that changes a root field's `@access` or `@rateLimit` changes its REST routes as it
 * changes GraphQL. Resolved once per route and supergraph. A route whose fields' policies
 * disagree in the supergraph served (`onConflict` is told once per supergraph) has the access it
 * was given at start-up, from the committed supergraph. (The OpenAPI document describes that one.)
 */
export function followPolicies(policies: PolicyTable, operations: ReadonlyMap<string, string>, onConflict: (route: Route, err: Error) => void): (route: Route) => RouteAccess {
  const byTable = new WeakMap<object, { parsed: Map<string, DocumentNode>; access: Map<Route, RouteAccess> }>();
  return (route) => {
    const text = operations.get(route.operation);
    if (!route.declared || text === undefined) return route;
    const table = policies.fields;
    let resolved = byTable.get(table);
    if (!resolved) byTable.set(table, (resolved = { parsed: new Map(), access: new Map() }));
    let access = resolved.access.get(route);
    if (!access) {
      try {
        access = accessOf({ ...route, ...route.declared }, policies, text, resolved.parsed);
      } catch (err) {
        onConflict(route, err as Error);
        access = route;
      }
      resolved.access.set(route, access);
    }
    return access;
  };
}

/** {@link withFieldPolicies} against the committed supergraph and `schema/operations`. */
export function resolveRoutes(routes: readonly RouteDecl[]): Route[] {
  return withFieldPolicies(routes, loadPolicies(loadSupergraph()), loadOperations());
}
