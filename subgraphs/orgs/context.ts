/** The per-request context of orgs's resolvers, apart from the manifest so resolvers need not import index.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuthContext } from '../../kernel/context.ts';
import type { OrganizationService } from './organization.service.ts';
import type { MemberService } from './member.service.ts';
import type { OrgsLoaders } from './loaders.ts';

/** Per-request context of orgs' resolvers. */
export interface OrgsContext {
  auth: AuthContext | null;
  em: EntityManager;
  services: { orgs: OrganizationService; members: MemberService };
  loaders: OrgsLoaders;
  /** API keys deleted by this request (removal, move-out, deletion); reported in `extensions.revokedApiKeys`. */
  revokedApiKeys: string[];
}
