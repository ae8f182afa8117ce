/** The per-request context of integrations' resolvers, apart from the manifest so resolvers need not import index.ts. */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { AuthContext } from '../../kernel/context.ts';
import type { GrantService } from './grant.service.ts';
import type { KeyService } from './key.service.ts';
import type { SkillService } from './skill.service.ts';
import type { TenantKeys } from './tenant-keys.ts';

export interface IntegrationsServices {
  grants: GrantService;
  keys: KeyService;
  skills: SkillService;
  tenantKeys: TenantKeys;
}

/** Per-request context of integrations' resolvers. */
export interface IntegrationsContext {
  auth: AuthContext | null;
  em: EntityManager;
  services: IntegrationsServices;
}

/**
 * The context a request gets: its EntityManager is forked on first use, as INT-2 verify and the
 * public key reads are answered from memory and a fork (an identity map, a copy of the
 * configuration) was a measurable part of each. The fork is a getter on the prototype because
 * Apollo Server copies the context's own properties into a new object for each operation, which
 * would read (and so make) the fork at once.
 */
export class IntegrationsRequest implements IntegrationsContext {
  private forked: EntityManager | undefined = undefined;

  constructor(
    readonly auth: AuthContext | null,
    readonly services: IntegrationsServices,
    private readonly orm: MikroORM,
  ) {}

  get em(): EntityManager {
    return (this.forked ??= this.orm.em.fork());
  }
}
