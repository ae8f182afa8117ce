/**
 * Fixtures of the integration suites (§3.8, §3.9, §4.15, §4.16): grants through REST, the
 * documented bodies, and tokens signed in the test with a tenant's stored private key (read from
 * the integrations database and unsealed with the stack's ENCRYPTION_KEY), so every verify reason
 * can be produced.
 */
import { importPKCS8, SignJWT } from 'jose';
import { expect } from 'vitest';
import { decryptSecret } from '../kernel/crypto.ts';
import { bearer, type TestStack } from './harness.ts';
import { coded, ok } from './assertions.ts';
import type { Person } from './org-fixtures.ts';

export interface GrantBody {
  token: string;
  tokenType: 'Bearer';
  expiresAt: string;
  jti: string;
  kid: string;
  tenantId: string;
  scopes: string[];
  origin: string;
}

export const ORIGIN = 'https://partner.example';
export const INVALID_TOKEN = coded('invalid_integration_token', 'Integration token is malformed or its signature is invalid');
export const TENANT_REQUIRED = coded('tenant_required', 'tenantId is required');
export const SCOPE_ESCALATION = coded('scope_escalation', 'Rotated token cannot gain scopes');
export const ADMIN_REQUIRED = coded('admin_required', 'Administrator role required');
export const tokenRevoked = (jti: string) => coded('integration_token_revoked', 'Integration token has been revoked', { jti });

/** INT-1 as `by` (bearer) for `tenantId`; fails loudly unless 201. */
export async function grant(t: TestStack, by: Person, tenantId: string, extra: Record<string, unknown> = {}): Promise<GrantBody> {
  const json = { mode: 'api', origin: ORIGIN, scopes: ['profile:read', 'live:read'], tenantId, ...extra };
  return ok<GrantBody>(await t.rest('POST', '/api/integration/grant', { json, headers: bearer(by.access) }), 201);
}

/** The orm of the stack's integrations subgraph. */
function integrationsOrm(t: TestStack) {
  const s = t.stack.subgraphs.find((x) => x.name === 'integrations');
  if (!s) throw new Error('integrations subgraph not running');
  return s.orm;
}

/** Runs SQL on the integrations database (tests only: to inspect rows and inject failures). */
export async function integrationsSql<T = Record<string, unknown>>(t: TestStack, sql: string, params: unknown[] = []): Promise<T[]> {
  return integrationsOrm(t).em.getConnection().execute<T[]>(sql, params);
}

/** Signs `claims` with the tenant's stored key (header overridable), as only the server could. */
export async function forge(t: TestStack, tenantId: string, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const rows = await integrationsSql<{ kid: string; private_key_sealed: string }>(t, `select "kid", "private_key_sealed" from "integrations"."tenant_keys" where "organization_id" = ?`, [tenantId]);
  const row = rows[0];
  expect(row, `tenant ${tenantId} has a key`).toBeDefined();
  const key = await importPKCS8(decryptSecret(row?.private_key_sealed ?? '', t.config.encryptionKey), 'RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: row?.kid, ...header }).sign(key);
}

/** The claims of a freshly issued token for `tenantId` by `sub`, to alter one at a time. */
export function claimsFor(tenantId: string, sub: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  return { iss: 'xentree', aud: 'xentree-integration', sub, tid: tenantId, scopes: ['profile:read'], origin: ORIGIN, mode: 'api', jti: crypto.randomUUID(), iat, exp: iat + 120, ...over };
}

/** The payload of a compact JWS, unverified. */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
