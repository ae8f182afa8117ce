/**
 * The final shaping of what the fetches gathered into the client's answer, with the semantics of
 * @apollo/gateway's `computeResponse` (resultShaping.ts): only the requested fields, in the
 * operation's order, under their aliases; `__typename` completed from the data or the parent type
 * (root types included); @skip/@include applied; leaf values checked; a null in a non-null
 * position nulls its nearest nullable parent, with one error per null that was not already
 * reported. Introspection fields are answered by the `introspect` callback.
 */
import { ERRORS } from '@apollo/federation-internals';
import { isCompositeType, isObjectType, type GraphQLCompositeType, type GraphQLError } from 'graphql';
import type { ResponsePath } from '@apollo/query-planner';
import { typeApplies, type Condition, type FieldShape, type OperationShape, type OutType, type Shape } from './shape-compile.ts';

export type Obj = Record<string, unknown>;

/** What a walk over the merged data (this one, or shape-write.ts's) carries. */
export interface WalkBase {
  shape: OperationShape;
  variables: Obj;
  errors: GraphQLError[];
  introspect: (field: FieldShape) => unknown;
}

interface Walk extends WalkBase {
  /** What `update` returns, one object per walk: every caller reads it before the next call (no object per value). */
  result: Updated;
}

/** What shaping produced: the data (null when a null reached the root) and the value-completion errors. */
export interface Shaped {
  data: Obj | null;
  errors: GraphQLError[];
}

/** Shapes `input` (the merged fetch results) to the operation. */
export function shapeResult(shape: OperationShape, input: Obj, variables: Obj, introspect: (field: FieldShape) => unknown): Shaped {
  const walk: Walk = { shape, variables, errors: [], introspect, result: { value: null, invalid: false, reported: false } };
  const data: Obj = Object.create(null);
  const ok = applySelections(walk, input, shape.selections, data, [], shape.rootType);
  return { data: ok ? data : null, errors: walk.errors };
}

/** The value of a @skip/@include argument; a variable must have a boolean value (the operation was validated). */
export function conditionValue(condition: Condition, variables: Obj, defaults: Obj): boolean {
  if (typeof condition === 'boolean') return condition;
  const value = Object.hasOwn(variables, condition.variable) && variables[condition.variable] !== undefined ? variables[condition.variable] : defaults[condition.variable];
  if (typeof value !== 'boolean') throw new Error(`Unexpected value ${String(value)} for variable $${condition.variable}`);
  return value;
}

function skipped(walk: WalkBase, selection: Shape): boolean {
  const { skip, include } = selection;
  if (skip !== undefined && conditionValue(skip, walk.variables, walk.shape.defaults)) return true;
  return include !== undefined && !conditionValue(include, walk.variables, walk.shape.defaults);
}

/** Whether `selection` applies to `input`: not skipped by @skip/@include, and a fragment's type condition met. */
export function selected(walk: WalkBase, input: Obj, selection: Shape, parentType: GraphQLCompositeType): boolean {
  if ((selection.skip !== undefined || selection.include !== undefined) && skipped(walk, selection)) return false;
  if (selection.kind !== 'fragment') return true;
  const typename = input.__typename;
  if (typename !== undefined && typename !== null && typeof typename !== 'string') throw new Error(`Got unexpected value for __typename: ${String(typename)}`);
  return fragmentApplies(walk, selection.typeCondition, typename || undefined, parentType, selection.applies);
}

/** Fills `output` from `input`; false when a null must bubble up to the parent. */
function applySelections(walk: Walk, input: Obj, selections: Shape[], output: Obj, path: ResponsePath, parentType: GraphQLCompositeType): boolean {
  for (const selection of selections) {
    if (!selected(walk, input, selection, parentType)) continue;
    if (selection.kind === 'fragment') {
      if (!applySelections(walk, input, selection.selections, output, path, selection.typeCondition ?? parentType)) return false;
      continue;
    }
    const name = selection.responseName;
    const outputValue = output[name];
    if (selection.introspection) {
      if (outputValue === undefined) output[name] = walk.introspect(selection);
      continue;
    }
    let inputValue = Object.hasOwn(input, name) ? (input[name] ?? null) : null;
    if (selection.typename) {
      if (outputValue !== undefined) continue;
      if (inputValue === null && name !== '__typename') inputValue = input.__typename ?? null;
      const type = typeof inputValue === 'string' ? (walk.shape.schema.getType(inputValue) ?? parentType) : parentType;
      if (!isObjectType(type)) return false;
      output[name] = type.name;
      continue;
    }
    if (!selection.type) throw new Error(`No type for field "${name}"`);
    path.push(name);
    const result = update(walk, outputValue, selection.type, inputValue, selection.selections, path, parentType);
    output[name] = result.value;
    path.pop();
    if (result.invalid) return false;
  }
  return true;
}

