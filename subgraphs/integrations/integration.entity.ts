/** Tenant keys, grants, revocations and skill connections (§4.15, §4.16); rows are read and written in SQL by the services. */
import { createdAt, entitySchema } from '../../kernel/entity-schema.ts';

export interface TenantKeyRow {
  organizationId: string;
  kid: string;
  publicJwk: string;
  privateKeySealed: string;
  createdAt: Date;
}

export interface GrantRow {
  jti: string;
  tenantId: string;
  sub: string;
  scopes: string;
  origin: string;
  mode: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface RevocationRow {
  jti: string;
  tenantId: string;
  reason: string;
  revokedAt: Date;
  revokedBy: string | null;
  expiresAt: Date;
  source: string;
}

export interface OAuthStateRow {
  state: string;
  userId: string;
  provider: string;
  codeVerifierSealed: string;
  scopes: string;
  expiresAt: Date;
}

export interface SkillConnectionRow {
  userId: string;
  provider: string;
  accessTokenSealed: string;
  refreshTokenSealed: string | null;
  expiresAtSealed: string | null;
  scopes: string;
  connectedAt: Date;
}

export const TenantKeySchema = entitySchema<TenantKeyRow>('TenantKey', 'tenant_keys', {
  organizationId: { type: 'uuid', primary: true, fieldName: 'organization_id' },
  kid: { type: 'string' },
  publicJwk: { type: 'text', fieldName: 'public_jwk' },
  privateKeySealed: { type: 'text', fieldName: 'private_key_sealed' },
  ...createdAt(),
});

export const GrantSchema = entitySchema<GrantRow>('IntegrationGrant', 'grants', {
  jti: { type: 'uuid', primary: true },
  tenantId: { type: 'uuid', fieldName: 'tenant_id' },
  sub: { type: 'uuid' },
  scopes: { type: 'text' },
  origin: { type: 'string' },
  mode: { type: 'string' },
  issuedAt: { type: 'Date', fieldName: 'issued_at' },
  expiresAt: { type: 'Date', fieldName: 'expires_at' },
});

export const RevocationSchema = entitySchema<RevocationRow>('IntegrationRevocation', 'revocations', {
  jti: { type: 'uuid', primary: true },
  tenantId: { type: 'uuid', fieldName: 'tenant_id' },
  reason: { type: 'string' },
  revokedAt: { type: 'Date', fieldName: 'revoked_at' },
  revokedBy: { type: 'uuid', nullable: true, fieldName: 'revoked_by' },
  expiresAt: { type: 'Date', fieldName: 'expires_at' },
  source: { type: 'string' },
});

export const OAuthStateSchema = entitySchema<OAuthStateRow>('OAuthState', 'oauth_states', {
  state: { type: 'string', primary: true },
  userId: { type: 'uuid', fieldName: 'user_id' },
  provider: { type: 'string' },
  codeVerifierSealed: { type: 'text', fieldName: 'code_verifier_sealed' },
  scopes: { type: 'text' },
  expiresAt: { type: 'Date', fieldName: 'expires_at' },
});

export const SkillConnectionSchema = entitySchema<SkillConnectionRow>('SkillConnection', 'skill_connections', {
  userId: { type: 'uuid', primary: true, fieldName: 'user_id' },
  provider: { type: 'string', primary: true },
  accessTokenSealed: { type: 'text', fieldName: 'access_token_sealed' },
  refreshTokenSealed: { type: 'text', nullable: true, fieldName: 'refresh_token_sealed' },
  expiresAtSealed: { type: 'text', nullable: true, fieldName: 'expires_at_sealed' },
  scopes: { type: 'text' },
  connectedAt: { type: 'Date', fieldName: 'connected_at' },
});
