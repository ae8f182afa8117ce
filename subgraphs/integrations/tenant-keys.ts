/**
 * Tenant signing keys (§4.15): one RSA-2048 key pair per organization, its private half sealed
 * with AES-256-GCM under ENCRYPTION_KEY, `kid` the RFC 7638 thumbprint of the public JWK. Keys are
 * created when an organization is created, or on first use; two processes racing to create one
 * keep whichever row the database accepted first. Loaded keys are cached in memory: a key never
 * changes, and deleting an organization evicts it on every process.
 */
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import type { MikroORM } from '@mikro-orm/postgresql';
import { decryptSecret, encryptSecret } from '../../kernel/crypto.ts';
import { isUuid } from '../../kernel/input.ts';
import type { OrgsGateway } from './orgs.client.ts';

/** The public JWK a tenant publishes (INT-5). */
export interface PublicJwk {
  kty: 'RSA';
  use: 'sig';
  alg: 'RS256';
  kid: string;
  n: string;
  e: string;
}

export interface TenantKey {
  tenantId: string;
  kid: string;
  jwk: PublicJwk;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

interface KeyRow {
  organization_id: string;
  kid: string;
  public_jwk: string;
  private_key_sealed: string;
}

export class TenantKeys {
  private readonly cache = new Map<string, Promise<TenantKey | null>>();

  constructor(
    private readonly orm: MikroORM,
    private readonly encryptionKey: string,
    private readonly orgs: OrgsGateway,
  ) {}

  /** The tenant's key if it has one (null for a tenant without a key or a malformed id). */
  find(tenantId: string): Promise<TenantKey | null> {
    if (!isUuid(tenantId)) return Promise.resolve(null);
    let hit = this.cache.get(tenantId);
    if (!hit) {
      hit = this.load(tenantId);
      this.cache.set(tenantId, hit);
      // Only keys are remembered: a tenant without one may get one at any time.
      hit.then((k) => (k ? undefined : this.cache.delete(tenantId)), () => this.cache.delete(tenantId));
    }
    return hit;
  }

  /** The tenant's key, created on first use; null when the organization does not exist. */
  async require(tenantId: string): Promise<TenantKey | null> {
    const found = await this.find(tenantId);
    if (found) return found;
    if (!isUuid(tenantId) || !(await this.orgs.exists(tenantId))) return null;
    return this.create(tenantId);
  }

  /**
   * Creates the tenant's key unless it has one; returns the key the database kept (null when the
   * organization is gone). Safe to run on every process at once: the primary key admits one row
   * and the losers read the winner's.
   */
  async create(tenantId: string): Promise<TenantKey | null> {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const exported = await exportJWK(publicKey);
    const base = { kty: 'RSA' as const, n: exported.n ?? '', e: exported.e ?? '' };
    const kid = await calculateJwkThumbprint(base, 'sha256');
    const jwk: PublicJwk = { kty: 'RSA', use: 'sig', alg: 'RS256', kid, n: base.n, e: base.e };
    const sealed = encryptSecret(await exportPKCS8(privateKey), this.encryptionKey);
    await this.orm.em.getConnection().execute(
      `insert into "integrations"."tenant_keys" ("organization_id", "kid", "public_jwk", "private_key_sealed", "created_at")
       values (?, ?, ?, ?, ?) on conflict ("organization_id") do nothing`,
      [tenantId, kid, JSON.stringify(jwk), sealed, new Date()],
    );
    // orgs deletes the organization before it announces the deletion, so a key stored while the
    // deletion was under way is either seen here or removed by that announcement.
    if (!(await this.orgs.exists(tenantId))) {
      await this.remove(tenantId);
      return null;
    }
    this.cache.delete(tenantId);
    return this.find(tenantId);
  }

  /** Deletes the tenant's key pair and its grant records (the organization was deleted). */
  async remove(tenantId: string): Promise<void> {
    this.cache.delete(tenantId);
    await this.orm.em.transactional(async (tx) => {
      const conn = tx.getConnection();
      const ctx = tx.getTransactionContext();
      await conn.execute(`delete from "integrations"."grants" where "tenant_id" = ?`, [tenantId], 'run', ctx);
      await conn.execute(`delete from "integrations"."tenant_keys" where "organization_id" = ?`, [tenantId], 'run', ctx);
    });
    this.cache.delete(tenantId);
  }

  /** Forgets a cached key (another process deleted it). */
  evict(tenantId: string): void {
    this.cache.delete(tenantId);
  }

  private async load(tenantId: string): Promise<TenantKey | null> {
    const rows = await this.orm.em
      .getConnection()
      .execute<KeyRow[]>(`select "organization_id", "kid", "public_jwk", "private_key_sealed" from "integrations"."tenant_keys" where "organization_id" = ?`, [tenantId]);
    const row = rows[0];
    if (!row) return null;
    const jwk = JSON.parse(row.public_jwk) as PublicJwk;
    const publicKey = (await importJWK({ kty: jwk.kty, n: jwk.n, e: jwk.e } satisfies JWK, 'RS256')) as CryptoKey;
    const privateKey = await importPKCS8(decryptSecret(row.private_key_sealed, this.encryptionKey), 'RS256');
    return { tenantId, kid: row.kid, jwk, publicKey, privateKey };
  }
}
