/**
 * Gateway authentication (§1.3): bearer tokens are verified locally against
 * identity's JWK Set (cached, refreshed on an unknown `kid`); the token's session family is checked
 * through a short cache that revocations invalidate at once (PubSub from any replica, and the
 * `revokedSessions` extension of responses passing through this gateway); the lookups of
 * concurrent requests go to identity together (session-status.ts).
 */
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, errors as joseErrors, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { TRPCClient } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import { AppError } from '../kernel/errors.ts';
import { anonymousContext, type AuthContext } from '../kernel/context.ts';
import { callInternal } from '../kernel/trpc.ts';
import type { PubSub } from '../kernel/pubsub.ts';
import { API_KEY_REVOKED, SESSION_REVOKED, type ApiKeyRevokedEvent, type SessionRevokedEvent } from '../kernel/events.ts';
import { sha256Hex } from '../kernel/crypto.ts';
import { ipAllowed } from '../kernel/net.ts';
import type { IdentityRouter } from '../subgraphs/identity/router.ts';
import { SessionCache, SessionStatusBatcher } from './session-status.ts';

/** A revoked family is remembered for the longest life of an access token. */
const REVOKED_MEMORY_MS = 16 * 60_000;
/** Verified access tokens remembered (cleared wholesale when full; re-verifying is only slower). */
const VERIFIED_CACHE_MAX = 50_000;
/** A resolved API key is reused this long; deletions evict it at once (PubSub / extensions). */
const API_KEY_CACHE_MS = 5_000;
/** `last_used_at` updates are sent to identity in batches at this interval. */
const API_KEY_TOUCH_MS = 1_000;
const API_KEY_PATTERN = /^xntr-[A-Za-z0-9_-]{86}$/;

/** What identity's `resolveApiKey` returns for a known key (typed from its router). */
type ApiKeyRecord = NonNullable<inferRouterOutputs<IdentityRouter>['resolveApiKey']>;

/** An unknown `kid` triggers at most one JWKS refetch per this interval (a freshly rotated key is
 * picked up at once; a flood of made-up kids costs identity at most a few calls per second). */
const JWKS_REFETCH_MS = 250;

interface SessionInfo {
  revoked: boolean;
  userExists: boolean;
  role: 'user' | 'admin' | null;
  plan: 'free' | 'pro' | null;
  timezone: string | null;
}

/** Credentials revoked since: session families (logout, reuse detection) and deleted API keys. */
export interface Revocation {
  sessionIds: readonly string[];
  apiKeyIds: readonly string[];
}

export interface RequestCredentials {
  authorization: string | undefined;
  apiKey: string | undefined;
  requestId: string;
  clientIp: string | null;
}

/** How the request presents itself, before any verification (§1.3 resolution steps 1–2). */
export function credentialKind(c: Pick<RequestCredentials, 'authorization' | 'apiKey'>): 'bearer' | 'api_key' | 'none' {
  if (c.authorization && /^bearer\s+/i.test(c.authorization)) return 'bearer';
  if (c.apiKey !== undefined) return 'api_key';
  return 'none';
}

export class Authenticator {
  private jwks: { set: ReturnType<typeof createLocalJWKSet>; kids: Set<string>; fetchedAt: number } | null = null;
  private jwksInFlight: Promise<void> | null = null;
  /** Session-status answers, refreshed ahead of expiry (a revocation evicts its entry at once). */
  private readonly sessions: SessionCache<SessionInfo>;
  private readonly revoked = new Map<string, number>();
  private readonly verified = new Map<string, { sub: string; sid: string; exp: number }>();
  private unsubscribe: (() => void) | null = null;
  private unsubscribeKeys: (() => void) | null = null;
  private readonly apiKeys = new Map<string, { record: ApiKeyRecord; until: number }>();
  private readonly apiKeyInFlight = new Map<string, Promise<ApiKeyRecord | null>>();
  private readonly revokedKeys = new Map<string, number>();
  private readonly pendingTouches = new Map<string, string>();
  private touchTimer: NodeJS.Timeout | null = null;
  private readonly revocationListeners = new Set<(revoked: Revocation) => void>();
  /** Session-status lookups of many requests and sockets, coalesced into few calls to identity. */
  private readonly statuses: SessionStatusBatcher;

  constructor(
    private readonly identity: TRPCClient<IdentityRouter>,
    private readonly pubsub: PubSub,
  ) {
    this.statuses = new SessionStatusBatcher((sessionIds) => callInternal(identity.sessionStatus.query({ sessionIds })));
    this.sessions = new SessionCache((sid, background) => this.lookupSession(sid, background));
  }

