/**
 * Skills Connector, SKL-1..3 (§3.8, §4.16), and Integration Tokens, INT-1..7 (§3.9, §4.15). The
 * Integration Token area speaks camelCase in requests and responses alike.
 */
import { v } from '../../validation.ts';
import { defineRoute, type RouteDecl } from '../../route.ts';
import {
  IntegrationFingerprintResponse,
  IntegrationGrantResponse,
  IntegrationJWKSResponse,
  IntegrationOAuthCallbackResponse,
  IntegrationOAuthStartResponse,
  IntegrationResponse,
  IntegrationRevocationListResponse,
  IntegrationRevokeResponse,
  IntegrationRotateResponse,
  IntegrationVerifyResponse,
} from './responses.ts';

/** The integration scope set (§4.15). */
const INTEGRATION_SCOPES = ['profile:read', 'quota:read', 'live:read', 'live:write', 'xel:read', 'xel:write', 'conversations:read', 'conversations:write', 'rag:read'] as const;
const MODES = ['api', 'embed'] as const;

/** An origin with no path, query or fragment: https, or http on localhost / 127.0.0.1. */
function originError(s: string): string | null {
  let url: URL | null = null;
  try {
    url = new URL(s);
  } catch {
    url = null;
  }
  const local = url?.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1');
  if (url && url.origin === s && (url.protocol === 'https:' || local)) return null;
  return 'origin must be an https origin (or http://localhost / http://127.0.0.1) with no path, query or fragment';
}

const scopes = () => v.list(v.enumOf(INTEGRATION_SCOPES), { min: 1, max: 20, unique: true });
const ttl = () => v.optional(v.int({ ge: 30, le: 3600 }), 120);
const mode = () => v.enumOf(MODES);

const grantBody = v.object({
  mode: mode(),
  origin: v.custom(v.str(), originError, 'https origin, or http on localhost/127.0.0.1; no path, query or fragment'),
  scopes: scopes(),
  ttlSeconds: ttl(),
  tenantId: v.optional(v.nullable(v.uuid())),
});
const verifyBody = v.object({ token: v.str(), tenantId: v.uuid() });
const revokeBody = v.custom(
  v.object({
    integrationToken: v.optional(v.nullable(v.str())),
    tenantId: v.optional(v.nullable(v.uuid())),
    jti: v.optional(v.nullable(v.uuid())),
    reason: v.optional(v.nullable(v.str({ max: 200 }))),
  }),
  (b) => {
    const a = b.integrationToken != null;
    const formB = b.tenantId != null || b.jti != null;
    return a !== formB && (a || (b.tenantId != null && b.jti != null)) ? null : 'Exactly one of integrationToken or (tenantId and jti) must be provided';
  },
);
const rotateBody = v.object({
  mode: mode(),
  integrationToken: v.str(),
  revokePrevious: v.optional(v.bool(), true),
  ttlSeconds: ttl(),
  scopes: v.optional(v.nullable(scopes())),
});
const tenantQuery = v.object({ tenantId: v.uuid() });
const revocationsQuery = v.object({
  tenantId: v.optional(v.uuid()),
  since: v.optional(v.datetime()),
  limit: v.optional(v.int({ ge: 1, le: 100 }), 20),
  offset: v.optional(v.int({ ge: 0 }), 0),
});
const callbackQuery = v.object({ code: v.optional(v.str()), state: v.optional(v.str()), error: v.optional(v.str()) });

const gqlMode = (m: string): string => m.toUpperCase();

const SKILLS = { tag: 'Skills Connector' } as const;
const TOKENS = { tag: 'Integration Tokens' } as const;
/** §1.1: the public key documents may be cached for five minutes. */
const PUBLIC_CACHE = 'public, max-age=300';

