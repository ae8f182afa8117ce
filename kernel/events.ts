/** PubSub channels shared across services and the gateway, with their payloads. */

/** Published by identity whenever a refresh-token family is revoked (logout, reuse detection). */
export const SESSION_REVOKED = 'identity.session-revoked';
export interface SessionRevokedEvent {
  sessionIds: string[];
}

/** Published by identity when an API key is deleted (the gateway drops its cache entry). */
export const API_KEY_REVOKED = 'identity.api-key-revoked';
export interface ApiKeyRevokedEvent {
  keyIds: string[];
}

/** Published by orgs after an organization is deleted (others drop or un-share its data). */
export const ORGANIZATION_DELETED = 'orgs.organization-deleted';
export interface OrganizationDeletedEvent {
  organizationId: string;
}
