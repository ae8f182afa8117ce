/**
 * Operation limits for GraphQL: token count at parse time, then depth, aliases, root
 * fields, directives, repeated fields and an estimated cost as one validation rule, so a rejected
 * operation is never planned or executed. Exported for every entry that validates documents (HTTP
 * now, the WebSocket path later): `createLimitRules`, `parseOptionsOf`, `checkOperationLimits`.
 *
 * Each violation is a 400 whose `extensions.code` says which limit was hit (kernel/errors.ts).
 *
 * Schema types and errors are inspected by shape, never with graphql-js's `isObjectType` or
 * `instanceof`: under vitest the project's sources load graphql's ESM build while Apollo loads its
 * CommonJS build, and graphql-js refuses objects from "another realm".
 */
import type { FastifyInstance } from 'fastify';
import {
  GraphQLError,
  Kind,
  type ASTNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import type { GraphQLLimits } from '../kernel/config.ts';
import { ERROR_REGISTRY } from '../kernel/errors.ts';

export type LimitCode =
  | 'QUERY_TOO_DEEP'
  | 'TOO_MANY_ALIASES'
  | 'TOO_MANY_ROOT_FIELDS'
  | 'TOO_MANY_DIRECTIVES'
  | 'TOO_MANY_DUPLICATE_FIELDS'
  | 'QUERY_TOO_COMPLEX'
  | 'TOO_MANY_TOKENS';

/** Codes of the operation limits (validation failures with a code of their own). */
export const LIMIT_CODES: ReadonlySet<string> = new Set<LimitCode>([
  'QUERY_TOO_DEEP',
  'TOO_MANY_ALIASES',
  'TOO_MANY_ROOT_FIELDS',
  'TOO_MANY_DIRECTIVES',
  'TOO_MANY_DUPLICATE_FIELDS',
  'QUERY_TOO_COMPLEX',
  'TOO_MANY_TOKENS',
]);

/** Selections under a list field are assumed to repeat this often when estimating cost. */
export const LIST_COST_FACTOR = 10;

function limitError(code: LimitCode, message: string, node?: ASTNode): GraphQLError {
  return new GraphQLError(message, { nodes: node ? [node] : undefined, extensions: { code, status: ERROR_REGISTRY[code].status } });
}

/** Parser options: graphql-js stops reading after `maxTokens`, before building a large AST. */
export function parseOptionsOf(limits: GraphQLLimits): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

interface Stats {
  depth: number;
  aliases: number;
  cost: number;
}

const ZERO: Stats = { depth: 0, aliases: 0, cost: 0 };

/**
 * Depth, aliases and cost of one operation, with fragments expanded where they are spread (each
 * fragment measured once). Cost is 1 per field, with a list field's selections counted
 * `LIST_COST_FACTOR` times. Introspection (`__schema`, `__type`) adds no cost: it is bounded by
 * the schema, limited by depth and switched off in production.
 */
function measure(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>): Stats {
  const memo = new Map<string, Stats>();
  const active = new Set<string>();

  const queryType = schema.getQueryType()?.name;
  /** The field's named type, whether it is a list (ignoring non-null), whether it is introspection. */
  const fieldOf = (parent: GraphQLNamedType | undefined, name: string): { type: GraphQLNamedType | undefined; list: boolean; meta: boolean } | undefined => {
    if (parent?.name === queryType && (name === '__schema' || name === '__type')) {
      return { type: schema.getType(name === '__schema' ? '__Schema' : '__Type') ?? undefined, list: false, meta: true };
    }
    // Object and interface types have `getInterfaces`; unions, scalars and enums have no fields.
    if (!parent || !('getInterfaces' in parent)) return undefined;
    const field = parent.getFields()[name];
    if (!field) return undefined;
    const wire = String(field.type); // e.g. `[Item!]!`
    return { type: schema.getType(wire.replace(/[[\]!]/g, '')) ?? undefined, list: wire.startsWith('['), meta: false };
  };

  const walk = (set: SelectionSetNode, parent: GraphQLNamedType | undefined, introspection: boolean): Stats => {
    let depth = 0;
    let aliases = 0;
    let cost = 0;
    for (const sel of set.selections) {
      let child: Stats;
      if (sel.kind === Kind.FIELD) {
        const field = fieldOf(parent, sel.name.value);
        const meta = introspection || field?.meta === true;
        const inner = sel.selectionSet ? walk(sel.selectionSet, field?.type, meta) : ZERO;
        const factor = field?.list ? LIST_COST_FACTOR : 1;
        child = { depth: inner.depth + 1, aliases: inner.aliases + (sel.alias ? 1 : 0), cost: meta ? 0 : 1 + factor * inner.cost };
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        child = walk(sel.selectionSet, sel.typeCondition ? (schema.getType(sel.typeCondition.name.value) ?? undefined) : parent, introspection);
      } else {
        child = spread(sel.name.value, introspection);
      }
      depth = Math.max(depth, child.depth);
      aliases += child.aliases;
      cost += child.cost;
    }
    // Fragments spread twice per level double these per level; keep them finite and exact to print.
    return { depth, aliases: Math.min(aliases, Number.MAX_SAFE_INTEGER), cost: Math.min(cost, Number.MAX_SAFE_INTEGER) };
  };

  const spread = (name: string, introspection: boolean): Stats => {
    const fragment = fragments.get(name);
    // Unknown fragments and cycles are reported by graphql-js's own rules.
    if (!fragment || active.has(name)) return ZERO;
    const key = `${name}:${introspection}`;
    let stats = memo.get(key);
    if (!stats) {
      active.add(name);
      stats = walk(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined, introspection);
      active.delete(name);
      memo.set(key, stats);
    }
    return stats;
  };

  const rootTypes = { query: schema.getQueryType(), mutation: schema.getMutationType(), subscription: schema.getSubscriptionType() };
  return walk(operation.selectionSet, rootTypes[operation.operation] ?? undefined, false);
}

/**
 * Root field selections of an operation, counting every occurrence (fragments expanded). Each
 * fragment is counted once and its total reused wherever it is spread, so a fragment that spreads
 * another twice, 40 levels down, costs 40 visits rather than 2^40. Totals are capped at
 * `Number.MAX_SAFE_INTEGER`, far past any limit.
 */
function countRootFields(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, memo = new Map<string, number>(), active = new Set<string>()): number {
  let n = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) n += 1;
    else if (sel.kind === Kind.INLINE_FRAGMENT) n += countRootFields(sel.selectionSet, fragments, memo, active);
    else {
      const name = sel.name.value;
      const fragment = fragments.get(name);
      // Unknown fragments and cycles are reported by graphql-js's own rules.
      if (!fragment || active.has(name)) continue;
      let count = memo.get(name);
      if (count === undefined) {
        active.add(name);
        count = countRootFields(fragment.selectionSet, fragments, memo, active);
        active.delete(name);
        memo.set(name, count);
      }
      n += count;
    }
  }
  return Math.min(n, Number.MAX_SAFE_INTEGER);
}

