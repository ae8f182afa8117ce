/**
 * The client's operation compiled once into what shaping the result needs (shape-apply.ts): for
 * each selection its response name, its type with the nullability and list wrappers unfolded, how
 * a leaf value is checked, its @skip/@include conditions and its sub-selections.
 *
 * Selections are grouped the way @apollo/federation-internals groups them when @apollo/gateway
 * builds its `Operation` (a field by response name and directives, a fragment by type condition
 * and directives, merged at the place of the first), so that the result's keys come out in the
 * same order as @apollo/gateway's.
 */
import {
  Kind,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  print,
  type DirectiveNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** A @skip/@include argument: a literal, or the name of the variable that holds it. */
export type Condition = boolean | { variable: string };

/** A field's type as the shaping walks it. `gql` is the graphql-js type (for error messages). */
export type OutType =
  | { kind: 'nonNull'; of: OutType; gql: GraphQLOutputType }
  | { kind: 'list'; of: OutType; gql: GraphQLOutputType }
  | { kind: 'leaf'; valid: (value: unknown) => boolean; gql: GraphQLOutputType }
  | { kind: 'composite'; gql: GraphQLCompositeType };

export interface FieldShape {
  kind: 'field';
  responseName: string;
  /** The response name as a JSON object key, with its colon (shape-write.ts). */
  key: string;
  skip: Condition | undefined;
  include: Condition | undefined;
  /** `__typename` (completed by the gateway, never trusted blindly from a subgraph). */
  typename: boolean;
  /** `__schema` / `__type`: answered by the gateway from the API schema. */
  introspection: FieldNode | null;
  type: OutType | null;
  selections: Shape[] | null;
}

export interface FragmentShape {
  kind: 'fragment';
  typeCondition: GraphQLCompositeType | null;
  skip: Condition | undefined;
  include: Condition | undefined;
  selections: Shape[];
  /** Whether the condition applies to a `__typename`, remembered per type name. */
  applies: Map<string, boolean>;
}

export type Shape = FieldShape | FragmentShape;

export interface OperationShape {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  fragments: readonly FragmentDefinitionNode[];
  rootType: GraphQLObjectType;
  selections: Shape[];
  /** Default values of the operation's variables (literals only; what @skip/@include and Condition nodes read). */
  defaults: Record<string, unknown>;
  /** No response name occurs twice in one object, fragments included: the answer can be written as it is walked (shape-write.ts). */
  writable: boolean;
}

type Group =
  | { kind: 'field'; nodes: FieldNode[]; directives: readonly DirectiveNode[] | undefined }
  | { kind: 'fragment'; typeCondition: string | null; sets: SelectionSetNode[]; directives: readonly DirectiveNode[] | undefined };

/**
 * Compiles `operation` (validated against `schema`, the API schema) with its document's fragments.
 * @throws Error when the operation selects what the schema does not have (it was not validated).
 */
export function compileOperation(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: readonly FragmentDefinitionNode[]): OperationShape {
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) throw new Error(`The schema has no ${operation.operation} type`);
  const byName = new Map(fragments.map((f) => [f.name.value, f]));
  const defaults: Record<string, unknown> = Object.create(null);
  for (const def of operation.variableDefinitions ?? []) {
    if (def.defaultValue) defaults[def.variable.name.value] = literalOf(def.defaultValue);
  }
  const compiler = new Compiler(schema, byName);
  const selections = compiler.selections([operation.selectionSet], rootType);
  return { schema, operation, fragments, rootType, selections, defaults, writable: namesOnce(selections) };
}

/** Whether each object's selections (its fragments' included) name every response name once, at every level. */
function namesOnce(selections: Shape[]): boolean {
  const names = new Set<string>();
  const inObject = (list: Shape[]): boolean =>
    list.every((s) => {
      if (s.kind === 'fragment') return inObject(s.selections);
      if (names.has(s.responseName)) return false;
      names.add(s.responseName);
      return !s.selections || namesOnce(s.selections);
    });
  return inObject(selections);
}

class Compiler {
  readonly #leafChecks = new Map<string, (value: unknown) => boolean>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  ) {}

  selections(sets: readonly SelectionSetNode[], parent: GraphQLCompositeType): Shape[] {
    const groups = new Map<string, Group>();
    for (const set of sets) {
      for (const selection of set.selections) {
        switch (selection.kind) {
          case Kind.FIELD: {
            const key = `${selection.alias?.value ?? selection.name.value}${directivesKey(selection.directives)}`;
            const group = groups.get(key);
            if (group?.kind === 'field') group.nodes.push(selection);
            else groups.set(key, { kind: 'field', nodes: [selection], directives: selection.directives });
            break;
          }
          case Kind.INLINE_FRAGMENT: {
            const typeCondition = selection.typeCondition?.name.value ?? null;
            this.#addFragment(groups, `... on ${typeCondition ?? ''}${directivesKey(selection.directives)}`, typeCondition, selection.selectionSet, selection.directives);
            break;
          }
          case Kind.FRAGMENT_SPREAD: {
            const fragment = this.fragments.get(selection.name.value);
            if (!fragment) throw new Error(`Unknown fragment "${selection.name.value}"`);
            this.#addFragment(groups, `...${selection.name.value}${directivesKey(selection.directives)}`, fragment.typeCondition.name.value, fragment.selectionSet, selection.directives);
            break;
          }
        }
      }
    }
    return [...groups.values()].map((group) => (group.kind === 'field' ? this.#field(group.nodes, group.directives, parent) : this.#fragment(group, parent)));
  }

  #addFragment(groups: Map<string, Group>, key: string, typeCondition: string | null, set: SelectionSetNode, directives: readonly DirectiveNode[] | undefined): void {
    const group = groups.get(key);
    if (group?.kind === 'fragment') group.sets.push(set);
    else groups.set(key, { kind: 'fragment', typeCondition, sets: [set], directives });
  }

  #fragment(group: Extract<Group, { kind: 'fragment' }>, parent: GraphQLCompositeType): FragmentShape {
    const type = group.typeCondition === null ? null : this.schema.getType(group.typeCondition);
    if (type !== null && !isCompositeType(type)) throw new Error(`Fragment on non-composite type "${group.typeCondition}"`);
    return { kind: 'fragment', typeCondition: type ?? null, ...conditionsOf(group.directives), selections: this.selections(group.sets, type ?? parent), applies: new Map() };
  }