  /** Subscribes to revocations; call once before serving. */
  async start(): Promise<void> {
    this.unsubscribe = await this.pubsub.subscribe(SESSION_REVOKED, (payload) => {
      const ids = (payload as Partial<SessionRevokedEvent>).sessionIds;
      if (Array.isArray(ids)) this.markRevoked(ids.filter((x): x is string => typeof x === 'string'));
    });
    this.unsubscribeKeys = await this.pubsub.subscribe(API_KEY_REVOKED, (payload) => {
      const ids = (payload as Partial<ApiKeyRevokedEvent>).keyIds;
      if (Array.isArray(ids)) this.markApiKeysRevoked(ids.filter((x): x is string => typeof x === 'string'));
    });
    this.touchTimer = setInterval(() => void this.flushTouches(), API_KEY_TOUCH_MS);
    this.touchTimer.unref();
  }

  /** Stops listening and sends the last `last_used_at` updates. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribeKeys?.();
    if (this.touchTimer) clearInterval(this.touchTimer);
    await this.flushTouches();
  }

  /**
   * Calls `listener` with every revocation this replica learns of (from PubSub or from a response
   * passing through it), so long-lived connections can be closed. Returns the unsubscriber.
   */
  onRevoked(listener: (revoked: Revocation) => void): () => void {
    this.revocationListeners.add(listener);
    return () => this.revocationListeners.delete(listener);
  }

  private announce(revoked: Revocation): void {
    for (const listener of this.revocationListeners) listener(revoked);
  }

  /** Forgets deleted API keys (from PubSub or a response's `revokedApiKeys` extension). */
  markApiKeysRevoked(keyIds: readonly string[]): void {
    const until = Date.now() + API_KEY_CACHE_MS * 2;
    for (const id of keyIds) this.revokedKeys.set(id, until);
    for (const [hash, entry] of this.apiKeys) if (keyIds.includes(entry.record.id)) this.apiKeys.delete(hash);
    if (keyIds.length > 0) this.announce({ sessionIds: [], apiKeyIds: keyIds });
  }

  private async flushTouches(): Promise<void> {
    if (this.pendingTouches.size === 0) return;
    const uses = [...this.pendingTouches].map(([id, at]) => ({ id, at }));
    this.pendingTouches.clear();
    await callInternal(this.identity.touchApiKeys.mutate({ uses })).catch(() => {
      // Best effort: a lost batch only delays `last_used_at` until the key's next use.
    });
  }

  /** Records revoked families (from PubSub or a response's `revokedSessions` extension). */
  markRevoked(sessionIds: readonly string[]): void {
    const until = Date.now() + REVOKED_MEMORY_MS;
    for (const id of sessionIds) {
      this.revoked.set(id, until);
      this.sessions.delete(id);
    }
    if (this.revoked.size > 10_000) {
      const now = Date.now();
      for (const [id, t] of this.revoked) if (t < now) this.revoked.delete(id);
    }
    if (sessionIds.length > 0) this.announce({ sessionIds, apiKeyIds: [] });
  }

  /**
   * Resolves the request's credentials into an AuthContext.
   * @throws AppError INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED, INVALID_API_KEY
   */
  async authenticate(c: RequestCredentials): Promise<AuthContext> {
    const kind = credentialKind(c);
    if (kind === 'none') return anonymousContext(c.requestId, c.clientIp);
    if (kind === 'api_key') return this.authenticateApiKey(c);
    const token = (c.authorization ?? '').replace(/^bearer\s+/i, '').trim();
    const claims = await this.verifyAccessToken(token);
    const info = await this.session(claims.sid);
    // A deleted user's sessions are gone too: that is an invalid token, not a revoked one.
    if (!info.userExists) throw new AppError('INVALID_TOKEN');
    if (info.revoked) throw new AppError('TOKEN_REVOKED');
    return {
      ...anonymousContext(c.requestId, c.clientIp),
      mode: 'bearer',
      userId: claims.sub,
      sessionId: claims.sid,
      role: info.role,
      plan: info.plan,
      timezone: info.timezone,
    };
  }

  /**
   * §1.3 API-key checks, in order: shape, hash lookup, expiry, IP allow list.
   * @throws INVALID_API_KEY, API_KEY_EXPIRED, API_KEY_IP_NOT_ALLOWED
   */
  private async authenticateApiKey(c: RequestCredentials): Promise<AuthContext> {
    const key = (c.apiKey ?? '').trim();
    if (!API_KEY_PATTERN.test(key)) throw new AppError('INVALID_API_KEY');
    const record = await this.apiKey(sha256Hex(key));
    if (!record) throw new AppError('INVALID_API_KEY');
    if (record.expiresAt && new Date(record.expiresAt).getTime() <= Date.now()) throw new AppError('API_KEY_EXPIRED');
    if (!ipAllowed(c.clientIp, record.allowedIps)) throw new AppError('API_KEY_IP_NOT_ALLOWED');
    this.pendingTouches.set(record.id, new Date().toISOString());
    return {
      ...anonymousContext(c.requestId, c.clientIp),
      mode: 'api_key',
      userId: record.userId,
      apiKeyId: record.id,
      tenantId: record.organizationId,
      scopes: record.scopes,
      role: record.role,
      plan: record.plan,
      timezone: record.timezone,
    };
  }

