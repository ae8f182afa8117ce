/**
 * Integration grants (INT-1..4, §4.15): who may issue, verify, revoke and rotate a tenant's
 * tokens, and the rules each step applies. Tenancy and role come from orgs over tRPC, before any
 * transaction opens.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../../kernel/errors.ts';
import { isUuid, parseInput } from '../../kernel/input.ts';
import type { UserContext } from '../../kernel/authz.ts';
import type { OrgRole, OrgsGateway } from './orgs.client.ts';
import type { TenantKey, TenantKeys } from './tenant-keys.ts';
import { decodeIntegrationToken, INTEGRATION_AUDIENCE, signatureValid, signIntegrationToken, type DecodedToken, type IntegrationClaims } from './token.ts';
import { findGrant, findRevocation, insertGrant, revokeGrant, type Grant, type Revocation } from './grant.store.ts';
import type { MembershipCache } from './membership.cache.ts';
import type { RevocationCache } from './revocation.cache.ts';

/** The scopes an integration token may carry (§4.15). */
export const INTEGRATION_SCOPES = ['profile:read', 'quota:read', 'live:read', 'live:write', 'xel:read', 'xel:write', 'conversations:read', 'conversations:write', 'rag:read'] as const;
export const INTEGRATION_MODES = ['api', 'embed'] as const;

/** An origin with no path, query or fragment: https, or http on localhost / 127.0.0.1. */
export function isAllowedOrigin(s: string): boolean {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return false;
  }
  if (url.origin !== s) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1'));
}

const scopes = z
  .array(z.enum(INTEGRATION_SCOPES))
  .min(1)
  .max(20)
  .refine((s) => new Set(s).size === s.length, 'items must be unique');
const ttl = z.number().int().min(30).max(3600);

const grantInput = z.object({
  mode: z.enum(INTEGRATION_MODES),
  origin: z.string().refine(isAllowedOrigin, 'must be an https origin (or http on localhost) with no path, query or fragment'),
  scopes,
  ttlSeconds: ttl.nullish(),
  tenantId: z.uuid().nullish(),
});
const verifyInput = z.object({ token: z.string(), tenantId: z.uuid() });
const reason = z.string().max(200).nullish();
const revokeInput = z
  .object({ integrationToken: z.string().nullish(), tenantId: z.uuid().nullish(), jti: z.uuid().nullish(), reason })
  .refine((b) => (b.integrationToken != null) !== (b.tenantId != null && b.jti != null) && (b.integrationToken == null || (b.tenantId == null && b.jti == null)), {
    message: 'Exactly one of integrationToken or (tenantId and jti) must be provided',
  });
const rotateInput = z.object({
  mode: z.enum(INTEGRATION_MODES),
  integrationToken: z.string(),
  revokePrevious: z.boolean().nullish(),
  ttlSeconds: ttl.nullish(),
  scopes: scopes.nullish(),
});

export type VerifyReason = 'malformed' | 'unknown_key' | 'invalid_signature' | 'tenant_mismatch' | 'invalid_issuer' | 'invalid_audience' | 'not_yet_valid' | 'expired' | 'revoked';

/** An issued token with its grant (`IntegrationGrantResponse`). */
export interface IssuedGrant {
  token: string;
  tokenType: 'Bearer';
  expiresAt: Date;
  jti: string;
  kid: string;
  tenantId: string;
  scopes: string[];
  origin: string;
}

const DEFAULT_TTL = 120;
/** How far in the future `iat` may be before a token is `not_yet_valid` (clock skew). */
const IAT_LEEWAY_SECONDS = 30;
/** Tokens whose signature verified, remembered by token (cleared wholesale when full). */
const MAX_VERIFIED_TOKENS = 10_000;

export class GrantService {
  /**
   * token → the token as decoded, once its signature verified under its kid (a tenant's key never
   * changes). Decoding is a function of the token's text alone, so a hit skips it too.
   */
  private readonly verifiedTokens = new Map<string, DecodedToken>();

  constructor(
    private readonly keys: TenantKeys,
    private readonly orgs: OrgsGateway,
    private readonly issuer: string,
    private readonly cache: { memberships: MembershipCache; revocations: RevocationCache },
  ) {}

  /**
   * The caller's role in the tenant (a platform admin counts as owner). Writes ask orgs; verify,
   * a read, may use the membership cache (`cached`).
   * @throws TENANT_MISMATCH (unknown tenant, not a member, or an API key of another tenant)
   */
  async tenantRole(auth: UserContext, tenantId: string, cached = false): Promise<OrgRole> {
    if (auth.mode === 'api_key' && auth.tenantId !== tenantId) throw new AppError('TENANT_MISMATCH');
    const m = await (cached ? this.cache.memberships : this.orgs).membership(tenantId, auth.userId);
    if (!m.exists) throw new AppError('TENANT_MISMATCH');
    if (auth.role === 'admin') return 'owner';
    if (!m.role) throw new AppError('TENANT_MISMATCH');
    return m.role;
  }

