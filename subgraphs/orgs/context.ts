/** The per-request context of orgs's resolvers, apart from the manifest so resolvers need not import index.ts. */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { AuthContext } from '../../kernel/context.ts';
import { ForkOnFirstUse } from '../../kernel/request-em.ts';
import type { OrganizationService, OrgReads } from './organization.service.ts';
import type { MemberService } from './member.service.ts';
import type { IdentityGateway } from './identity.client.ts';
import { createLoaders, loaderReads, type OrgsLoaders } from './loaders.ts';

/** Per-request context of orgs' resolvers. */
export interface OrgsContext {
  auth: AuthContext | null;
  /** The request's own EntityManager (a fork), for managed entities and for writes. */
  em: EntityManager;
  services: { orgs: OrganizationService; members: MemberService };
  loaders: OrgsLoaders;
  /** Access checks and listings of GraphQL reads, through `loaders` (plain rows, read once). */
  reads: OrgReads;
  /** API keys deleted by this request (removal, move-out, deletion); reported in `extensions.revokedApiKeys`. */
  revokedApiKeys: string[];
}

/** The context a request gets: its reads go through plain-row loaders, so a read-only request makes no fork. */
export class OrgsRequest extends ForkOnFirstUse implements OrgsContext {
  readonly loaders: OrgsLoaders;
  readonly reads: OrgReads;
  readonly revokedApiKeys: string[] = [];

  constructor(
    readonly auth: AuthContext | null,
    readonly services: OrgsContext['services'],
    orm: MikroORM,
    identity: IdentityGateway,
  ) {
    super(orm);
    this.loaders = createLoaders(orm.em, auth?.userId ?? null, identity);
    this.reads = loaderReads(this.loaders);
  }
}