/** The first node carrying too many or repeated directives, and the first over-repeated field. */
function findDirectiveAndDuplicateErrors(document: DocumentNode, limits: GraphQLLimits): GraphQLError[] {
  // Closures assign these, so they live in an object (TypeScript does not track closure writes).
  const found: { directives?: GraphQLError; duplicates?: GraphQLError } = {};
  const describe = (node: ASTNode): string => {
    if (node.kind === Kind.FIELD) return `field "${node.name.value}"`;
    if (node.kind === Kind.FRAGMENT_SPREAD) return `fragment spread "${node.name.value}"`;
    if (node.kind === Kind.INLINE_FRAGMENT) return 'inline fragment';
    if (node.kind === Kind.FRAGMENT_DEFINITION) return `fragment "${node.name.value}"`;
    return 'operation';
  };
  const check = (node: ASTNode & { directives?: readonly { name: { value: string } }[] }): void => {
    if (found.directives || !node.directives?.length) return;
    const names = node.directives.map((d) => d.name.value);
    if (names.length > limits.maxDirectives) {
      found.directives = limitError('TOO_MANY_DIRECTIVES', `The ${describe(node)} has ${names.length} directives; at most ${limits.maxDirectives} are allowed.`, node);
      return;
    }
    const repeated = names.find((n, i) => names.indexOf(n) !== i);
    if (repeated) found.directives = limitError('TOO_MANY_DIRECTIVES', `Directive "@${repeated}" is repeated on the ${describe(node)}.`, node);
  };
  const visitSet = (set: SelectionSetNode): void => {
    const counts = new Map<string, number>();
    for (const sel of set.selections) {
      check(sel);
      if (sel.kind === Kind.FIELD) {
        const key = sel.alias?.value ?? sel.name.value;
        const n = (counts.get(key) ?? 0) + 1;
        counts.set(key, n);
        if (!found.duplicates && n > limits.maxDuplicateFields) {
          const count = set.selections.filter((s) => s.kind === Kind.FIELD && (s.alias?.value ?? s.name.value) === key).length;
          found.duplicates = limitError('TOO_MANY_DUPLICATE_FIELDS', `Field "${key}" is selected ${count} times in one selection set; at most ${limits.maxDuplicateFields} are allowed.`, sel);
        }
      }
      if (sel.kind !== Kind.FRAGMENT_SPREAD && sel.selectionSet) visitSet(sel.selectionSet);
    }
  };
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION && def.kind !== Kind.FRAGMENT_DEFINITION) continue;
    check(def);
    visitSet(def.selectionSet);
  }
  return [found.directives, found.duplicates].filter((e): e is GraphQLError => e !== undefined);
}

