/** API keys, KEY-1..3 (§3.10, §4.14). KEY-4 (List tenants) lives in the orgs area. */
import { isIP } from 'node:net';
import { v } from '../../validation.ts';
import { defineRoute, type RouteDecl } from '../../route.ts';
import { field, noContent, present } from '../../shape.ts';
import { APIKeyCreateResponse, APIKeyResponse } from './responses.ts';

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
    response: APIKeyResponse.list(),
    select: (data) => data.apiKeys,
    status: 200,
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
    response: APIKeyCreateResponse,
    select: (data) => data.createApiKey,
    status: 201,
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
