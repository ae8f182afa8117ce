/** A tenant's published key (INT-5, INT-6) and the revocation register (INT-7). */
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { base64url } from 'jose';
import { parseInput } from '../../kernel/input.ts';
import type { PublicJwk, TenantKeys } from './tenant-keys.ts';
import { listRevocations, type Revocation } from './grant.store.ts';

/** `IntegrationFingerprintResponse`. */
export interface KeyFingerprint {
  tenantId: string;
  kid: string;
  algorithm: 'SHA-256';
  fingerprint: string;
  fingerprintHex: string;
}

const listInput = z.object({
  tenantId: z.uuid().nullish(),
  since: z.date().nullish(),
  limit: z.number().int().min(1).max(100),
  offset: z.number().int().min(0),
});

export class KeyService {
  constructor(private readonly keys: TenantKeys) {}

  /** INT-5: the tenant's JWK Set (its one active key), created on first use; null for an unknown tenant. */
  async jwks(tenantId: string): Promise<{ keys: PublicJwk[] } | null> {
    const key = await this.keys.require(tenantId);
    return key && { keys: [key.jwk] };
  }

  /** INT-6: the RFC 7638 thumbprint of the tenant's key (it is the `kid`); null for an unknown tenant. */
  async fingerprint(tenantId: string): Promise<KeyFingerprint | null> {
    const key = await this.keys.require(tenantId);
    if (!key) return null;
    const hex = Buffer.from(base64url.decode(key.kid)).toString('hex').toUpperCase();
    return { tenantId: key.tenantId, kid: key.kid, algorithm: 'SHA-256', fingerprint: key.kid, fingerprintHex: hex.match(/../g)?.join(':') ?? '' };
  }

  /**
   * INT-7: revocations, newest first (platform admins; the field's access rule checks that).
   * @throws BAD_USER_INPUT
   */
  async revocations(em: EntityManager, raw: unknown): Promise<{ items: Revocation[]; total: number; limit: number; offset: number }> {
    const input = parseInput(listInput, raw);
    const page = await listRevocations(em, { tenantId: input.tenantId ?? null, since: input.since ?? null, limit: input.limit, offset: input.offset });
    return { ...page, limit: input.limit, offset: input.offset };
  }
}