  #field(nodes: FieldNode[], directives: readonly DirectiveNode[] | undefined, parent: GraphQLCompositeType): FieldShape {
    const [node] = nodes;
    if (!node) throw new Error('A field group without a field');
    const name = node.name.value;
    const responseName = node.alias?.value ?? name;
    const base = { kind: 'field' as const, responseName, key: `${JSON.stringify(responseName)}:`, ...conditionsOf(directives) };
    if (name === '__typename') return { ...base, typename: true, introspection: null, type: null, selections: null };
    if (name === '__schema' || name === '__type') return { ...base, typename: false, introspection: node, type: null, selections: null };
    if (!isObjectType(parent) && !isInterfaceType(parent)) throw new Error(`Cannot query field "${name}" on union "${parent.name}"`);
    const definition = parent.getFields()[name];
    if (!definition) throw new Error(`Cannot query field "${name}" on type "${parent.name}"`);
    const type = this.#outType(definition.type);
    const named = namedOf(type);
    const sets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
    return { ...base, typename: false, introspection: null, type, selections: named.kind === 'composite' ? this.selections(sets, named.gql) : null };
  }

  #outType(type: GraphQLOutputType): OutType {
    if (isNonNullType(type)) return { kind: 'nonNull', of: this.#outType(type.ofType), gql: type };
    if (isListType(type)) return { kind: 'list', of: this.#outType(type.ofType), gql: type };
    if (isCompositeType(type)) return { kind: 'composite', gql: type };
    let valid = this.#leafChecks.get(type.name);
    if (!valid) {
      valid = leafCheck(type);
      this.#leafChecks.set(type.name, valid);
    }
    return { kind: 'leaf', valid, gql: type };
  }
}

function namedOf(type: OutType): OutType {
  return type.kind === 'nonNull' || type.kind === 'list' ? namedOf(type.of) : type;
}

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const BUILT_IN_SCALARS = new Set(['Boolean', 'Int', 'ID', 'Float', 'String']);

/** What @apollo/federation-internals' `isValidLeafValue` accepts for a scalar or enum type. */
function leafCheck(type: Exclude<GraphQLOutputType, GraphQLCompositeType | { ofType: unknown }>): (value: unknown) => boolean {
  if (isEnumType(type)) return (value) => typeof value === 'string' && type.getValue(value) !== undefined;
  const name = type.name;
  if (!BUILT_IN_SCALARS.has(name)) return () => true;
  return (value) => {
    if (typeof value === 'boolean') return name === 'Boolean';
    if (typeof value === 'number' && Number.isFinite(value)) return name === 'Int' || name === 'ID' ? INTEGER.test(String(value)) : name === 'Float';
    if (typeof value === 'string') return name !== 'Boolean' && name !== 'Int' && name !== 'Float';
    return false;
  };
}

function directivesKey(directives: readonly DirectiveNode[] | undefined): string {
  return directives && directives.length > 0 ? ` ${directives.map((d) => print(d)).join(' ')}` : '';
}

function conditionsOf(directives: readonly DirectiveNode[] | undefined): { skip: Condition | undefined; include: Condition | undefined } {
  let skip: Condition | undefined;
  let include: Condition | undefined;
  for (const directive of directives ?? []) {
    const name = directive.name.value;
    if (name !== 'skip' && name !== 'include') continue;
    const arg = directive.arguments?.find((a) => a.name.value === 'if')?.value;
    const condition: Condition | undefined = arg?.kind === Kind.BOOLEAN ? arg.value : arg?.kind === Kind.VARIABLE ? { variable: arg.name.value } : undefined;
    if (name === 'skip') skip ??= condition;
    else include ??= condition;
  }
  return { skip, include };
}

/** A variable's default value as JSON (what the client would have sent). */
function literalOf(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.NULL:
      return null;
    case Kind.INT:
      return Number.parseInt(node.value, 10);
    case Kind.FLOAT:
      return Number.parseFloat(node.value);
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    case Kind.LIST:
      return node.values.map(literalOf);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literalOf(f.value)]));
    case Kind.VARIABLE:
      return undefined;
  }
}

/** Whether an object of type `typename` satisfies `condition` (the same type, or a member or implementation of it). */
export function typeApplies(schema: GraphQLSchema, condition: GraphQLCompositeType, typename: string): boolean {
  if (condition.name === typename) return true;
  const type = schema.getType(typename);
  if (!type || !isAbstractType(condition)) return false;
  return (isObjectType(type) || isInterfaceType(type)) && schema.isSubType(condition, type);
}
