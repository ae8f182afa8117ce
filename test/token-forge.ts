/**
 * Forges access tokens for negative tests (expired, tampered, wrong algorithm) with the identity
 * subgraph's real signing key, read from its table and unsealed with the test's ENCRYPTION_KEY.
 */
import { SignJWT, importJWK, type JWK } from 'jose';
import { decryptSecret } from '../kernel/crypto.ts';
import type { TestStack } from './harness.ts';

interface KeyRow {
  kid: string;
  private_jwk_sealed: string;
  public_jwk: JWK;
}

async function activeKey(t: TestStack): Promise<KeyRow> {
  const identity = t.stack.subgraphs.find((s) => s.name === 'identity');
  if (!identity) throw new Error('identity subgraph not running');
  const rows = await identity.orm.em.fork().getConnection().execute<KeyRow[]>('select kid, private_jwk_sealed, public_jwk from "identity"."signing_keys" where active');
  const row = rows[0];
  if (!row) throw new Error('no active signing key (log a user in first)');
  return row;
}

/** Signs an ES256 access token with the active key and arbitrary claims/times. */
export async function forgeAccessToken(t: TestStack, claims: { sub: string; sid: string; type?: string; iat?: number; exp?: number }): Promise<string> {
  const row = await activeKey(t);
  const key = await importJWK(JSON.parse(decryptSecret(row.private_jwk_sealed, t.config.encryptionKey)) as JWK, 'ES256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: claims.sid, type: claims.type ?? 'access' })
    .setProtectedHeader({ alg: 'ES256', kid: row.kid, typ: 'JWT' })
    .setSubject(claims.sub)
    .setJti(crypto.randomUUID())
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 900)
    .sign(key);
}

/** HS256 token whose HMAC secret is the public JWK's JSON (the classic algorithm-confusion attack). */
export async function forgeHs256WithPublicKey(t: TestStack, claims: { sub: string; sid: string }): Promise<string> {
  const row = await activeKey(t);
  const secret = new TextEncoder().encode(JSON.stringify(row.public_jwk));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: claims.sid, type: 'access' })
    .setProtectedHeader({ alg: 'HS256', kid: row.kid })
    .setSubject(claims.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + 900)
    .sign(secret);
}

/** An unsigned `alg: none` token. */
export function forgeAlgNone(claims: { sub: string; sid: string }): string {
  const now = Math.floor(Date.now() / 1000);
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: claims.sub, sid: claims.sid, type: 'access', iat: now, exp: now + 900 })}.`;
}

/** Decodes a JWT's payload without verifying it. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
