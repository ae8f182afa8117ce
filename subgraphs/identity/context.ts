/** The per-request context of identity's resolvers, apart from the manifest so resolvers need not import index.ts. */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { AuthContext } from '../../kernel/context.ts';
import { ForkOnFirstUse } from '../../kernel/request-em.ts';
import type { UserService } from './user.service.ts';
import type { SessionService } from './session.service.ts';
import type { SigningKeyService } from './signing-key.service.ts';
import type { ApiKeyService } from './api-key.service.ts';
import { createLoaders, type IdentityLoaders } from './loaders.ts';

export interface IdentityServices {
  users: UserService;
  sessions: SessionService;
  keys: SigningKeyService;
  apiKeys: ApiKeyService;
}

/** Per-request context of identity's resolvers. */
export interface IdentityContext {
  auth: AuthContext | null;
  /** The request's own EntityManager (a fork), for reads of managed entities and for writes. */
  em: EntityManager;
  /** For plain-row statements only (`getConnection().execute`), which need no fork. */
  rows: Pick<EntityManager, 'getConnection'>;
  services: IdentityServices;
  loaders: IdentityLoaders;
  /** Families revoked during this request; reported to the gateway in `extensions`. */
  revokedSessions: string[];
  /** API keys deleted during this request; reported in `extensions.revokedApiKeys`. */
  revokedApiKeys: string[];
  /** Users created by this request, whose private fields the caller may see. */
  selfIds: Set<string>;
}

/** The context a request gets: `me` and user references are read as plain rows, without a fork. */
export class IdentityRequest extends ForkOnFirstUse implements IdentityContext {
  readonly rows: Pick<EntityManager, 'getConnection'>;
  readonly loaders: IdentityLoaders;
  readonly revokedSessions: string[] = [];
  readonly revokedApiKeys: string[] = [];
  readonly selfIds = new Set<string>();

  constructor(
    readonly auth: AuthContext | null,
    readonly services: IdentityServices,
    orm: MikroORM,
  ) {
    super(orm);
    this.rows = orm.em;
    this.loaders = createLoaders(this.rows, services.users);
  }
}
