/**
 * A subgraph's SDL as TypeScript, for its generated `schema.types.ts` (schema/codegen.ts): its
 * enums, inputs and object types (a union or interface as the union of its object types), then the
 * `ResolverSpec` that kernel/resolver-types.ts turns into its `Resolvers`: the object types, their
 * models, the entities' keys, the unions and interfaces, the fields' arguments, the context and the
 * custom scalars.
 *
 * Nullable fields and arguments are optional (`f?: T | null`); an argument with a default is
 * always present. A type's members are packed onto lines of at most `WIDTH` characters: the file
 * is read through its types, field by field, and the SDL holds the documentation.
 */
import { buildASTSchema, isAbstractType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, isScalarType, Kind, parse } from 'graphql';
import type { DocumentNode, GraphQLArgument, GraphQLNamedType, GraphQLObjectType, GraphQLSchema, GraphQLType, SelectionSetNode } from 'graphql';

export interface EmitOptions {
  /** Each scalar's TypeScript type where it is read (`input`: arguments, inputs) and returned (`output`). */
  scalars: Readonly<Record<string, { input: string; output: string }>>;
  /** Object type → the TypeScript type of the model its resolvers use (codegen.json `mappers`). */
  models: Readonly<Record<string, string>>;
  /** The context type's name, as the file imports it. */
  context: string;
  /** Type names the file leaves out (the field-policy SDL's own). */
  skip: ReadonlySet<string>;
}

/** The longest line the generated files are laid out to. */
export const WIDTH = 120;
/** Names the file uses for its own or TypeScript's types, which a schema type of that name would hide. */
const TAKEN = new Set(['Array', 'Date', 'ResolverSpec', 'Resolvers', 'SubgraphResolvers']);

/** A member of a TypeScript object type: `name: T`, or `name:` and an object type of its own. */
type Member = string | { head: string; members: readonly Member[] };

const oneLine = (m: Member): string => (typeof m === 'string' ? m : `${m.head} { ${m.members.map(oneLine).join('; ')} }`);

/**
 * `head { a; b }tail` on one line when it fits, else the members packed between `head {` and
 * `}tail`; a member with an object type of its own too long for one line is laid out the same way.
 */
function braces(head: string, members: readonly Member[], tail: string, indent = ''): string[] {
  const one = `${indent}${oneLine({ head, members })}${tail}`;
  if (one.length <= WIDTH) return [one];
  const inner = `${indent}  `;
  const lines: string[] = [];
  let words: string[] = [];
  for (const m of members) {
    const text = `${oneLine(m)};`;
    if (typeof m === 'string' || inner.length + text.length <= WIDTH) words.push(text);
    else {
      lines.push(...pack(words, inner), ...braces(m.head, m.members, ';', inner));
      words = [];
    }
  }
  return [`${indent}${head} {`, ...lines, ...pack(words, inner), `${indent}}${tail}`];
}

/** `head A | B;` on one line when it fits, else the alternatives packed below `head`. */
function alternatives(head: string, items: readonly string[], indent = ''): string[] {
  const one = `${indent}${head} ${items.join(' | ')};`;
  if (one.length <= WIDTH) return [one];
  const lines = pack(items.map((i) => `| ${i}`), `${indent}  `);
  return [`${indent}${head}`, ...lines.slice(0, -1), `${lines.at(-1)};`];
}

