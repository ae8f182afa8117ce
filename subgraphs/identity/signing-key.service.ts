/**
 * Access-token signing (§4.1): ES256 with a `kid`, public keys published as a JWK Set,
 * rotation that keeps retired keys published until every token they signed has expired.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, importJWK, calculateJwkThumbprint, type JWK, type CryptoKey } from 'jose';
import type { MikroORM } from '@mikro-orm/postgresql';
import { decryptSecret, encryptSecret } from '../../kernel/crypto.ts';
import { SigningKeySchema } from './signing-key.entity.ts';

export const ACCESS_TOKEN_TTL_S = 900;
/** Retired keys stay published this long: the longest a token they signed can live, plus skew. */
const RETIRED_KEY_GRACE_MS = (ACCESS_TOKEN_TTL_S + 120) * 1000;
/** Replicas re-read the active key this often, so a rotation elsewhere is picked up. */
const ACTIVE_KEY_TTL_MS = 30_000;

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresAt: Date;
}

export class SigningKeyService {
  private active: { kid: string; key: CryptoKey; loadedAt: number } | null = null;

  constructor(
    private readonly orm: MikroORM,
    private readonly encryptionKey: string,
  ) {}

  /** Signs an access token for `userId` in session family `sessionId`. */
  async signAccessToken(userId: string, sessionId: string): Promise<IssuedAccessToken> {
    const { kid, key } = await this.activeKey();
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ sid: sessionId, type: 'access' })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setSubject(userId)
      .setJti(jti)
      .setIssuedAt(now)
      .setExpirationTime(now + ACCESS_TOKEN_TTL_S)
      .sign(key);
    return { token, jti, expiresAt: new Date((now + ACCESS_TOKEN_TTL_S) * 1000) };
  }

  /** The published key set: the active key plus retired keys still within their grace period. */
  async jwks(): Promise<{ keys: JWK[] }> {
    await this.activeKey();
    const em = this.orm.em.fork();
    const rows = await em.find(SigningKeySchema, {}, { orderBy: { createdAt: 'desc' } });
    const cutoff = Date.now() - RETIRED_KEY_GRACE_MS;
    const keys = rows.filter((r) => r.active || (r.retiredAt && r.retiredAt.getTime() > cutoff)).map((r) => r.publicJwk as JWK);
    return { keys };
  }

  /** Makes a new key active and retires the current one (kept published for the grace period). */
  async rotate(): Promise<{ kid: string; retired: string[] }> {
    const fresh = await this.generate();
    const retired: string[] = [];
    await this.orm.em.fork().transactional(async (em) => {
      const current = await em.find(SigningKeySchema, { active: true });
      for (const k of current) {
        k.active = false;
        k.retiredAt = new Date();
        retired.push(k.kid);
      }
      await em.flush();
      em.create(SigningKeySchema, { ...fresh.row, active: true });
    });
    this.active = null;
    return { kid: fresh.row.kid, retired };
  }

  private async activeKey(): Promise<{ kid: string; key: CryptoKey }> {
    if (this.active && Date.now() - this.active.loadedAt < ACTIVE_KEY_TTL_MS) return this.active;
    const em = this.orm.em.fork();
    let row = await em.findOne(SigningKeySchema, { active: true });
    if (!row) {
      const fresh = await this.generate();
      try {
        await em.fork().transactional(async (tx) => {
          tx.create(SigningKeySchema, { ...fresh.row, active: true });
        });
      } catch {
        // Another replica created the active key first (unique partial index); use theirs.
      }
      row = await em.fork().findOneOrFail(SigningKeySchema, { active: true });
    }
    const jwk = JSON.parse(decryptSecret(row.privateJwkSealed, this.encryptionKey)) as JWK;
    const key = await importJWK(jwk, 'ES256');
    if (key instanceof Uint8Array) throw new Error('Expected an asymmetric signing key');
    this.active = { kid: row.kid, key, loadedAt: Date.now() };
    return this.active;
  }

  private async generate(): Promise<{ row: { kid: string; privateJwkSealed: string; publicJwk: Record<string, unknown>; createdAt: Date; retiredAt: null } }> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const pub = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(pub);
    const priv = await exportJWK(privateKey);
    return {
      row: {
        kid,
        privateJwkSealed: encryptSecret(JSON.stringify({ ...priv, kid, alg: 'ES256' }), this.encryptionKey),
        publicJwk: { ...pub, kid, alg: 'ES256', use: 'sig' },
        createdAt: new Date(),
        retiredAt: null,
      },
    };
  }
}