/** Every limit violation of a parsed document (empty when it is within limits). */
export function checkOperationLimits(schema: GraphQLSchema, document: DocumentNode, limits: GraphQLLimits): GraphQLError[] {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const errors: GraphQLError[] = [];
  for (const op of document.definitions) {
    if (op.kind !== Kind.OPERATION_DEFINITION) continue;
    const label = op.name ? `Operation "${op.name.value}"` : 'The operation';
    const stats = measure(schema, op, fragments);
    const roots = countRootFields(op.selectionSet, fragments);
    if (stats.depth > limits.maxDepth) {
      errors.push(limitError('QUERY_TOO_DEEP', `${label} is nested ${stats.depth} levels deep; at most ${limits.maxDepth} are allowed.`, op));
    }
    if (stats.aliases > limits.maxAliases) {
      errors.push(limitError('TOO_MANY_ALIASES', `${label} uses ${stats.aliases} aliases; at most ${limits.maxAliases} are allowed.`, op));
    }
    if (roots > limits.maxRootFields) {
      errors.push(limitError('TOO_MANY_ROOT_FIELDS', `${label} selects ${roots} root fields; at most ${limits.maxRootFields} are allowed.`, op));
    }
    if (stats.cost > limits.maxCost) {
      errors.push(limitError('QUERY_TOO_COMPLEX', `${label} has an estimated cost of ${stats.cost}; at most ${limits.maxCost} is allowed.`, op));
    }
  }
  return [...errors, ...findDirectiveAndDuplicateErrors(document, limits)];
}

/**
 * The limits as a validation rule. It inspects the whole document when validation enters it, so
 * its errors come first and are reported even when graphql-js's overlapping-fields rule later
 * gives up on an abusive document ("Validation aborted.").
 */
export function createLimitRules(limits: GraphQLLimits): ValidationRule[] {
  const rule: ValidationRule = (context) => ({
    Document(node) {
      for (const error of checkOperationLimits(context.getSchema(), node, limits)) context.reportError(error);
      return false;
    },
  });
  return [rule];
}

/** `error.originalError.extensions.code`, read by shape (see the realm note at the top). */
function originalCode(error: unknown): unknown {
  if (typeof error !== 'object' || error === null || !('originalError' in error)) return undefined;
  const original: unknown = error.originalError;
  if (typeof original !== 'object' || original === null || !('extensions' in original)) return undefined;
  const extensions: unknown = original.extensions;
  return typeof extensions === 'object' && extensions !== null && 'code' in extensions ? extensions.code : undefined;
}

/**
 * For formatError: Apollo re-labels every validation error `GRAPHQL_VALIDATION_FAILED` (the rule's
 * code survives on `originalError`), and reports the token limit as a plain syntax error. This
 * restores the specific code.
 */
export function withLimitCode(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (code === 'GRAPHQL_VALIDATION_FAILED') {
    const limit = originalCode(error);
    if (typeof limit === 'string' && LIMIT_CODES.has(limit)) return { ...formatted, extensions: { ...formatted.extensions, code: limit } };
  }
  if (code === 'GRAPHQL_PARSE_FAILED') {
    // graphql-js 16 spells it "more that"; accept the corrected wording too.
    const max = /Document contains more th(?:at|an) (\d+) tokens/.exec(formatted.message)?.[1];
    if (max) {
      return { message: `The document has more than ${max} tokens.`, extensions: { code: 'TOO_MANY_TOKENS', status: ERROR_REGISTRY.TOO_MANY_TOKENS.status } };
    }
  }
  return formatted;
}

/** For formatError in production: no "Did you mean …?" hints that map out the schema. */
export function withoutSuggestions(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const message = formatted.message.replace(/\s*Did you mean [^]*\?$/, '');
  return message === formatted.message ? formatted : { ...formatted, message };
}

/**
 * A body over the limit is refused by fastify before any parsing; answer it as GraphQL clients
 * expect (an `errors` array) instead of fastify's own body. Other errors keep the default handler.
 */
export function registerBodyLimitError(app: FastifyInstance, limitBytes: number): void {
  app.setErrorHandler((err: Error & { code?: string }, _req, reply) => {
    if (err.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw err;
    return reply.status(413).send({
      errors: [{ message: `Request body is larger than ${limitBytes} bytes.`, extensions: { code: 'REQUEST_TOO_LARGE', status: 413 } }],
    });
  });
}
