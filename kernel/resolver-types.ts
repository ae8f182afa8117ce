/**
 * The generic resolver types behind every subgraph's generated `schema.types.ts` (schema/codegen.ts).
 *
 * A generated file declares its subgraph's schema as TypeScript (enums, inputs, object types with
 * `__typename`) and one `ResolverSpec` (a `SubgraphSpec`); its `Resolvers` is
 * `SubgraphResolvers<ResolverSpec>`, so what every subgraph would repeat (a resolver map per type,
 * the result and parent types of every field) is written once, here:
 * - a field's resolver receives its type's parent (the codegen.json model, else the schema shape
 *   with its own object fields as their parents; an empty record for Query, Mutation and
 *   Subscription),
 *   the field's arguments (those with a default always present) and the subgraph's context;
 * - it returns the field's schema type with every object type in it replaced by that type's parent,
 *   through lists and nulls (a model where codegen.json maps one), or a promise of it;
 * - Subscription fields take a `subscribe` (and `resolve`), entities a `__resolveReference` that
 *   receives their key fields, unions and interfaces a `__resolveType`, custom scalars their
 *   `GraphQLScalarType`.
 * Misspelt types or fields are excess properties of the map, so `satisfies Resolvers` rejects them.
 */
import type { GraphQLResolveInfo, GraphQLScalarType } from 'graphql';

/** An object type as a generated file declares it: its name in `__typename`, then its fields. */
export interface SchemaObject {
  __typename?: string;
}

/** What a generated `schema.types.ts` says about its subgraph (a table it would leave empty, it leaves out). */
export interface SubgraphSpec {
  /** The context every resolver receives. */
  context: unknown;
  /** The subgraph's object types, root types included. */
  objects: SchemaObject;
  /** Object type → the domain object its resolvers receive and return instead (codegen.json `mappers`). */
  models?: object;
  /** Object type → field → its arguments; a field absent here takes none. */
  args?: object;
  /** Federation entities the subgraph resolves → their key selections (`{ id: true }`, a union for several keys). */
  entities?: object;
  /** Unions and interfaces → the union of their possible object types. */
  abstracts?: object;
  /** The names of the subgraph's custom scalars (their resolvers are `GraphQLScalarType`s). */
  scalars?: string;
}

/** The resolver map a subgraph's `resolvers` must satisfy. */
export type SubgraphResolvers<S extends SubgraphSpec> = { [N in keyof Objects<S>]?: ObjectResolvers<S, N> } & {
  [N in keyof Table<S, 'abstracts'>]?: { __resolveType?: TypeResolveFn<TypeName<Table<S, 'abstracts'>[N]>, ResultOf<S, Table<S, 'abstracts'>[N]>, S['context']> };
} & { [N in S extends { scalars: infer Names extends string } ? Names : never]?: GraphQLScalarType };

/** The object types by name. */
type Objects<S extends SubgraphSpec> = { [O in S['objects'] as NonNullable<O['__typename']>]: O };
/** One of the spec's tables, empty where the spec leaves it out. */
type Table<S extends SubgraphSpec, K extends 'models' | 'args' | 'entities' | 'abstracts'> = S extends { [P in K]: infer T } ? T : Record<never, never>;
type TypeName<O> = O extends SchemaObject ? NonNullable<O['__typename']> : never;
type RootType = 'Query' | 'Mutation' | 'Subscription';

/** What a resolver of type `N` receives as its parent. */
export type ParentOf<S extends SubgraphSpec, N> = N extends keyof Table<S, 'models'>
  ? Table<S, 'models'>[N]
  : N extends RootType
    ? Record<PropertyKey, never>
    : N extends keyof Objects<S>
      ? Shape<S, Objects<S>[N]>
      : never;

/** An unmapped object type's parent: its own fields, their object types replaced by their parents. */
type Shape<S extends SubgraphSpec, O> = { [F in keyof O]: ResultOf<S, O[F]> };

