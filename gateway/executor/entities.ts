/**
 * The data moves of plan execution, with @apollo/gateway's semantics (executeQueryPlan.ts,
 * dataRewrites.ts, utilities/deepMerge.ts): following a Flatten path (`@` for "each element")
 * through the results gathered so far, building entity representations from a fetch's `requires`,
 * the rewrites a plan asks for around a fetch, merging what a fetch returned into the entities,
 * and the full paths of the entities a fetch was about (for its errors' paths).
 */
import { isAbstractType, isInterfaceType, isObjectType, Kind, type GraphQLSchema } from 'graphql';
import type { FetchDataRewrite, QueryPlanSelectionNode, ResponsePath } from '@apollo/query-planner';

export type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(obj: Obj, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * The values at `path` under `value`, one level of lists flattened per `@`; undefined or null
 * where the path stops at a missing or null value (nulls inside lists are kept).
 */
export function valuesAtPath(value: unknown, path: ResponsePath): unknown {
  const at = path.indexOf('@');
  if (at === -1) return followFields(value, path, 0, path.length);
  const head = followFields(value, path, 0, at);
  if (head === undefined || head === null) return head;
  const out: unknown[] = [];
  collect(head, path, at, out);
  return out;
}

/** Follows the field names of path[from, to) from `value`. */
function followFields(value: unknown, path: ResponsePath, from: number, to: number): unknown {
  let current = value;
  for (let i = from; i < to && current !== undefined && current !== null; i++) {
    const name = path[i];
    if (typeof name !== 'string') throw new Error(`Unexpected ${typeof name} found in path`);
    if (!isObj(current)) throw new Error(`Unexpected array in result for path element ${name}`);
    current = own(current, name);
  }
  return current;
}

/** Pushes onto `out` what path[at…] (starting with `@`) reaches in the list `list`. */
function collect(list: unknown, path: ResponsePath, at: number, out: unknown[]): void {
  if (!Array.isArray(list)) throw new Error('Expected a list in the result for "@"');
  const next = path.indexOf('@', at + 1);
  const end = next === -1 ? path.length : next;
  for (const element of list) {
    const value = followFields(element, path, at + 1, end);
    if (next !== -1 && value !== undefined && value !== null) collect(value, path, next, out);
    else if (next === -1 && Array.isArray(value)) for (const x of value) out.push(x);
    else out.push(value);
  }
}

/** Whether `obj` (by its `__typename`) is of `typeCondition` in the supergraph schema, remembered per pair. */
export class TypeTester {
  readonly #known = new Map<string, boolean>();

  constructor(readonly schema: GraphQLSchema) {}

  is(obj: Obj, typeCondition: string, unknownTypename = false): boolean {
    const typename = obj.__typename;
    if (!typename || typeof typename !== 'string') return unknownTypename;
    if (typename === typeCondition) return true;
    const key = `${typename}\0${typeCondition}`;
    let answer = this.#known.get(key);
    if (answer === undefined) {
      const type = this.schema.getType(typename);
      const condition = this.schema.getType(typeCondition);
      answer = !!type && !!condition && isAbstractType(condition) && (isObjectType(type) || isInterfaceType(type)) && this.schema.isSubType(condition, type);
      this.#known.set(key, answer);
    }
    return answer;
  }
}

/**
 * The representation of `source` for a fetch's `requires`; null when an input is missing (a
 * non-null input failed earlier and that error has been reported: the entity is left out).
 */
export function representationOf(types: TypeTester, source: unknown, selections: readonly QueryPlanSelectionNode[]): Obj | null {
  if (source === null || !isObj(source)) return null;
  const result: Obj = Object.create(null);
  for (const selection of selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.alias ?? selection.name;
      const value = own(source, name);
      if (value === undefined) return null;
      const sub = selection.selections;
      if (Array.isArray(value)) result[name] = value.map((v: unknown) => (sub ? representationOf(types, v, sub) : v));
      else result[name] = sub ? representationOf(types, value, sub) : value;
    } else if (selection.typeCondition && types.is(source, selection.typeCondition)) {
      merge(result, representationOf(types, source, selection.selections));
    }
  }
  return result;
}

