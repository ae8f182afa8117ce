/**
 * Field policies (README "Field policies"): who may call a root field, its rate-limit policy,
 * whether its subscription may be shared, its deadline budget and which inputs receive uploads
 * are directives in the owning subgraph's SDL (`kernel/policy.graphql`). Composition carries them
 * into the supergraph; this module reads them back from either into one table keyed by
 * `Type.field`, so every reader (the subgraph guard, the gateway, the REST layer) sees one fact.
 */
import { readFileSync } from 'node:fs';
import { Kind, parse, type ConstArgumentNode, type ConstDirectiveNode, type DocumentNode } from 'graphql';
import { RATE_LIMIT_POLICIES, type RateLimitPolicy } from './config.ts';
import type { AccessMode, AccessRule, AccessTable } from './access.ts';

/** Work whose own budget may make a call outlast its subgraph's timeout. */
export const CALL_BUDGETS = ['ai', 'ingestion'] as const;
export type CallBudget = (typeof CALL_BUDGETS)[number];

const ACCESS_MODES: readonly AccessMode[] = ['P', 'B', 'B+K', 'B·adm', 'B+K·adm', 'B+I'];
const ROOT_TYPES = ['Query', 'Mutation', 'Subscription'] as const;
export type RootType = (typeof ROOT_TYPES)[number];

/** The policies of one field, as declared by its directives. */
export interface FieldPolicy {
  access?: AccessRule;
  rateLimit?: RateLimitPolicy;
  budget?: CallBudget;
  /** `@exclusive`: a subscription never shared between subscribers. */
  exclusive: boolean;
}

export interface PolicyTable {
  /** Fields with at least one policy directive, by `Type.field`. */
  fields: ReadonlyMap<string, FieldPolicy>;
  /** Input object types marked `@upload`, with their field names. */
  uploadInputs: ReadonlyMap<string, readonly string[]>;
  /** Every Query, Mutation and Subscription field, as `Type.field` (with a policy or not). */
  rootFields: readonly string[];
}

const POLICY_SDL = readFileSync(new URL('./policy.graphql', import.meta.url), 'utf8');

/** A subgraph's typeDefs: the policy directive definitions followed by its own SDL. */
export function subgraphSdl(...sources: string[]): DocumentNode {
  return parse([POLICY_SDL, ...sources].join('\n'));
}

/** {@link subgraphSdl} of the SDL files of a subgraph. */
export function loadSubgraphSdl(...files: URL[]): DocumentNode {
  return subgraphSdl(...files.map((f) => readFileSync(f, 'utf8')));
}

function stringArg(args: readonly ConstArgumentNode[] | undefined, name: string): string | undefined {
  const arg = args?.find((a) => a.name.value === name);
  return arg?.value.kind === Kind.STRING ? arg.value.value : undefined;
}

function oneOf<T extends string>(allowed: readonly T[], value: string | undefined, where: string): T {
  const found = allowed.find((a) => a === value);
  if (!found) throw new Error(`${where}: ${JSON.stringify(value ?? null)} is not one of ${allowed.join(', ')}`);
  return found;
}

function fieldPolicyOf(directives: readonly ConstDirectiveNode[], where: string): FieldPolicy | null {
  const policy: FieldPolicy = { exclusive: false };
  let any = false;
  for (const d of directives) {
    switch (d.name.value) {
      case 'access': {
        const scope = stringArg(d.arguments, 'scope');
        policy.access = { auth: oneOf(ACCESS_MODES, stringArg(d.arguments, 'auth'), `${where} @access(auth:)`), ...(scope ? { scope } : {}) };
        break;
      }
      case 'rateLimit':
        policy.rateLimit = oneOf(RATE_LIMIT_POLICIES, stringArg(d.arguments, 'policy'), `${where} @rateLimit(policy:)`);
        break;
      case 'budget':
        policy.budget = oneOf(CALL_BUDGETS, stringArg(d.arguments, 'kind'), `${where} @budget(kind:)`);
        break;
      case 'exclusive':
        policy.exclusive = true;
        break;
      default:
        continue;
    }
    any = true;
  }
  return any ? policy : null;
}

/**
 * Reads the policy directives of a subgraph's typeDefs or of the supergraph SDL.
 * @throws Error naming the field when a directive has a value outside its list.
 */
export function readPolicies(sdl: DocumentNode | string): PolicyTable {
  const doc = typeof sdl === 'string' ? parse(sdl) : sdl;
  const fields = new Map<string, FieldPolicy>();
  const uploadInputs = new Map<string, readonly string[]>();
  const rootFields: string[] = [];
  for (const def of doc.definitions) {
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.OBJECT_TYPE_EXTENSION) {
      const isRoot = ROOT_TYPES.some((r) => r === def.name.value);
      for (const field of def.fields ?? []) {
        const key = `${def.name.value}.${field.name.value}`;
        if (isRoot) rootFields.push(key);
        const policy = fieldPolicyOf(field.directives ?? [], key);
        if (policy) fields.set(key, policy);
      }
    } else if (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION && def.directives?.some((d) => d.name.value === 'upload')) {
      uploadInputs.set(def.name.value, (def.fields ?? []).map((f) => f.name.value));
    }
  }
  return { fields, uploadInputs, rootFields };
}

/** The `@access` rules of the root fields, in the shape `guardResolvers` takes. */
export function accessTableOf(table: PolicyTable): AccessTable {
  const out: Partial<Record<RootType, Record<string, AccessRule>>> = {};
  for (const [key, policy] of table.fields) {
    const [type, field] = key.split('.');
    const root = ROOT_TYPES.find((r) => r === type);
    if (!root || !field || !policy.access) continue;
    (out[root] ??= {})[field] = policy.access;
  }
  return out;
}

/** Root fields without an `@access` declaration (a test and the subgraph guard refuse them). */
export function fieldsWithoutAccess(table: PolicyTable): string[] {
  return table.rootFields.filter((key) => !table.fields.get(key)?.access);
}
