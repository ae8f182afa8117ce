/**
 * The entity representations one fetch sends, each distinct one once (the heavy nested queries
 * repeat the same few entities many times), with the entities that share each.
 *
 * A fetch whose `requires` is flat (leaf fields, at the top or under one type condition, as the
 * planner writes a key: `... on User { __typename id }`) and whose key values are scalars finds an
 * entity's representation by its values in a tree of maps, so a repeated entity allocates nothing:
 * no representation object and no JSON key. Any other shape takes the general path (build the
 * representation, rewrite it, key it by its JSON). Both give the same representations in the same
 * order as building every one and keeping the first of each JSON.
 */
import type { FetchNode } from '@apollo/query-planner';
import { applyRewrites, representationOf, type Obj, type TypeTester } from './entities.ts';

/** A flat `requires`: its field names in order, and the type condition they sit under (null: none). */
interface FlatRequires {
  typeCondition: string | null;
  names: readonly string[];
}

const flatRequires = new WeakMap<FetchNode, FlatRequires | null>();

function flatRequiresOf(fetch: FetchNode): FlatRequires | null {
  let flat = flatRequires.get(fetch);
  if (flat === undefined) {
    flat = compileFlat(fetch);
    flatRequires.set(fetch, flat);
  }
  return flat;
}

function compileFlat(fetch: FetchNode): FlatRequires | null {
  const requires = fetch.requires;
  if (!requires || fetch.inputRewrites?.length) return null;
  let typeCondition: string | null = null;
  let fields = requires;
  const only = requires[0];
  if (requires.length === 1 && only?.kind === 'InlineFragment') {
    if (!only.typeCondition) return null;
    typeCondition = only.typeCondition;
    fields = only.selections;
  }
  const names: string[] = [];
  for (const selection of fields) {
    if (selection.kind !== 'Field' || selection.selections) return null;
    names.push(selection.alias ?? selection.name);
  }
  // Without `__typename` no representation is sent; repeated names merge: both left to the general path.
  if (!names.includes('__typename') || new Set(names).size !== names.length) return null;
  return { typeCondition, names };
}

type Trie = Map<unknown, Trie | number>;

export class Representations {
  /** The distinct representations, in the order their first entity came. */
  readonly list: Obj[] = [];
  readonly #flat: FlatRequires | null;
  readonly #trie: Trie = new Map();
  readonly #byJson = new Map<string, number>();

  constructor(
    private readonly types: TypeTester,
    private readonly fetch: FetchNode,
  ) {
    this.#flat = flatRequiresOf(fetch);
  }

  /** The index in `list` of `entity`'s representation (added when new); -1 when it has none to send. */
  slotOf(entity: Obj): number {
    const flat = this.#flat;
    if (!flat) return this.#general(entity);
    // A type condition that does not apply, or a missing value, gives no representation with a `__typename`.
    if (flat.typeCondition !== null && !this.types.is(entity, flat.typeCondition)) return -1;
    const { names } = flat;
    for (const name of names) {
      const value = Object.hasOwn(entity, name) ? entity[name] : undefined;
      if (value === undefined) return -1;
      if (name === '__typename' && !value) return -1;
      if (value !== null && typeof value === 'object') return this.#general(entity);
    }
    let node = this.#trie;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const value = entity[names[i] as string];
      let next = node.get(value);
      if (next === undefined) {
        next = new Map();
        node.set(value, next);
      }
      node = next as Trie;
    }
    const value = entity[names[last] as string];
    const slot = node.get(value);
    if (slot !== undefined) return slot as number;
    const representation: Obj = Object.create(null);
    for (const name of names) representation[name] = entity[name];
    node.set(value, this.list.length);
    this.list.push(representation);
    return this.list.length - 1;
  }

  #general(entity: Obj): number {
    const representation = representationOf(this.types, entity, this.fetch.requires ?? []);
    if (!representation?.__typename) return -1;
    applyRewrites(this.types, this.fetch.inputRewrites, representation);
    // Never equal to one of the tree's: this one has a non-scalar value, or the fetch is not flat.
    const key = JSON.stringify(representation);
    let slot = this.#byJson.get(key);
    if (slot === undefined) {
      slot = this.list.length;
      this.list.push(representation);
      this.#byJson.set(key, slot);
    }
    return slot;
  }
}
