/** The per-request context of identity's resolvers, apart from the manifest so resolvers need not import index.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuthContext } from '../../kernel/context.ts';
import type { UserService } from './user.service.ts';
import type { SessionService } from './session.service.ts';
import type { SigningKeyService } from './signing-key.service.ts';
import type { ApiKeyService } from './api-key.service.ts';
import type { IdentityLoaders } from './loaders.ts';

/** Per-request context of identity's resolvers. */
export interface IdentityContext {
  auth: AuthContext | null;
  em: EntityManager;
  services: { users: UserService; sessions: SessionService; keys: SigningKeyService; apiKeys: ApiKeyService };
  loaders: IdentityLoaders;
  /** Families revoked during this request; reported to the gateway in `extensions`. */
  revokedSessions: string[];
  /** API keys deleted during this request; reported in `extensions.revokedApiKeys`. */
  revokedApiKeys: string[];
  /** Users created by this request, whose private fields the caller may see. */
  selfIds: Set<string>;
}