export const integrationRoutes: RouteDecl[] = [
  defineRoute({
    ...SKILLS,
    id: 'SKL-1',
    method: 'GET',
    path: '/api/integrations',
    summary: "List the caller's connected integrations",
    operation: 'ListIntegrations',
    variables: () => ({}),
    response: IntegrationResponse.list(),
    select: (data) => data.integrations,
    status: 200,
  }),
  defineRoute({
    ...SKILLS,
    id: 'SKL-2',
    method: 'GET',
    path: '/api/integrations/google-calendar/oauth/start',
    summary: 'Start connecting Google Calendar (OAuth 2.0 with PKCE)',
    operation: 'StartGoogleCalendarOAuth',
    variables: () => ({}),
    response: IntegrationOAuthStartResponse,
    select: (data) => data.startGoogleCalendarOAuth,
    status: 200,
  }),
  defineRoute({
    ...SKILLS,
    id: 'SKL-3',
    method: 'GET',
    path: '/api/integrations/google-calendar/oauth/callback',
    summary: "Google's OAuth redirect: completes the connection",
    query: callbackQuery,
    operation: 'CompleteGoogleCalendarOAuth',
    variables: ({ query }) => ({ state: query.state ?? null, code: query.code ?? null, error: query.error ?? null }),
    response: IntegrationOAuthCallbackResponse,
    select: (data) => data.completeGoogleCalendarOAuth,
    status: 200,
  }),
  defineRoute({
    ...TOKENS,
    id: 'INT-1',
    method: 'POST',
    path: '/api/integration/grant',
    summary: 'Issue an integration token',
    body: { kind: 'json', spec: grantBody },
    operation: 'GrantIntegrationToken',
    variables: ({ body }) => ({
      input: { mode: gqlMode(body.mode), origin: body.origin, scopes: body.scopes, ttlSeconds: body.ttlSeconds, ...(body.tenantId != null && { tenantId: body.tenantId }) },
    }),
    response: IntegrationGrantResponse,
    select: (data) => data.grantIntegrationToken,
    status: 201,
  }),
  defineRoute({
    ...TOKENS,
    id: 'INT-2',
    method: 'POST',
    path: '/api/integration/verify',
    summary: 'Verify an integration token',
    body: { kind: 'json', spec: verifyBody },
    operation: 'VerifyIntegrationToken',
    variables: ({ body }) => ({ input: { token: body.token, tenantId: body.tenantId } }),
    response: IntegrationVerifyResponse,
    select: (data) => data.verifyIntegrationToken,
    status: 200,
  }),
  defineRoute({
    ...TOKENS,
    id: 'INT-3',
    method: 'POST',
    path: '/api/integration/revoke',
    summary: 'Revoke an integration token',
    body: { kind: 'json', spec: revokeBody },
    operation: 'RevokeIntegrationToken',
    variables: ({ body }) => ({
      input:
        body.integrationToken != null
          ? { integrationToken: body.integrationToken, reason: body.reason ?? null }
          : { tenantId: body.tenantId, jti: body.jti, reason: body.reason ?? null },
    }),
    response: IntegrationRevokeResponse,
    select: (data) => data.revokeIntegrationToken,
    status: 200,
  }),
  defineRoute({
    ...TOKENS,
    id: 'INT-4',
    method: 'POST',
    path: '/api/integration/rotate',
    summary: 'Rotate an integration token',
    body: { kind: 'json', spec: rotateBody },
    operation: 'RotateIntegrationToken',
    variables: ({ body }) => ({
      input: {
        mode: gqlMode(body.mode),
        integrationToken: body.integrationToken,
        revokePrevious: body.revokePrevious,
        ttlSeconds: body.ttlSeconds,
        ...(body.scopes != null && { scopes: body.scopes }),
      },
    }),
    response: IntegrationRotateResponse,
    select: (data) => data.rotateIntegrationToken,
    status: 201,
  }),
  defineRoute({
    ...TOKENS,
    id: 'INT-5',
    method: 'GET',
    path: '/api/integration/jwks',
    summary: "A tenant's public signing key (JWK Set)",
    query: tenantQuery,
    operation: 'IntegrationJwks',
    variables: ({ query }) => ({ tenantId: query.tenantId }),
    response: IntegrationJWKSResponse,
    select: (data) => data.integrationJwks,
    status: 200,
    cacheControl: PUBLIC_CACHE,
    notFound: 'Tenant',
  }),
  defineRoute({
    ...TOKENS,
    id: 'INT-6',
    method: 'GET',
    path: '/api/integration/fingerprint',
    summary: "The fingerprint of a tenant's signing key",
    query: tenantQuery,
    operation: 'IntegrationKeyFingerprint',
    variables: ({ query }) => ({ tenantId: query.tenantId }),
    response: IntegrationFingerprintResponse,
    select: (data) => data.integrationKeyFingerprint,
    status: 200,
    cacheControl: PUBLIC_CACHE,
    notFound: 'Tenant',
  }),
  defineRoute({
    ...TOKENS,
    id: 'INT-7',
    method: 'GET',
    path: '/api/admin/integration-token-revocations',
    summary: 'List revoked integration tokens (platform admins)',
    query: revocationsQuery,
    operation: 'ListIntegrationTokenRevocations',
    variables: ({ query }) => ({ tenantId: query.tenantId ?? null, since: query.since?.toISOString() ?? null, limit: query.limit, offset: query.offset }),
    response: IntegrationRevocationListResponse,
    select: (data) => data.integrationTokenRevocations,
    status: 200,
  }),
];
