/**
 * The signed internal context: the gateway authenticates once and forwards who is
 * calling to subgraphs as a short-lived HS256 JWT in `x-xentree-context`. tRPC calls between
 * services carry a service credential signed with the same secret under another audience.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { AppError } from './errors.ts';

export const CONTEXT_HEADER = 'x-xentree-context';
/**
 * The gateway's request id beside a context (HTTP to subgraphs): the context a gateway reuses for
 * one caller's requests carries the id of the request it was signed for, so each request names
 * itself here. It only names the request in logs; nothing is authorised by it.
 */
export const REQUEST_ID_HEADER = 'x-request-id';

/** The request id a context is used for: the header's, when it is a plausible id, else the context's own. */
export function withRequestId(ctx: AuthContext, header: unknown): AuthContext {
  if (typeof header !== 'string' || !/^[A-Za-z0-9._:-]{1,160}$/.test(header)) return ctx;
  ctx.requestId = header;
  return ctx;
}
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

/*
 * HS256 JWTs with node:crypto directly: this runs on every request between the gateway and each
 * subgraph, and a hand-rolled compact JWT with HMAC-SHA256 costs a few microseconds where a
 * general-purpose JOSE library costs ~100 µs per operation.
 */
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

// The secret's key object, made once per secret rather than from the string on every call.
const keys = new Map<string, KeyObject>();

function hmac(secret: string, data: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= 16) keys.clear(); // a handful of secrets at most (current and previous)
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return createHmac('sha256', key).update(data).digest();
}

function signHs256(claims: Record<string, unknown>, secret: string): string {
  const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${hmac(secret, body).toString('base64url')}`;
}

/** Verifies signature, algorithm, audience, issuer and expiry; returns the claims or null. */
function verifyHs256(token: string, secret: string, audience: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts as [string, string, string];
  if (header !== HEADER) return null; // pins alg HS256: `none` and other algorithms never match
  const expected = hmac(secret, `${header}.${payload}`);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!claims || typeof claims !== 'object') return null;
  const c = claims as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  if (c.aud !== audience || c.iss !== ISSUER || typeof c.exp !== 'number' || c.exp <= now) return null;
  return c;
}

/** Signs a context for one request (valid 60 s: it only has to outlive the request fan-out). */
export async function signContext(ctx: AuthContext, secret: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signHs256({ ctx, iss: ISSUER, aud: CONTEXT_AUDIENCE, iat: now, exp: now + 60 }, secret);
}

/** How long a caller's context is handed out again (of its 60 s), and how many callers' are kept. */
const REUSE_MS = 30_000;
const REUSED_MAX = 10_000;
const reused = new Map<string, { token: Promise<string>; until: number }>();

/**
 * A signed context for `ctx`, to be sent with `ctx.requestId` in {@link REQUEST_ID_HEADER}: the one
 * signed for the same caller — every field but the request id equal, the client's address included
 * — within the last 30 s, else a new one. Reusing it saves the sender an HMAC per call, and the
 * receiver finds it among the contexts it has verified instead of verifying another.
 */
export function reusableContext(ctx: AuthContext, secret: string): Promise<string> {
  // Every field but the request id, whatever fields the context has.
  const key = `${secret}\n${JSON.stringify({ ...ctx, requestId: '' })}`;
  const now = Date.now();
  const kept = reused.get(key);
  if (kept && kept.until > now) return kept.token;
  if (reused.size >= REUSED_MAX) reused.clear();
  const token = signContext(ctx, secret);
  reused.set(key, { token, until: now + REUSE_MS });
  // A failed signing is not kept.
  token.catch(() => reused.delete(key));
  return token;
}

/*
 * Contexts already verified, by the exact token and secret: one request's context reaches a
 * subgraph several times (each hop of a query plan, each tRPC call it makes), and verifying it
 * (HMAC, JSON, schema) each time was a measurable part of a subgraph's CPU. A hit needs the very
 * same signed bytes, so it admits nothing the verification would refuse, except that the expiry
 * is checked again on every hit. Bounded: cleared when full (a few seconds of traffic at most).
 */
const VERIFIED_MAX = 2048;
const verified = new Map<string, { ctx: AuthContext; exp: number }>();

/**
 * Verifies a context header.
 * @throws AppError UNAUTHENTICATED when it is missing, forged, expired or malformed.
 */
export async function verifyContext(token: string | undefined, secret: string): Promise<AuthContext> {
  if (!token) throw new AppError('UNAUTHENTICATED', { message: 'Missing internal context' });
  const key = `${secret}\n${token}`;
  const hit = verified.get(key);
  if (hit) {
    if (hit.exp > Math.floor(Date.now() / 1000)) return copyOf(hit.ctx);
    verified.delete(key);
  }
  const claims = verifyHs256(token, secret, CONTEXT_AUDIENCE);
  const parsed = claims ? authSchema.safeParse(claims.ctx) : null;
  if (!claims || !parsed?.success) throw new AppError('UNAUTHENTICATED', { message: 'Invalid internal context' });
  if (verified.size >= VERIFIED_MAX) verified.clear();
  verified.set(key, { ctx: copyOf(parsed.data), exp: claims.exp as number });
  return parsed.data;
}

/** A copy a caller may change without changing the cached context (`scopes` is the one nested value). */
function copyOf(ctx: AuthContext): AuthContext {
  return { ...ctx, scopes: [...ctx.scopes] };
}

/** Signs a service credential for tRPC calls (valid 5 minutes; clients cache and renew it). */
export async function signServiceCredential(service: string, secret: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signHs256({ svc: service, iss: ISSUER, aud: SERVICE_AUDIENCE, iat: now, exp: now + 300 }, secret);
}

/** Verifies a service credential; returns the calling service's name or null when invalid. */
export async function verifyServiceCredential(token: string | undefined, secret: string): Promise<string | null> {
  if (!token) return null;
  const claims = verifyHs256(token, secret, SERVICE_AUDIENCE);
  return claims && typeof claims.svc === 'string' ? claims.svc : null;
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