/** Words joined by spaces into lines of at most WIDTH characters (a longer word stands alone). */
export function pack(words: readonly string[], indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && indent.length + line.length + 1 + w.length > WIDTH) {
      lines.push(indent + line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  return line ? [...lines, indent + line] : lines;
}

/** A GraphQL type as TypeScript, and whether it admits null. */
function tsOf(type: GraphQLType, io: 'input' | 'output', scalars: EmitOptions['scalars']): { ts: string; nullable: boolean } {
  if (isNonNullType(type)) return { ts: tsOf(type.ofType, io, scalars).ts, nullable: false };
  if (isListType(type)) {
    const item = tsOf(type.ofType, io, scalars);
    const ts = item.nullable ? `Array<${item.ts} | null>` : /^\w+$/.test(item.ts) ? `${item.ts}[]` : `Array<${item.ts}>`;
    return { ts, nullable: true };
  }
  return { ts: isScalarType(type) ? (scalars[type.name]?.[io] ?? 'unknown') : type.name, nullable: true };
}

/** `name: T`, or `name?: T | null` where null is allowed (and, for an argument, there is no default). */
function member(name: string, type: GraphQLType, io: 'input' | 'output', scalars: EmitOptions['scalars'], required = false): string {
  const { ts, nullable } = tsOf(type, io, scalars);
  return nullable && !required ? `${name}?: ${ts} | null` : `${name}: ${ts}`;
}

/** A key's field selection (`id`, `org { id }`) as the selection type kernel's GraphQLRecursivePick takes. */
function selectionOf(set: SelectionSetNode): string {
  const fields = set.selections.map((s) => {
    if (s.kind !== Kind.FIELD) throw new Error('codegen: a @key selects fields only');
    return `${s.name.value}: ${s.selectionSet ? selectionOf(s.selectionSet) : 'true'}`;
  });
  return `{ ${fields.join('; ')} }`;
}

/** The key selections of an entity's resolvable `@key`s, or none for a type that is not one. */
function keysOf(type: GraphQLNamedType): string[] {
  const nodes = [type.astNode, ...(type.extensionASTNodes ?? [])];
  return nodes.flatMap((n) =>
    (n?.directives ?? []).flatMap((d) => {
      const arg = (name: string) => d.arguments?.find((a) => a.name.value === name)?.value;
      const fields = arg('fields');
      const resolvable = arg('resolvable');
      if (d.name.value !== 'key' || fields?.kind !== Kind.STRING || (resolvable?.kind === Kind.BOOLEAN && !resolvable.value)) return [];
      const query = parse(`{ ${fields.value} }`);
      const op = query.definitions[0];
      return op?.kind === Kind.OPERATION_DEFINITION ? [selectionOf(op.selectionSet)] : [];
    }),
  );
}

/** The named types the SDL defines, in its order (a type first met in an `extend` counts there). */
function typesInOrder(schema: GraphQLSchema, typeDefs: DocumentNode, skip: ReadonlySet<string>): GraphQLNamedType[] {
  const names = new Set(typeDefs.definitions.flatMap((d) => ('name' in d && d.name && d.kind !== Kind.DIRECTIVE_DEFINITION ? [d.name.value] : [])));
  return [...names].flatMap((name) => {
    const type = schema.getType(name);
    if (!type || skip.has(name)) return [];
    if (TAKEN.has(name) && !isScalarType(type)) throw new Error(`codegen: a schema type may not be named ${name}, which the generated file uses for another type`);
    return [type];
  });
}

/** The argument types of a type's fields that take any, keyed by field. */
function argsOf(type: GraphQLObjectType, scalars: EmitOptions['scalars']): Member[] {
  const members = (args: readonly GraphQLArgument[]) => args.map((a) => member(a.name, a.type, 'input', scalars, a.defaultValue !== undefined));
  return Object.values(type.getFields()).flatMap((f) => (f.args.length ? [{ head: `${f.name}:`, members: members(f.args) }] : []));
}

/** The body of a subgraph's schema.types.ts after its imports. */
export function emitSchemaTypes(typeDefs: DocumentNode, options: EmitOptions): string {
  const { scalars } = options;
  const schema = buildASTSchema(typeDefs, { assumeValidSDL: true });
  const types = typesInOrder(schema, typeDefs, options.skip);
  const objects = types.filter(isObjectType);
  const abstracts = types.filter(isAbstractType);
  const unknown = Object.keys(options.models).filter((name) => !objects.some((t) => t.name === name));
  if (unknown.length) throw new Error(`codegen: codegen.json maps ${unknown.join(', ')}, which the SDL does not declare as object types`);

  const enums = types.filter(isEnumType).flatMap((t) => alternatives(`export type ${t.name} =`, t.getValues().map((v) => `'${v.name}'`)));
  const inputs = types.filter(isInputObjectType).flatMap((t) =>
    braces(`export type ${t.name} =`, Object.values(t.getFields()).map((f) => member(f.name, f.type, 'input', scalars)), ';'),
  );
  const shapes = objects.flatMap((t) =>
    braces(`export type ${t.name} =`, [`__typename?: '${t.name}'`, ...Object.values(t.getFields()).map((f) => member(f.name, f.type, 'output', scalars))], ';'),
  );
  // A field of a union or interface type returns one of its object types.
  const possible = abstracts.flatMap((t) => alternatives(`export type ${t.name} =`, schema.getPossibleTypes(t).map((p) => p.name)));

  const table = (head: string, entries: readonly (readonly [string, string])[]) =>
    entries.length ? braces(`${head}:`, entries.map(([k, v]) => `${k}: ${v}`), ';', '  ') : [];
  const customScalars = types.filter(isScalarType).map((t) => `'${t.name}'`);
  const args = objects.flatMap((t) => {
    const fields = argsOf(t, scalars);
    return fields.length ? braces(`${t.name}:`, fields, ';', '    ') : [];
  });
  const spec = [
    ...alternatives('objects:', objects.map((t) => t.name), '  '),
    ...table('models', Object.entries(options.models)),
    ...table('entities', objects.flatMap((t) => (keysOf(t).length ? [[t.name, keysOf(t).join(' | ')] as const] : []))),
    ...table('abstracts', abstracts.map((t) => [t.name, t.name] as const)),
    ...(args.length ? ['  args: {', ...args, '  };'] : []),
    `  context: ${options.context};`,
    ...(customScalars.length ? alternatives('scalars:', customScalars, '  ') : []),
  ];
  const section = (lines: readonly string[]) => (lines.length ? [...lines, ''] : []);
  return [
    ...section(enums),
    ...section(inputs),
    ...section([...shapes, ...possible]),
    '/** The resolver map, typed by the types above, the models and the arguments (kernel/resolver-types.ts). */',
    'export type ResolverSpec = {',
    ...spec,
    '};',
    'export type Resolvers = SubgraphResolvers<ResolverSpec>;',
    '',
  ].join('\n');
}
