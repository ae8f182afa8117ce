/** The orgs subgraph manifest: organizations, memberships, roles and teams. */
import { loadSubgraphSdl } from '../../kernel/policy.ts';
import type { ApolloServerPlugin } from '@apollo/server';
import type { SubgraphManifest } from '../../kernel/server.ts';
import { subgraphClient } from '../../kernel/trpc.ts';
import type { IdentityRouter } from '../identity/router.ts';
import { MembershipSchema, OrganizationSchema, TeamSchema } from './organization.entity.ts';
import { OrgsInitial } from './migrations/initial.migration.ts';
import { OrganizationService } from './organization.service.ts';
import { MemberService } from './member.service.ts';
import { IdentityGateway } from './identity.client.ts';
import { createOrgsRouter } from './router.ts';
import { OrgsRequest, type OrgsContext } from './context.ts';
import { resolvers } from './resolvers.ts';

export type { OrgsRouter } from './router.ts';
export type { OrgsContext } from './context.ts';

/**
 * Reports the API keys this request deleted in `extensions.revokedApiKeys`, so the gateway that
 * forwarded it rejects them on the very next request (other replicas learn via PubSub, whose
 * delivery may trail the response).
 */
const reportRevokedKeys: ApolloServerPlugin<OrgsContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ contextValue, response }) {
        if (response.body.kind !== 'single' || !contextValue.revokedApiKeys?.length) return;
        response.body.singleResult.extensions = { ...response.body.singleResult.extensions, revokedApiKeys: contextValue.revokedApiKeys };
      },
    };
  },
};

export const typeDefs = loadSubgraphSdl(new URL('./schema.graphql', import.meta.url));

export const orgs: SubgraphManifest<OrgsContext> = {
  name: 'orgs',
  typeDefs,
  resolvers,
  entities: [OrganizationSchema, MembershipSchema, TeamSchema],
  migrations: [{ name: 'orgs-0001-initial', class: OrgsInitial }],
  plugins: [reportRevokedKeys],
  setup({ config, orm, pubsub }) {
    const identity = new IdentityGateway(subgraphClient<IdentityRouter>(config, 'orgs', 'identity'));
    const orgService = new OrganizationService(identity, pubsub);
    const services = { orgs: orgService, members: new MemberService(orgService, identity, pubsub) };
    return {
      router: createOrgsRouter(orm),
      requestContext(auth) {
        return new OrgsRequest(auth, services, orm, identity);
      },
    };
  },
};
