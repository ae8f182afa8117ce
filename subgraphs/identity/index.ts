/** The identity subgraph manifest: users, credentials, sessions and signing keys. */
import { loadSubgraphSdl } from '../../kernel/policy.ts';
import type { ApolloServerPlugin } from '@apollo/server';
import type { SubgraphManifest } from '../../kernel/server.ts';
import { UserSchema } from './user.entity.ts';
import { RefreshTokenSchema, SessionFamilySchema } from './session.entity.ts';
import { SigningKeySchema } from './signing-key.entity.ts';
import { ApiKeySchema } from './api-key.entity.ts';
import { IdentityInitial } from './migrations/initial.migration.ts';
import { IdentityApiKeys } from './migrations/api-keys.migration.ts';
import { PasswordHasher } from './password.hasher.ts';
import { UserService } from './user.service.ts';
import { SessionService } from './session.service.ts';
import { SigningKeyService } from './signing-key.service.ts';
import { ApiKeyService } from './api-key.service.ts';
import { subgraphClient } from '../../kernel/trpc.ts';
import type { OrgsRouter } from '../orgs/router.ts';
import { createIdentityRouter } from './router.ts';
import { IdentityRequest, type IdentityContext } from './context.ts';
import { resolvers } from './resolvers.ts';

export type { IdentityRouter } from './router.ts';
export type { IdentityContext } from './context.ts';

export const typeDefs = loadSubgraphSdl(new URL('./schema.graphql', import.meta.url));

/**
 * Reports sessions revoked by this request in `extensions.revokedSessions`, so the gateway that
 * forwarded it rejects their tokens on the very next request (other replicas learn via PubSub).
 */
const reportRevocations: ApolloServerPlugin<IdentityContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ contextValue, response }) {
        if (response.body.kind !== 'single') return;
        const extra: Record<string, string[]> = {};
        if (contextValue.revokedSessions?.length) extra.revokedSessions = contextValue.revokedSessions;
        if (contextValue.revokedApiKeys?.length) extra.revokedApiKeys = contextValue.revokedApiKeys;
        if (Object.keys(extra).length) response.body.singleResult.extensions = { ...response.body.singleResult.extensions, ...extra };
      },
    };
  },
};

export const identity: SubgraphManifest<IdentityContext> = {
  name: 'identity',
  typeDefs,
  resolvers,
  entities: [UserSchema, SessionFamilySchema, RefreshTokenSchema, SigningKeySchema, ApiKeySchema],
  migrations: [
    { name: 'identity-0001-initial', class: IdentityInitial },
    { name: 'identity-0002-api-keys', class: IdentityApiKeys },
  ],
  plugins: [reportRevocations],
  setup({ config, orm, pubsub }) {
    const hasher = new PasswordHasher();
    const keys = new SigningKeyService(orm, config.encryptionKey);
    const users = new UserService(hasher, config.adminEmails);
    const sessions = new SessionService(hasher, keys, pubsub);
    const orgsClient = subgraphClient<OrgsRouter>(config, 'identity', 'orgs');
    const apiKeys = new ApiKeyService(orgsClient, pubsub);
    const services = { users, sessions, keys, apiKeys };
    return {
      router: createIdentityRouter(orm, users, sessions, keys, apiKeys),
      requestContext(auth) {
        return new IdentityRequest(auth, services, orm);
      },
    };
  },
};
