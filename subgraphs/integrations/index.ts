/** The integrations subgraph manifest: tenant signing keys, integration tokens and the skills connector. */
import { loadSubgraphSdl } from '../../kernel/policy.ts';
import type { SubgraphManifest } from '../../kernel/server.ts';
import { subgraphClient } from '../../kernel/trpc.ts';
import { ORGANIZATION_CREATED, ORGANIZATION_DELETED, type OrganizationCreatedEvent, type OrganizationDeletedEvent } from '../../kernel/events.ts';
import type { OrgsRouter } from '../orgs/router.ts';
import { GrantSchema, OAuthStateSchema, RevocationSchema, SkillConnectionSchema, TenantKeySchema } from './integration.entity.ts';
import { IntegrationsInitial } from './migrations/initial.migration.ts';
import { OrgsGateway } from './orgs.client.ts';
import { TenantKeys } from './tenant-keys.ts';
import { MembershipCache } from './membership.cache.ts';
import { RevocationCache } from './revocation.cache.ts';
import { GrantService } from './grant.service.ts';
import { KeyService } from './key.service.ts';
import { SkillService } from './skill.service.ts';
import { createIntegrationsRouter } from './router.ts';
import { IntegrationsRequest, type IntegrationsContext, type IntegrationsServices } from './context.ts';
import { resolvers } from './resolvers.ts';

export type { IntegrationsRouter } from './router.ts';
export type { IntegrationsContext } from './context.ts';

export const typeDefs = loadSubgraphSdl(new URL('./schema.graphql', import.meta.url));

export const integrations: SubgraphManifest<IntegrationsContext> = {
  name: 'integrations',
  typeDefs,
  resolvers,
  entities: [TenantKeySchema, GrantSchema, RevocationSchema, OAuthStateSchema, SkillConnectionSchema],
  migrations: [{ name: 'integrations-0001-initial', class: IntegrationsInitial }],
  setup({ config, orm, pubsub, logger }) {
    const orgs = new OrgsGateway(subgraphClient<OrgsRouter>(config, 'integrations', 'orgs'));
    const tenantKeys = new TenantKeys(orm, config.encryptionKey, orgs);
    const memberships = new MembershipCache(orgs);
    const revocations = new RevocationCache(pubsub);
    const services: IntegrationsServices = {
      grants: new GrantService(tenantKeys, orgs, config.integrationTokenIssuer, { memberships, revocations }),
      keys: new KeyService(tenantKeys),
      skills: new SkillService(config.googleOAuth, config.encryptionKey),
      tenantKeys,
    };

    // A new organization gets its key at once (every process may try; one key is kept). A deleted
    // one loses its key pair and grants, and every process forgets the cached key.
    // Membership changes and revocations announced by any process evict what verify caches.
    const unsubscribers = Promise.all([
      revocations.start(),
      memberships.start(pubsub),
      pubsub.subscribe(ORGANIZATION_CREATED, (payload) => {
        const e = payload as OrganizationCreatedEvent;
        tenantKeys.create(e.organizationId).catch((err: unknown) => logger.error({ err, organizationId: e.organizationId }, 'creating the tenant key failed'));
      }),
      pubsub.subscribe(ORGANIZATION_DELETED, (payload) => {
        const e = payload as OrganizationDeletedEvent;
        tenantKeys.remove(e.organizationId).catch((err: unknown) => logger.error({ err, organizationId: e.organizationId }, 'removing the tenant key failed'));
      }),
    ]);

    return {
      router: createIntegrationsRouter(tenantKeys),
      requestContext(auth) {
        return new IntegrationsRequest(auth, services, orm);
      },
      async close() {
        for (const unsubscribe of await unsubscribers) unsubscribe();
      },
    };
  },
};