function fragmentApplies(walk: WalkBase, condition: GraphQLCompositeType | null, typename: string | undefined, parentType: GraphQLCompositeType, cache: Map<string, boolean>): boolean {
  if (!condition) return true;
  const key = typename ?? `\0${parentType.name}`;
  let applies = cache.get(key);
  if (applies === undefined) {
    applies = typename ? walk.shape.schema.getType(typename) !== undefined && typeApplies(walk.shape.schema, condition, typename) : typeApplies(walk.shape.schema, condition, parentType.name);
    cache.set(key, applies);
  }
  return applies;
}

interface Updated {
  value: unknown;
  /** A null in a non-null position: the parent must become null. */
  invalid: boolean;
  /** An error was already reported for this value (no second one as the null bubbles up). */
  reported: boolean;
}

/** Sets and returns the walk's one result. */
function updated(walk: Walk, value: unknown, invalid = false, reported = false): Updated {
  const result = walk.result;
  result.value = value;
  result.invalid = invalid;
  result.reported = reported;
  return result;
}

export function describePath(path: ResponsePath, type: { toString(): string }, parentType: GraphQLCompositeType): string {
  const element = path[path.length - 1];
  return typeof element === 'string' ? `field ${parentType.name}.${element}` : `array element of type ${type.toString()} at index ${String(element)}`;
}

function update(walk: Walk, outputValue: unknown, type: OutType, inputValue: unknown, selections: Shape[] | null, path: ResponsePath, parentType: GraphQLCompositeType): Updated {
  if (outputValue === null || (outputValue !== undefined && !selections)) return updated(walk, outputValue);
  switch (type.kind) {
    case 'nonNull': {
      const inner = update(walk, outputValue, type.of, inputValue, selections, path, parentType);
      if (inner.value !== null) return updated(walk, inner.value);
      if (!inner.reported) walk.errors.push(ERRORS.INVALID_GRAPHQL.err(`Cannot return null for non-nullable ${describePath(path, type.of.gql, parentType)}.`, { path: [...path] }));
      return updated(walk, null, true, true);
    }
    case 'list': {
      if (inputValue === null) return updated(walk, null);
      if (!Array.isArray(inputValue)) throw new Error(`Invalid non-list value ${String(inputValue)} returned by subgraph for list type ${type.gql.toString()}`);
      if (outputValue !== undefined && (!Array.isArray(outputValue) || outputValue.length !== inputValue.length)) throw new Error(`Invalid value returned by subgraph for list type ${type.gql.toString()}`);
      const existing = outputValue as unknown[] | undefined;
      const list = new Array<unknown>(inputValue.length);
      let nullify = false;
      let reported = false;
      for (let i = 0; i < inputValue.length; i++) {
        path.push(i);
        const element = update(walk, existing?.[i], type.of, inputValue[i] ?? null, selections, path, parentType);
        path.pop();
        nullify ||= element.invalid;
        reported ||= element.reported;
        list[i] = element.value;
      }
      return updated(walk, nullify ? null : list, false, reported);
    }
    case 'composite':
      return inputValue === null ? updated(walk, null) : composite(walk, outputValue, type.gql, inputValue, selections, path, parentType);
    case 'leaf': {
      if (inputValue === null) return updated(walk, null);
      if (type.valid(inputValue)) return updated(walk, inputValue);
      walk.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${describePath(path, type.gql, parentType)}.`, { path: [...path] }));
      return updated(walk, null, false, true);
    }
  }
}

function composite(walk: Walk, outputValue: unknown, type: GraphQLCompositeType, inputValue: unknown, selections: Shape[] | null, path: ResponsePath, parentType: GraphQLCompositeType): Updated {
  const objType = objectTypeOf(walk, type, inputValue, selections, path, parentType);
  if (!objType) return updated(walk, null, false, true);
  const output = outputValue === undefined ? (Object.create(null) as Obj) : (outputValue as Obj);
  const ok = applySelections(walk, inputValue as Obj, selections as Shape[], output, path, objType);
  return ok ? updated(walk, output) : updated(walk, null, false, true);
}

/**
 * The type of a composite value (an object, with sub-selections: a throw otherwise): the one its
 * `__typename` names, or `type`. Null, with the error reported, when the schema has no composite
 * type of that name (the value is then null).
 */
export function objectTypeOf(walk: WalkBase, type: GraphQLCompositeType, inputValue: unknown, selections: Shape[] | null, path: ResponsePath, parentType: GraphQLCompositeType): GraphQLCompositeType | null {
  if (!selections) throw new Error(`Invalid empty selection set for composite type ${type.name}`);
  if (typeof inputValue !== 'object' || inputValue === null || Array.isArray(inputValue)) throw new Error(`Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${type.name}`);
  const typename = (inputValue as Obj).__typename;
  if (typename !== undefined && typeof typename !== 'string') throw new Error(`Invalid non-string value ${String(typename)} for __typename at ${path.join('.')}`);
  if (!typename) return type;
  const named = walk.shape.schema.getType(typename);
  if (named && isCompositeType(named)) return named;
  // The type name may be @inaccessible: it stays out of the message.
  walk.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid __typename found for object at ${describePath(path, type, parentType)}.`, { path: [...path] }));
  return null;
}
