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

/** Published by orgs after an organization is created (integrations creates its signing key). */
export const ORGANIZATION_CREATED = 'orgs.organization-created';
export interface OrganizationCreatedEvent {
  organizationId: string;
}

/** Published by orgs after an organization is deleted (others drop or un-share its data). */
export const ORGANIZATION_DELETED = 'orgs.organization-deleted';
export interface OrganizationDeletedEvent {
  organizationId: string;
}

/**
 * Published by orgs after a change to a user's membership in an organization commits (added,
 * role or team changed, moved away, removed): caches of membership (integrations) drop the entry.
 */
export const MEMBERSHIP_CHANGED = 'orgs.membership-changed';
export interface MembershipChangedEvent {
  organizationId: string;
  userId: string;
}

/**
 * Published by chat after a conversation is deleted with its messages and sessions (knowledge
 * deletes the conversation-scoped documents of `userId`).
 */
export const CONVERSATION_DELETED = 'chat.conversation-deleted';
export interface ConversationDeletedEvent {
  conversationId: string;
  userId: string;
}

/**
 * Published by chat when a conversation session ends, by the client or by idle timeout (learning
 * records the `chat_session` XP and the learning time). `xp` is §4.2's base award, before
 * any booster; times are ISO-8601.
 */
export const CHAT_SESSION_ENDED = 'chat.session-ended';
export interface ChatSessionEndedEvent {
  userId: string;
  conversationId: string;
  sessionId: string;
  durationSeconds: number;
  startedAt: string;
  endedAt: string;
  xp: number;
}