/** What a resolver returns where the schema has type `V`: object types become their parents. */
export type ResultOf<S extends SubgraphSpec, V> = V extends readonly (infer U)[]
  ? ResultOf<S, U>[]
  : V extends { __typename?: infer N extends keyof Objects<S> }
    ? ParentOf<S, N>
    : V;

type FieldsOf<S extends SubgraphSpec, N extends keyof Objects<S>> = Exclude<keyof Objects<S>[N], '__typename'>;
type FieldResult<S extends SubgraphSpec, N extends keyof Objects<S>, F extends keyof Objects<S>[N]> = ResultOf<S, Exclude<Objects<S>[N][F], undefined>>;
type ArgsOf<S extends SubgraphSpec, N, F> = N extends keyof Table<S, 'args'> ? (F extends keyof Table<S, 'args'>[N] ? Table<S, 'args'>[N][F] : NoArgs) : NoArgs;
type NoArgs = Record<PropertyKey, never>;

/** The resolvers of one object type: one per field, and `__resolveReference` for an entity. */
type ObjectResolvers<S extends SubgraphSpec, N extends keyof Objects<S>> = {
  [F in FieldsOf<S, N>]?: N extends 'Subscription'
    ? SubscriptionResolver<FieldResult<S, N, F>, F & string, ParentOf<S, N>, S['context'], ArgsOf<S, N, F>>
    : Resolver<FieldResult<S, N, F>, ParentOf<S, N>, S['context'], ArgsOf<S, N, F>>;
} & (N extends keyof Table<S, 'entities'>
    ? { __resolveReference?: ReferenceResolver<S, N, EntityReference<Objects<S>[N], N, Table<S, 'entities'>[N]>> }
    : unknown);

/** What the router passes to `__resolveReference`: the typename and the fields of one of the keys. */
type EntityReference<O, N, Keys> = Keys extends unknown ? { __typename: N } & GraphQLRecursivePick<O, Keys> : never;
type ReferenceResolver<S extends SubgraphSpec, N extends keyof Objects<S>, R> = (
  reference: R,
  context: S['context'],
  info: GraphQLResolveInfo,
) => Awaitable<ParentOf<S, N> | R | null>;

/** The fields of `T` that the selection `S` (`{ id: true, org: { id: true } }`) names, through lists and nulls. */
export type GraphQLRecursivePick<T, S> = { [K in keyof T & keyof S]: ScalarCheck<T[K], S[K]> };
type ScalarCheck<T, S> = S extends true ? T : NullableCheck<T, S>;
type NullableCheck<T, S> = null extends T ? ListCheck<NonNullable<T>, S> | null : ListCheck<T, S>;
type ListCheck<T, S> = T extends (infer U)[] ? NullableCheck<U, S>[] : GraphQLRecursivePick<T, S>;

type Awaitable<T> = Promise<T> | T;

/** A field resolver function, as graphql-js calls it. */
export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo,
) => Awaitable<TResult>;

/** A field resolver: a function, or `{ resolve }`. */
export type Resolver<TResult, TParent, TContext, TArgs> = ResolverFn<TResult, TParent, TContext, TArgs> | { resolve: ResolverFn<TResult, TParent, TContext, TArgs> };

type SubscribeFn<TEvent, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo,
) => Awaitable<AsyncIterable<TEvent>>;

/**
 * A subscription field: `subscribe` yields `{ [field]: result }`, or any events that `resolve`
 * turns into the result; `resolve` may take its events as whatever type `subscribe` yields.
 */
export type SubscriptionResolver<TResult, TKey extends string, TParent, TContext, TArgs> =
  | { subscribe: SubscribeFn<{ [K in TKey]: TResult }, TParent, TContext, TArgs>; resolve?: ResolverFn<TResult, { [K in TKey]: TResult }, TContext, TArgs> }
  | { subscribe: SubscribeFn<unknown, TParent, TContext, TArgs>; resolve: ResolverFn<TResult, never, TContext, TArgs> };

/** A union's or interface's `__resolveType`: the name of the object type a value is. */
export type TypeResolveFn<TTypes, TParent, TContext> = (parent: TParent, context: TContext, info: GraphQLResolveInfo) => Awaitable<TTypes | null>;