  private async apiKey(hash: string): Promise<ApiKeyRecord | null> {
    const cached = this.apiKeys.get(hash);
    if (cached && cached.until > Date.now()) return cached.record;
    let pending = this.apiKeyInFlight.get(hash);
    if (!pending) {
      const asked = Date.now();
      pending = (async () => {
        try {
          const record = await callInternal(this.identity.resolveApiKey.query({ keyHash: hash }));
          // A deletion announced while we were asking wins over the answer.
          const revokedAt = record ? this.revokedKeys.get(record.id) : undefined;
          if (record && revokedAt !== undefined && revokedAt - API_KEY_CACHE_MS * 2 >= asked) return null;
          if (record) this.apiKeys.set(hash, { record, until: Date.now() + API_KEY_CACHE_MS });
          return record;
        } finally {
          this.apiKeyInFlight.delete(hash);
        }
      })();
      this.apiKeyInFlight.set(hash, pending);
    }
    return pending;
  }

  private async verifyAccessToken(token: string): Promise<{ sub: string; sid: string }> {
    if (!token) throw new AppError('INVALID_TOKEN');
    // Signature checks (ES256) dominate the gateway's own cost per request; a token verified once
    // stays valid until its `exp`, so only the expiry is re-checked (revocation is checked apart).
    const known = this.verified.get(token);
    if (known) {
      if (known.exp * 1000 > Date.now()) return known;
      this.verified.delete(token);
      throw new AppError('TOKEN_EXPIRED');
    }
    let payload: JWTPayload;
    try {
      payload = await this.verifyWithJwks(token);
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new AppError('TOKEN_EXPIRED');
      if (err instanceof AppError) throw err;
      throw new AppError('INVALID_TOKEN');
    }
    if (payload.type !== 'access' || typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || typeof payload.exp !== 'number') {
      throw new AppError('INVALID_TOKEN');
    }
    const claims = { sub: payload.sub, sid: payload.sid, exp: payload.exp };
    if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.clear();
    this.verified.set(token, claims);
    return claims;
  }

  private async verifyWithJwks(token: string): Promise<JWTPayload> {
    const kid = kidOf(token);
    if (!this.jwks) {
      await this.refreshJwks();
    } else if (kid && !this.jwks.kids.has(kid)) {
      // Possibly a freshly rotated key: refetch, but no more often than the interval.
      const wait = this.jwks.fetchedAt + JWKS_REFETCH_MS - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!this.jwks.kids.has(kid)) await this.refreshJwks();
    }
    if (!this.jwks) throw new AppError('SERVICE_UNAVAILABLE');
    // Only ES256: `alg: none`, HS256-with-the-public-key and friends fail here.
    const { payload } = await jwtVerify(token, this.jwks.set, { algorithms: ['ES256'] });
    return payload;
  }

  private async refreshJwks(): Promise<void> {
    this.jwksInFlight ??= (async () => {
      try {
        const set = (await callInternal(this.identity.jwks.query())) as JSONWebKeySet;
        this.jwks = { set: createLocalJWKSet(set), kids: new Set(set.keys.map((k) => k.kid ?? '')), fetchedAt: Date.now() };
      } finally {
        this.jwksInFlight = null;
      }
    })();
    await this.jwksInFlight;
  }

  private async session(sid: string): Promise<SessionInfo> {
    const revokedUntil = this.revoked.get(sid);
    if (revokedUntil && revokedUntil > Date.now()) return { revoked: true, userExists: true, role: null, plan: null, timezone: null };
    return this.sessions.get(sid);
  }

  /** Identity's answer for a session family; cached unless it says the family is revoked (then marked revoked). */
  private async lookupSession(sid: string, background: boolean): Promise<{ value: SessionInfo; cache: boolean }> {
    const status = await this.statuses.load(sid, background);
    const info: SessionInfo = status
      ? { revoked: status.revoked, userExists: status.userExists, role: status.role, plan: status.plan, timezone: status.timezone }
      : { revoked: true, userExists: false, role: null, plan: null, timezone: null };
    // A revocation that arrived while we were asking wins over the answer.
    if (this.revoked.has(sid)) return { value: info, cache: false };
    if (info.revoked && info.userExists) {
      this.markRevoked([sid]);
      return { value: info, cache: false };
    }
    return { value: info, cache: true };
  }
}

function kidOf(token: string): string | null {
  const header = token.split('.')[0];
  if (!header) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    return parsed && typeof parsed === 'object' && 'kid' in parsed && typeof parsed.kid === 'string' ? parsed.kid : null;
  } catch {
    return null;
  }
}

/** A request id per §1.10: echo a valid `X-Request-ID`, otherwise a fresh UUID v4. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(header) ? header : randomUUID();
}

/** The client IP per §1.3: socket peer, or the left-most X-Forwarded-For with TRUST_PROXY. */
export function clientIpOf(peer: string | undefined, forwardedFor: string | string[] | undefined, trustProxy: boolean): string | null {
  if (trustProxy) {
    const first = (Array.isArray(forwardedFor) ? forwardedFor[0] : forwardedFor)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return peer ?? null;
}
