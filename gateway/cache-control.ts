/**
 * `Cache-Control` of GraphQL GET answers from the `@cacheControl` hints subgraphs declare in their
 * SDL (kernel/policy.graphql; Apollo's directive, carried into the supergraph by
 * `@composeDirective`). The gateway executes query plans, not resolvers, so Apollo Server's cache
 * control plugin sees no field: this plugin computes the operation's policy from the supergraph's
 * hints with Apollo's rules and hands it to that plugin, which writes the header
 * (`max-age=<n>, public|private`, or `no-store`; never for a response with errors).
 *
 * Apollo's rules: a root field, or a field returning an object, interface or union, has `maxAge`
 * 0 unless it or its type has a hint (`inheritMaxAge: true` keeps its parent's); a scalar field
 * keeps its parent's. The operation's `maxAge` is the least of its fields'; its scope is PRIVATE
 * when any hint says so. This gateway adds: only GET answers of queries are cacheable (a POST is
 * not cached by HTTP caches; mutations never run over GET), and an answer to a request that
 * carried credentials is at most `private`.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, getNamedType, isCompositeType, isObjectType, isInterfaceType, parse, type ConstDirectiveNode, type DocumentNode, type FragmentDefinitionNode, type GraphQLCompositeType, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { GatewayContext } from './context.ts';

export interface CacheHint {
  maxAge?: number;
  scope?: 'PUBLIC' | 'PRIVATE';
  inheritMaxAge?: boolean;
}

export interface CacheHints {
  /** Hints on fields, by `Type.field`. */
  fields: ReadonlyMap<string, CacheHint>;
  /** Hints on object, interface and union types, by name. */
  types: ReadonlyMap<string, CacheHint>;
}

export interface CachePolicy {
  maxAge: number;
  scope: 'PUBLIC' | 'PRIVATE';
}

function hintOf(directives: readonly ConstDirectiveNode[] | undefined): CacheHint | undefined {
  const d = directives?.find((x) => x.name.value === 'cacheControl');
  if (!d) return undefined;
  const hint: CacheHint = {};
  for (const { name, value } of d.arguments ?? []) {
    if (name.value === 'maxAge' && value.kind === Kind.INT) hint.maxAge = Number(value.value);
    if (name.value === 'scope' && value.kind === Kind.ENUM && (value.value === 'PUBLIC' || value.value === 'PRIVATE')) hint.scope = value.value;
    if (name.value === 'inheritMaxAge' && value.kind === Kind.BOOLEAN) hint.inheritMaxAge = value.value;
  }
  return hint;
}

/** Reads the `@cacheControl` hints of a supergraph (or subgraph) SDL. */
export function readCacheHints(sdl: string): CacheHints {
  const fields = new Map<string, CacheHint>();
  const types = new Map<string, CacheHint>();
  for (const def of parse(sdl, { noLocation: true }).definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION && def.kind !== Kind.UNION_TYPE_DEFINITION) continue;
    const typeHint = hintOf(def.directives);
    if (typeHint) types.set(def.name.value, typeHint);
    if (def.kind === Kind.UNION_TYPE_DEFINITION) continue;
    for (const field of def.fields ?? []) {
      const hint = hintOf(field.directives);
      if (hint) fields.set(`${def.name.value}.${field.name.value}`, hint);
    }
  }
  return { fields, types };
}

/** The cache policy of one operation under Apollo's rules (maxAge 0: not cacheable). */
export function operationCachePolicy(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, hints: CacheHints): CachePolicy {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  let maxAge = Number.POSITIVE_INFINITY;
  let scope: CachePolicy['scope'] = 'PUBLIC';
  const restrict = (hint: CacheHint | undefined): void => {
    if (hint?.scope === 'PRIVATE') scope = 'PRIVATE';
  };
  const walk = (set: SelectionSetNode, parent: GraphQLCompositeType, isRoot: boolean, seen: ReadonlySet<FragmentDefinitionNode>): void => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(sel.name.value);
        const type = fragment && schema.getType(fragment.typeCondition.name.value);
        if (fragment && !seen.has(fragment) && type && isCompositeType(type)) walk(fragment.selectionSet, type, isRoot, new Set([...seen, fragment]));
        continue;
      }
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        const type = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) walk(sel.selectionSet, type, isRoot, seen);
        continue;
      }
      if (sel.name.value.startsWith('__')) continue;
      const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[sel.name.value] : undefined;
      if (!field) continue;
      const returned = getNamedType(field.type);
      const fieldHint = hints.fields.get(`${parent.name}.${sel.name.value}`);
      const typeHint = isCompositeType(returned) ? hints.types.get(returned.name) : undefined;
      restrict(fieldHint);
      restrict(typeHint);
      if (!fieldHint?.inheritMaxAge) {
        const age = fieldHint?.maxAge ?? typeHint?.maxAge ?? (isRoot || isCompositeType(returned) ? 0 : undefined);
        if (age !== undefined) maxAge = Math.min(maxAge, age);
      }
      if (sel.selectionSet && isCompositeType(returned)) walk(sel.selectionSet, returned, false, seen);
    }
  };
  const root = schema.getRootType(operation.operation);
  if (root) walk(operation.selectionSet, root, true, new Set());
  return { maxAge: Number.isFinite(maxAge) ? maxAge : 0, scope };
}

/** Feeds the operation's policy to Apollo Server's cache control plugin for GET queries. */
export function cacheControlPlugin(hints: CacheHints): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ request }) {
      if (request.http?.method !== 'GET') return;
      return {
        async didResolveOperation({ schema, document, operation, contextValue, overallCachePolicy }) {
          if (operation?.operation !== 'query') return;
          const policy = operationCachePolicy(schema, document, operation, hints);
          const credentials = contextValue.auth.mode !== 'anonymous';
          overallCachePolicy.restrict({ maxAge: policy.maxAge, scope: credentials ? 'PRIVATE' : policy.scope });
        },
      };
    },
  };
}
