/**
 * The field policies of the composed supergraph (README "Field policies"), read once at start-up.
 * Subgraphs declare them with directives in their SDL (kernel/policy.graphql); the gateway's rate
 * limiter, deadline budgets, subscription sharing and multipart uploads, and the REST layer, read
 * them from here, so the gateway itself names no subgraph field or type.
 */
import { Kind, parse, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { readPolicies, type FieldPolicy, type PolicyTable } from '../kernel/policy.ts';
import { UPLOAD_INPUT_FIELDS } from './multipart.ts';

export type { FieldPolicy, PolicyTable } from '../kernel/policy.ts';

/**
 * The last table read, by its SDL: the gateway and the REST layer read the same supergraph at
 * start-up, and it is parsed once. A table is never modified by its readers.
 */
let last: { sdl: string; table: PolicyTable } | undefined;

/**
 * Reads the policy table of a supergraph SDL (`document`: the SDL already parsed, if it is).
 * @throws Error when a directive has an unknown value, or an `@upload` input is not the shape the
 * multipart handler fills.
 */
export function loadPolicies(supergraphSdl: string, document?: DocumentNode): PolicyTable {
  const sdl = supergraphSdl.trimEnd();
  if (last?.sdl === sdl) return last.table;
  const table = readPolicies(document ?? parse(sdl, { noLocation: true }));
  for (const [type, fields] of table.uploadInputs) {
    const expected = [...UPLOAD_INPUT_FIELDS].sort();
    if (JSON.stringify([...fields].sort()) !== JSON.stringify(expected)) {
      throw new Error(`@upload input ${type} must have exactly the fields ${expected.join(', ')} (has ${fields.join(', ')})`);
    }
  }
  last = { sdl, table };
  return table;
}

/** The policy of `Type.field`, if it declares one. */
export function policyOf(table: PolicyTable, field: string): FieldPolicy | undefined {
  return table.fields.get(field);
}

/** Names of the Subscription fields marked `@exclusive` (never deduplicated). */
export function exclusiveSubscriptions(table: PolicyTable): ReadonlySet<string> {
  const prefix = 'Subscription.';
  return new Set([...table.fields].filter(([key, p]) => p.exclusive && key.startsWith(prefix)).map(([key]) => key.slice(prefix.length)));
}

const ROOT_TYPE = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' } as const;

/** Root fields by operation node: a cached document (Apollo Server's, the REST runner's) is the same object on every request. */
const rootFieldsByOperation = new WeakMap<OperationDefinitionNode, readonly string[]>();

/** `Type.field` of each root field `operation` selects (each named fragment visited once); computed once per operation node. */
export function rootFieldsOfOperation(operation: OperationDefinitionNode, document: DocumentNode): readonly string[] {
  let fields = rootFieldsByOperation.get(operation);
  if (!fields) {
    fields = Object.freeze(collectRootFields(operation, document));
    rootFieldsByOperation.set(operation, fields);
  }
  return fields;
}

function collectRootFields(operation: OperationDefinitionNode, document: DocumentNode): string[] {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])));
  const root = ROOT_TYPE[operation.operation];
  const fields = new Set<string>();
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode): void => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) fields.add(`${root}.${sel.name.value}`);
      else if (sel.kind === Kind.INLINE_FRAGMENT) visit(sel.selectionSet);
      else if (!seen.has(sel.name.value)) {
        seen.add(sel.name.value);
        const fragment = fragments.get(sel.name.value);
        if (fragment) visit(fragment);
      }
    }
  };
  visit(operation.selectionSet);
  return [...fields];
}
