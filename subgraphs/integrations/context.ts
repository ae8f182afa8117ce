/** The per-request context of integrations' resolvers, apart from the manifest so resolvers need not import index.ts. */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { AuthContext } from '../../kernel/context.ts';
import { ForkOnFirstUse } from '../../kernel/request-em.ts';
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

/** The context a request gets: INT-2 verify and the public key reads are answered from memory, without a fork. */
export class IntegrationsRequest extends ForkOnFirstUse implements IntegrationsContext {
  constructor(
    readonly auth: AuthContext | null,
    readonly services: IntegrationsServices,
    orm: MikroORM,
  ) {
    super(orm);
  }
}
