/**
 * Authorisation primitives every service uses, so GraphQL, REST and tRPC share one check
 * Each throws the registry code the API prescribes.
 */
import { AppError } from './errors.ts';
import type { AuthContext } from './context.ts';

/** A context known to act for a user. */
export type UserContext = AuthContext & { userId: string };

/**
 * Requires a bearer token (auth code `B`).
 * @throws UNAUTHENTICATED without credentials; BEARER_REQUIRED for an API key.
 */
export function requireBearer(auth: AuthContext | null): UserContext {
  if (auth?.mode === 'bearer' && auth.userId) return { ...auth, userId: auth.userId };
  if (auth?.mode === 'api_key') throw new AppError('BEARER_REQUIRED');
  throw new AppError('UNAUTHENTICATED');
}

/**
 * Requires a user, by bearer token or API key (`B+K`); for API keys, checks `scope` first
 * (§1.4: exact match, `api:admin` satisfies every `api:*`).
 * @throws UNAUTHENTICATED; INSUFFICIENT_API_KEY_SCOPE with `required_scope` and `granted_scopes`.
 */
export function requireUser(auth: AuthContext | null, scope: string | null): UserContext {
  if ((auth?.mode === 'bearer' || auth?.mode === 'api_key') && auth.userId) {
    if (auth.mode === 'api_key' && scope && !hasScope(auth.scopes, scope)) {
      throw new AppError('INSUFFICIENT_API_KEY_SCOPE', { extras: { required_scope: scope, granted_scopes: auth.scopes } });
    }
    return { ...auth, userId: auth.userId };
  }
  throw new AppError('UNAUTHENTICATED');
}

export function hasScope(granted: readonly string[], required: string): boolean {
  if (granted.includes(required)) return true;
  return required.startsWith('api:') && granted.includes('api:admin');
}
