/** API keys, KEY-1..3 (§3.10, §4.14). KEY-4 (List tenants) lives in orgs.routes.ts. */
import { isIP } from 'node:net';
import { v } from '../validation.ts';
import { defineRoute, type RouteDecl } from '../route.ts';
import { array, field, noContent, object, present } from '../shape.ts';

/** Every scope of §1.4, in its order: the values an API key may carry. */
export const API_SCOPES = [
  'conversations:read',
  'conversations:write',
  'rag:read',
  'rag:write',
  'quiz:read',
  'quiz:write',
  'live:read',
  'live:write',
  'organizations:read',
  'organizations:write',
  'integrations:read',
  'integrations:write',
  'xel:read',
  'xel:write',
  'api:read',
  'api:write',
  'api:admin',
] as const;

/**
 * True for an IPv4/IPv6 address, or one followed by `/<prefix>` (0..32 or 0..128). Host bits
 * are allowed: normalising the block is the identity service's job. Zone ids (`fe80::1%eth0`) are
 * refused: they mean nothing when matched against a socket peer address.
 */
export function isIpOrCidr(s: string): boolean {
  const slash = s.indexOf('/');
  const address = slash < 0 ? s : s.slice(0, slash);
  const family = address.includes('%') ? 0 : isIP(address);
  if (family === 0) return false;
  if (slash < 0) return true;
  const prefix = s.slice(slash + 1);
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

const keyParams = v.object({ key_id: v.uuid() });
const listQuery = v.object({ organization_id: v.optional(v.uuid()) });

const createBody = v.object({
  name: v.str({ min: 1, max: 100 }),
  organization_id: v.uuid(),
  scopes: v.list(v.enumOf(API_SCOPES), { min: 1, max: 17, unique: true }),
  allowed_ips: v.optional(v.list(v.custom(v.str(), (s) => (isIpOrCidr(s) ? null : 'value is not a valid IPv4 or IPv6 address or CIDR block')), { max: 50 }), []),
  expires_at: v.optional(v.nullable(v.datetime())),
});

/** `APIKeyResponse` from the `ApiKeyResponseFields` fragment. */
export function apiKeyResponse(key: unknown): unknown {
  const k = object(key);
  if (!k) return null;
  return {
    id: k.id,
    name: k.name,
    organization_id: k.organizationId,
    key_prefix: k.keyPrefix,
    scopes: k.scopes,
    allowed_ips: k.allowedIps,
    expires_at: k.expiresAt ?? null,
    expired: k.expired,
    created_by: k.createdBy,
    created_at: k.createdAt,
    last_used_at: k.lastUsedAt ?? null,
  };
}

/** `APIKeyCreateResponse`: `APIKeyResponse` plus the full key, shown this once. */
export function apiKeyCreateResponse(payload: unknown): unknown {
  const p = object(payload);
  const key = object(apiKeyResponse(p?.apiKey));
  return p && key && { ...key, key: p.key };
}

const KEYS = { tag: 'API Keys' } as const;

export const apiKeyRoutes: RouteDecl[] = [
  defineRoute({
    ...KEYS,
    id: 'KEY-1',
    method: 'GET',
    path: '/api/api-keys',
    summary: 'List the API keys visible to the caller',
    query: listQuery,
    operation: 'ListApiKeys',
    variables: ({ query }) => present(query, { organization_id: 'organizationId' }),
    result: (data) => array(field(data, 'apiKeys')).map(apiKeyResponse),
    status: 200,
    responseName: 'APIKeyResponse[]',
  }),
  defineRoute({
    ...KEYS,
    id: 'KEY-2',
    method: 'POST',
    path: '/api/api-keys',
    summary: 'Create an API key',
    body: { kind: 'json', spec: createBody },
    operation: 'CreateApiKey',
    variables: ({ body }) => ({
      input: {
        name: body.name,
        organizationId: body.organization_id,
        scopes: body.scopes,
        allowedIps: body.allowed_ips,
        // Sent as text in UTC: the variable crosses the gateway to the subgraph as JSON anyway.
        expiresAt: body.expires_at?.toISOString() ?? null,
      },
    }),
    result: (data) => apiKeyCreateResponse(field(data, 'createApiKey')),
    status: 201,
    responseName: 'APIKeyCreateResponse',
  }),
  defineRoute({
    ...KEYS,
    id: 'KEY-3',
    method: 'DELETE',
    path: '/api/api-keys/:key_id',
    summary: 'Delete (revoke) an API key',
    params: keyParams,
    operation: 'DeleteApiKey',
    variables: ({ params }) => ({ id: params.key_id }),
    result: (data) => noContent(field(data, 'deleteApiKey')),
    status: 204,
    notFound: 'API key',
  }),
];
