/** The per-request context of integrations' resolvers, apart from the manifest so resolvers need not import index.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
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
