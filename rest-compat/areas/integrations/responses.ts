/**
 * The response bodies of the Skills Connector (§3.8, snake_case) and the Integration Tokens area
 * (§3.9, camelCase like its requests).
 */
import { page, r, response } from '../../response.ts';

/** A connected skill (`Integration`). */
export const IntegrationResponse = response('IntegrationResponse', {
  provider: r.str({ const: 'google_calendar' }),
  status: r.str({ const: 'connected' }),
  scopes: r.strings(),
  connected_at: r.dateTime(),
  expires_at: r.dateTimeOrNull(),
  has_refresh_token: r.bool(),
});

export const IntegrationOAuthStartResponse = response('IntegrationOAuthStartResponse', {
  authorization_url: r.str(),
  state: r.str({ description: 'base64url of 32 random bytes; valid 600 s, single use.' }),
});

export const IntegrationOAuthCallbackResponse = response('IntegrationOAuthCallbackResponse', {
  provider: r.str({ const: 'google_calendar' }),
  status: r.str({ const: 'connected' }),
  scopes: r.strings(),
  connected_at: r.dateTime(),
});

const grant = {
  token: r.str({ description: 'The RS256 JWT.' }),
  tokenType: r.str({ const: 'Bearer' }),
  expiresAt: r.dateTime(),
  jti: r.uuid(),
  kid: r.str(),
  tenantId: r.uuid(),
  scopes: r.strings(),
  origin: r.str(),
};

export const IntegrationGrantResponse = response('IntegrationGrantResponse', grant);

export const IntegrationRotateResponse = response('IntegrationRotateResponse', {
  ...grant,
  previousJti: r.uuid(),
  previousRevoked: r.bool(),
});

export const IntegrationTokenClaims = response('IntegrationTokenClaims', {
  iss: r.str(),
  aud: r.str({ const: 'xentree-integration' }),
  sub: r.uuid(),
  tid: r.uuid(),
  scopes: r.strings(),
  origin: r.str(),
  mode: r.str({ enum: ['api', 'embed'] }),
  jti: r.uuid(),
  iat: r.int(),
  exp: r.int(),
});

export const IntegrationVerifyResponse = response('IntegrationVerifyResponse', {
  valid: r.bool(),
  claims: r.oneOrNull(IntegrationTokenClaims),
  reason: r.strOrNull({
    enum: ['malformed', 'unknown_key', 'invalid_signature', 'tenant_mismatch', 'invalid_issuer', 'invalid_audience', 'not_yet_valid', 'expired', 'revoked', null],
  }),
});

export const IntegrationRevokeResponse = response('IntegrationRevokeResponse', {
  revoked: r.bool(),
  jti: r.uuid(),
  tenantId: r.uuid(),
  revokedAt: r.dateTime(),
  alreadyRevoked: r.bool(),
});

export const IntegrationJWK = response('IntegrationJWK', {
  kty: r.str({ const: 'RSA' }),
  use: r.str({ const: 'sig' }),
  alg: r.str({ const: 'RS256' }),
  kid: r.str(),
  n: r.str(),
  e: r.str(),
});

export const IntegrationJWKSResponse = response('IntegrationJWKSResponse', { keys: r.list(IntegrationJWK) });

export const IntegrationFingerprintResponse = response('IntegrationFingerprintResponse', {
  tenantId: r.uuid(),
  kid: r.str(),
  algorithm: r.str({ const: 'SHA-256' }),
  fingerprint: r.str({ description: 'RFC 7638 thumbprint, base64url without padding (43 characters).' }),
  fingerprintHex: r.str({ description: 'The same 32 bytes as uppercase hex pairs joined by `:` (95 characters).' }),
});

export const IntegrationRevocationItem = response('IntegrationRevocationItem', {
  jti: r.uuid(),
  tenantId: r.uuid(),
  reason: r.str(),
  revokedAt: r.dateTime(),
  revokedBy: r.uuidOrNull(),
  expiresAt: r.dateTime(),
  source: r.str({ enum: ['revoke', 'rotate'] }),
});

export const IntegrationRevocationListResponse = page('IntegrationRevocationListResponse', IntegrationRevocationItem);
