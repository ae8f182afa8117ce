/**
 * The signed internal context (DESIGN §3): the gateway authenticates once and forwards who is
 * calling to subgraphs as a short-lived HS256 JWT in `x-xentree-context`. tRPC calls between
 * services carry a service credential signed with the same secret under another audience.
 */
import { SignJWT, jwtVerify } from 'jose';
import { z } from 'zod';
import { AppError } from './errors.ts';

export const CONTEXT_HEADER = 'x-xentree-context';
export const SERVICE_HEADER = 'x-xentree-service';
const CONTEXT_AUDIENCE = 'xentree-internal';
const SERVICE_AUDIENCE = 'xentree-trpc';
const ISSUER = 'xentree-gateway';

const authSchema = z.object({
  mode: z.enum(['anonymous', 'bearer', 'api_key', 'internal']),
  userId: z.string().nullable(),
  sessionId: z.string().nullable(),
  apiKeyId: z.string().nullable(),
  tenantId: z.string().nullable(),
  scopes: z.array(z.string()),
  role: z.enum(['user', 'admin']).nullable(),
  orgRole: z.enum(['owner', 'admin', 'member']).nullable(),
  plan: z.enum(['free', 'pro']).nullable(),
  timezone: z.string().nullable(),
  requestId: z.string(),
  clientIp: z.string().nullable(),
});

/** Who is calling, as established by the gateway. */
export type AuthContext = z.infer<typeof authSchema>;

/** An anonymous context (public operations, health checks, tooling). */
export function anonymousContext(requestId: string, clientIp: string | null = null): AuthContext {
  return {
    mode: 'anonymous',
    userId: null,
    sessionId: null,
    apiKeyId: null,
    tenantId: null,
    scopes: [],
    role: null,
    orgRole: null,
    plan: null,
    timezone: null,
    requestId,
    clientIp,
  };
}

const keyCache = new Map<string, Uint8Array>();
function keyOf(secret: string): Uint8Array {
  let k = keyCache.get(secret);
  if (!k) {
    k = new TextEncoder().encode(secret);
    keyCache.set(secret, k);
  }
  return k;
}

/** Signs a context for one request (valid 60 s: it only has to outlive the request fan-out). */
export async function signContext(ctx: AuthContext, secret: string): Promise<string> {
  return new SignJWT({ ctx })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(CONTEXT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(keyOf(secret));
}

/**
 * Verifies a context header.
 * @throws AppError UNAUTHENTICATED when it is missing, forged, expired or malformed.
 */
export async function verifyContext(token: string | undefined, secret: string): Promise<AuthContext> {
  if (!token) throw new AppError('UNAUTHENTICATED', { message: 'Missing internal context' });
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), { audience: CONTEXT_AUDIENCE, issuer: ISSUER, algorithms: ['HS256'] });
    return authSchema.parse(payload.ctx);
  } catch (cause) {
    throw new AppError('UNAUTHENTICATED', { message: 'Invalid internal context', cause });
  }
}

/** Signs a service credential for tRPC calls (valid 5 minutes; clients cache and renew it). */
export async function signServiceCredential(service: string, secret: string): Promise<string> {
  return new SignJWT({ svc: service })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(SERVICE_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(keyOf(secret));
}

/** Verifies a service credential; returns the calling service's name or null when invalid. */
export async function verifyServiceCredential(token: string | undefined, secret: string): Promise<string | null> {
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), { audience: SERVICE_AUDIENCE, issuer: ISSUER, algorithms: ['HS256'] });
    return typeof payload.svc === 'string' ? payload.svc : null;
  } catch {
    return null;
  }
}

/** Caches a service credential per (service, secret) and renews it a minute before expiry. */
export function serviceCredentialProvider(service: string, secret: string): () => Promise<string> {
  let cached: { token: string; renewAt: number } | null = null;
  return async () => {
    if (!cached || Date.now() >= cached.renewAt) {
      cached = { token: await signServiceCredential(service, secret), renewAt: Date.now() + 4 * 60_000 };
    }
    return cached.token;
  };
}