  /** @throws TENANT_MISMATCH, INSUFFICIENT_ROLE (owner or admin required) */
  private async requireManager(auth: UserContext, tenantId: string): Promise<void> {
    requireManagerRole(await this.tenantRole(auth, tenantId));
  }

  /**
   * INT-1: issues a token for the tenant (an API key's own when `tenantId` is omitted).
   * @throws BAD_USER_INPUT, TENANT_REQUIRED, TENANT_MISMATCH, INSUFFICIENT_ROLE
   */
  async grant(em: EntityManager, auth: UserContext, raw: unknown): Promise<IssuedGrant> {
    const input = parseInput(grantInput, raw);
    let tenantId = input.tenantId ?? null;
    if (auth.mode === 'api_key') {
      if (tenantId !== null && tenantId !== auth.tenantId) throw new AppError('TENANT_MISMATCH');
      tenantId = auth.tenantId;
    }
    if (!tenantId) throw new AppError('TENANT_REQUIRED');
    await this.requireManager(auth, tenantId);
    const key = await this.requireKey(tenantId);
    const claims = this.claims(auth.userId, tenantId, { scopes: input.scopes, origin: input.origin, mode: input.mode, ttl: input.ttlSeconds ?? DEFAULT_TTL });
    const token = await signIntegrationToken(claims, key);
    await insertGrant(em, claims);
    return issued(token, claims, key);
  }

  /**
   * INT-2: whether a token is valid for the tenant; the first failing check of §3.9's order is the reason.
   * `db` is asked for the EntityManager only when the database must be read.
   * @throws BAD_USER_INPUT, TENANT_MISMATCH
   */
  async verify(db: () => EntityManager, auth: UserContext, raw: unknown): Promise<{ valid: boolean; claims: IntegrationClaims | null; reason: VerifyReason | null }> {
    const input = parseInput(verifyInput, raw);
    await this.tenantRole(auth, input.tenantId, true);
    const invalid = (reason: VerifyReason) => ({ valid: false, claims: null, reason });
    const decoded = this.verifiedTokens.get(input.token) ?? decodeIntegrationToken(input.token);
    if (!decoded) return invalid('malformed');
    const key = await this.keys.find(input.tenantId);
    if (!key || decoded.kid !== key.kid) return invalid('unknown_key');
    if (!(await this.signedBy(input.token, decoded, key))) return invalid('invalid_signature');
    const c = decoded.claims;
    const now = Math.floor(Date.now() / 1000);
    if (c.tid !== input.tenantId) return invalid('tenant_mismatch');
    if (c.iss !== this.issuer) return invalid('invalid_issuer');
    if (c.aud !== INTEGRATION_AUDIENCE) return invalid('invalid_audience');
    if (c.iat > now + IAT_LEEWAY_SECONDS) return invalid('not_yet_valid');
    if (c.exp <= now) return invalid('expired');
    if (isUuid(c.jti) && (await this.cache.revocations.isRevoked(db, c.jti, c.exp * 1000))) return invalid('revoked');
    return { valid: true, claims: { ...c, scopes: [...c.scopes] }, reason: null };
  }

  /**
   * INT-3: revokes by token (form A; an expired token is accepted) or by tenant and jti (form B).
   * Revoking twice answers the first revocation with `alreadyRevoked`.
   * @throws BAD_USER_INPUT, INVALID_INTEGRATION_TOKEN, TENANT_MISMATCH, INSUFFICIENT_ROLE, NOT_FOUND (Grant)
   */
  async revoke(em: EntityManager, auth: UserContext, raw: unknown): Promise<{ revocation: Revocation; alreadyRevoked: boolean }> {
    const input = parseInput(revokeInput, raw);
    let tenantId: string;
    let jti: string;
    if (input.integrationToken != null) {
      ({ tid: tenantId, jti } = await this.authentic(input.integrationToken));
    } else {
      tenantId = input.tenantId ?? '';
      jti = input.jti ?? '';
    }
    // Tenancy, then the grant, then the role (the order of checks in §1.5).
    const role = await this.tenantRole(auth, tenantId);
    const grant = isUuid(jti) ? await findGrant(em, tenantId, jti) : null;
    if (!grant) throw notFound('Grant');
    requireManagerRole(role);
    const { revocation, created } = await revokeGrant(em, grant, { reason: input.reason ?? 'unspecified', revokedBy: auth.userId, source: 'revoke' });
    // Every process refuses the token before this answers (again when repeated: a lost announcement is re-sent).
    await this.cache.revocations.announce(grant.jti, grant.expiresAt);
    return { revocation, alreadyRevoked: !created };
  }

