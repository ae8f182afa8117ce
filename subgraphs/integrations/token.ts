/**
 * Integration JWTs (§4.15): RS256 compact JWS with header `{"alg":"RS256","typ":"JWT","kid":…}`,
 * signed and checked with `jose` under the tenant's key.
 */
import { base64url, compactVerify, decodeProtectedHeader, SignJWT } from 'jose';
import type { TenantKey } from './tenant-keys.ts';

export const INTEGRATION_AUDIENCE = 'xentree-integration';

/** The claims of an integration token (API names: `IntegrationTokenClaims`). */
export interface IntegrationClaims {
  iss: string;
  aud: string;
  sub: string;
  tid: string;
  scopes: string[];
  origin: string;
  mode: string;
  jti: string;
  iat: number;
  exp: number;
}

/** A token split into its parts; its signature is not checked yet. */
export interface DecodedToken {
  kid: string | null;
  claims: IntegrationClaims;
}

/** Signs `claims` with the tenant's private key. */
export async function signIntegrationToken(claims: IntegrationClaims, key: TenantKey): Promise<string> {
  return new SignJWT({ ...claims }).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid }).sign(key.privateKey);
}

const isString = (x: unknown): x is string => typeof x === 'string';
const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);

/**
 * Reads a token without checking its signature: null when it is not a three-part JWS, a part is
 * not base64url JSON, `alg` is not RS256, or a claim is missing or of the wrong type (`malformed`).
 */
export function decodeIntegrationToken(token: string): DecodedToken | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) return null;
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: unknown;
  try {
    header = decodeProtectedHeader(token);
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(parts[1] ?? '')));
  } catch {
    return null;
  }
  if (header.alg !== 'RS256' || typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
  const c = payload as Record<string, unknown>;
  const scopes = c.scopes;
  if (![c.iss, c.aud, c.sub, c.tid, c.origin, c.mode, c.jti].every(isString) || !isInt(c.iat) || !isInt(c.exp)) return null;
  if (!Array.isArray(scopes) || !scopes.every(isString)) return null;
  const claims: IntegrationClaims = {
    iss: c.iss as string,
    aud: c.aud as string,
    sub: c.sub as string,
    tid: c.tid as string,
    scopes: [...scopes],
    origin: c.origin as string,
    mode: c.mode as string,
    jti: c.jti as string,
    iat: c.iat as number,
    exp: c.exp as number,
  };
  return { kid: isString(header.kid) ? header.kid : null, claims };
}

/** Whether the token's signature verifies under the tenant's public key (RS256 only). */
export async function signatureValid(token: string, key: TenantKey): Promise<boolean> {
  try {
    await compactVerify(token, key.publicKey, { algorithms: ['RS256'] });
    return true;
  } catch {
    return false;
  }
}