/** Merges `source` into `target` as @apollo/gateway's `deepMerge` does (objects key by key, same-length lists element by element). */
export function merge(target: Obj, source: unknown): void {
  if (!isObj(source)) return;
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value === undefined || key === '__proto__') continue;
    const current = target[key];
    if (current && isObj(value)) {
      if (isObj(current)) merge(current, value);
      else target[key] = value;
    } else if (Array.isArray(value) && Array.isArray(current) && value.length === current.length) {
      for (let i = 0; i < value.length; i++) {
        const s: unknown = value[i];
        const t: unknown = current[i];
        if (isObj(t) && isObj(s)) merge(t, s);
        else current[i] = s;
      }
    } else {
      target[key] = value;
    }
  }
}

const FRAGMENT_PREFIX = '... on ';

/** Applies a fetch's input or output rewrites (@interfaceObject and key renames) to `value`. */
export function applyRewrites(types: TypeTester, rewrites: readonly FetchDataRewrite[] | undefined, value: unknown): void {
  if (!rewrites) return;
  for (const rewrite of rewrites) {
    const last = rewrite.path[rewrite.path.length - 1];
    if (last === undefined) continue;
    if (last.startsWith(FRAGMENT_PREFIX)) throw new Error(`Unexpected fragment as last element of ${rewrite.path.join(',')}`);
    const apply = (obj: Obj): void => {
      if (rewrite.kind === 'ValueSetter') {
        obj[last] = rewrite.setValueTo;
      } else {
        const at = own(obj, last);
        if (at) {
          obj[rewrite.renameKeyTo] = at;
          obj[last] = undefined;
        }
      }
    };
    applyAtPath(types, rewrite.path, 0, rewrite.path.length - 1, value, apply);
  }
}

function applyAtPath(types: TypeTester, path: readonly string[], from: number, end: number, value: unknown, apply: (obj: Obj) => void): void {
  if (Array.isArray(value)) {
    for (const element of value) applyAtPath(types, path, from, end, element, apply);
    return;
  }
  if (!isObj(value)) return;
  if (from === end) return apply(value);
  const element = path[from] ?? '';
  if (element.startsWith(FRAGMENT_PREFIX)) {
    if (types.is(value, element.slice(FRAGMENT_PREFIX.length), true)) applyAtPath(types, path, from + 1, end, value, apply);
  } else {
    applyAtPath(types, path, from + 1, end, own(value, element), apply);
  }
}

/**
 * Every full path that `path` (with `@` markers) reaches in `data`, `@` replaced by indexes, in
 * order: `["users", 0, "reviews", 1]`, … (@apollo/gateway's `generateHydratedPaths`).
 */
export function hydratedPaths(path: ResponsePath, data: unknown): ResponsePath[] {
  const out: ResponsePath[] = [];
  const walk = (prefix: ResponsePath, from: number, value: unknown): void => {
    if (value === null || value === undefined) return;
    const head = path[from];
    if (head === undefined) {
      out.push(prefix.slice());
    } else if (head === '@' || (typeof head === 'string' && Array.isArray(value))) {
      if (!Array.isArray(value)) throw new Error('expected array when encountering `@`');
      const next = head === '@' ? from + 1 : from;
      value.forEach((element: unknown, i) => {
        prefix.push(i);
        walk(prefix, next, element);
        prefix.pop();
      });
    } else if (typeof head === 'string') {
      if (isObj(value) && Object.hasOwn(value, head)) {
        prefix.push(head);
        walk(prefix, from + 1, value[head]);
        prefix.pop();
      }
    } else {
      throw new Error(`unknown path part "${String(head)}"`);
    }
  };
  walk([], 0, data);
  return out;
}