  /**
   * INT-4: issues a replacement (same tenant and origin, scopes a subset of the old ones) and,
   * unless `revokePrevious` is false, revokes the old token, both in one transaction.
   * @throws BAD_USER_INPUT, INVALID_INTEGRATION_TOKEN, INTEGRATION_TOKEN_REVOKED, SCOPE_ESCALATION, TENANT_MISMATCH, INSUFFICIENT_ROLE
   */
  async rotate(em: EntityManager, auth: UserContext, raw: unknown): Promise<IssuedGrant & { previousJti: string; previousRevoked: boolean }> {
    const input = parseInput(rotateInput, raw);
    const old = await this.authentic(input.integrationToken);
    await this.requireManager(auth, old.tid);
    const grant = isUuid(old.jti) ? await findGrant(em, old.tid, old.jti) : null;
    if (!grant) throw new AppError('INVALID_INTEGRATION_TOKEN');
    const revokedError = () => new AppError('INTEGRATION_TOKEN_REVOKED', { extras: { jti: grant.jti } });
    if (await findRevocation(em, grant.jti)) throw revokedError();
    const wanted = input.scopes ?? grant.scopes;
    if (wanted.some((s) => !grant.scopes.includes(s))) throw new AppError('SCOPE_ESCALATION');
    const key = await this.requireKey(old.tid);
    const claims = this.claims(auth.userId, old.tid, { scopes: wanted, origin: grant.origin, mode: input.mode, ttl: input.ttlSeconds ?? DEFAULT_TTL });
    const token = await signIntegrationToken(claims, key);
    const revokePrevious = input.revokePrevious ?? true;
    await em.transactional(async (tx) => {
      await insertGrant(tx, claims);
      if (!revokePrevious) return;
      const { created } = await revokeGrant(tx, grant, { reason: 'rotated', revokedBy: auth.userId, source: 'rotate' });
      // A concurrent revocation won: the new token must not outlive the refusal.
      if (!created) throw revokedError();
    });
    if (revokePrevious) await this.cache.revocations.announce(grant.jti, grant.expiresAt);
    return { ...issued(token, claims, key), previousJti: grant.jti, previousRevoked: revokePrevious };
  }

  /** A token whose signature verifies under its own tenant's key (expiry is not checked). */
  private async authentic(token: string): Promise<IntegrationClaims> {
    const decoded = this.verifiedTokens.get(token) ?? decodeIntegrationToken(token);
    const key = decoded ? await this.keys.find(decoded.claims.tid) : null;
    if (!decoded || !key || decoded.kid !== key.kid || !(await this.signedBy(token, decoded, key))) throw new AppError('INVALID_INTEGRATION_TOKEN');
    return decoded.claims;
  }

  /** Whether the token's signature verifies under `key`; a verified token is remembered (RS256 checks dominate verify's own cost). */
  private async signedBy(token: string, decoded: DecodedToken, key: TenantKey): Promise<boolean> {
    if (this.verifiedTokens.get(token)?.kid === key.kid) return true;
    if (!(await signatureValid(token, key))) return false;
    if (this.verifiedTokens.size >= MAX_VERIFIED_TOKENS) this.verifiedTokens.clear();
    this.verifiedTokens.set(token, decoded);
    return true;
  }

  private async requireKey(tenantId: string): Promise<TenantKey> {
    const key = await this.keys.require(tenantId);
    if (!key) throw new AppError('TENANT_MISMATCH');
    return key;
  }

  private claims(sub: string, tid: string, g: { scopes: string[]; origin: string; mode: string; ttl: number }): IntegrationClaims {
    const iat = Math.floor(Date.now() / 1000);
    return { iss: this.issuer, aud: INTEGRATION_AUDIENCE, sub, tid, scopes: g.scopes, origin: g.origin, mode: g.mode, jti: randomUUID(), iat, exp: iat + g.ttl };
  }
}

/** Issuing, revoking and rotating need owner or admin (§4.13). @throws INSUFFICIENT_ROLE */
function requireManagerRole(role: OrgRole): void {
  if (role === 'member') throw new AppError('INSUFFICIENT_ROLE', { extras: { required_role: 'admin' } });
}

function issued(token: string, c: IntegrationClaims, key: TenantKey): IssuedGrant {
  return { token, tokenType: 'Bearer', expiresAt: new Date(c.exp * 1000), jti: c.jti, kid: key.kid, tenantId: c.tid, scopes: c.scopes, origin: c.origin };
}

export type { Grant, Revocation };
