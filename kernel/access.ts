/**
 * Declarative access rules for root fields: each subgraph states the auth mode and API-key scope
 * of every query, mutation and subscription with `@access` in its SDL (§1.3, §1.4; read by
 * kernel/policy.ts). `guardResolvers` wraps the root resolvers so the check runs first
 * (credentials, then scope) for GraphQL and for REST alike, and refuses to start when a root
 * field has no rule.
 */
import type { GraphQLFieldResolver } from 'graphql';
import { AppError } from './errors.ts';
import { requireBearer, requireUser } from './authz.ts';
import type { AuthContext } from './context.ts';

/** §1.3 auth codes as used by services. */
export type AccessMode = 'P' | 'B' | 'B+K' | 'B·adm' | 'B+K·adm' | 'B+I';

export interface AccessRule {
  auth: AccessMode;
  /** Required API-key scope (checked for API keys only). */
  scope?: string;
}

export type AccessTable = Partial<Record<'Query' | 'Mutation' | 'Subscription', Record<string, AccessRule>>>;

/**
 * Enforces a rule for `auth`.
 * @throws UNAUTHENTICATED, BEARER_REQUIRED, INSUFFICIENT_API_KEY_SCOPE, ADMIN_REQUIRED
 */
export function enforceAccess(rule: AccessRule, auth: AuthContext | null): void {
  switch (rule.auth) {
    case 'P':
      return;
    case 'B':
      requireBearer(auth);
      return;
    case 'B+K':
      requireUser(auth, rule.scope ?? null);
      return;
    case 'B·adm':
      if (requireBearer(auth).role !== 'admin') throw new AppError('ADMIN_REQUIRED');
      return;
    case 'B+K·adm':
      if (requireUser(auth, rule.scope ?? null).role !== 'admin') throw new AppError('ADMIN_REQUIRED');
      return;
    case 'B+I':
      // The internal service mode: the gateway checked the service key and the acting user.
      if (auth?.mode === 'internal' && auth.userId) return;
      requireBearer(auth);
      return;
    default: {
      const never: never = rule.auth;
      throw new Error(`Unknown access mode ${String(never)}`);
    }
  }
}

type ResolverMap = Record<string, unknown>;

/** Wraps the root resolvers of `resolvers` with their rules; throws if any root field lacks one. */
export function guardResolvers<T extends ResolverMap>(resolvers: T, table: AccessTable): T {
  const out: ResolverMap = { ...resolvers };
  for (const type of ['Query', 'Mutation', 'Subscription'] as const) {
    const fields = resolvers[type];
    if (!fields || typeof fields !== 'object') continue;
    const rules = table[type] ?? {};
    const wrapped: Record<string, unknown> = {};
    for (const [name, resolver] of Object.entries(fields)) {
      const rule = rules[name];
      if (!rule) throw new Error(`No access rule for ${type}.${name}`);
      if (typeof resolver === 'function') {
        const fn = resolver as GraphQLFieldResolver<unknown, { auth: AuthContext | null }>;
        wrapped[name] = (parent: unknown, args: Record<string, unknown>, ctx: { auth: AuthContext | null }, info: Parameters<typeof fn>[3]) => {
          enforceAccess(rule, ctx.auth);
          return fn(parent, args, ctx, info);
        };
      } else if (resolver && typeof resolver === 'object' && 'subscribe' in resolver && typeof resolver.subscribe === 'function') {
        const sub = resolver.subscribe as GraphQLFieldResolver<unknown, { auth: AuthContext | null }>;
        wrapped[name] = {
          ...resolver,
          subscribe: (parent: unknown, args: Record<string, unknown>, ctx: { auth: AuthContext | null }, info: Parameters<typeof sub>[3]) => {
            enforceAccess(rule, ctx.auth);
            return sub(parent, args, ctx, info);
          },
        };
      } else {
        wrapped[name] = resolver;
      }
    }
    out[type] = wrapped;
  }
  return out as T;
}
