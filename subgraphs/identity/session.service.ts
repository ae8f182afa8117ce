/**
 * Sessions (refresh-token families): login, refresh with rotation and reuse detection, logout,
 * and the revocation status the gateway caches (§3.1, §4.1).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../kernel/errors.ts';
import { parseInput } from '../../kernel/input.ts';
import { sha256Hex } from '../../kernel/crypto.ts';
import type { UserContext } from '../../kernel/authz.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import { SESSION_REVOKED, type SessionRevokedEvent } from '../../kernel/events.ts';
import { UserSchema } from './user.entity.ts';
import { RefreshTokenSchema, SessionFamilySchema } from './session.entity.ts';
import type { PasswordHasher } from './password.hasher.ts';
import type { SigningKeyService } from './signing-key.service.ts';

export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;

export interface TokenPair {
  accessToken: string;
  tokenType: 'bearer';
  refreshToken: string;
}

export interface SessionStatus {
  sessionId: string;
  userId: string | null;
  revoked: boolean;
  userExists: boolean;
  /** The user's platform role, plan and time zone, forwarded in the internal context. */
  role: 'user' | 'admin' | null;
  plan: 'free' | 'pro' | null;
  timezone: string | null;
}

const loginInput = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  grantType: z.string().regex(/^password$/).nullable().optional(),
});
const refreshInput = z.object({ refreshToken: z.string().min(1).max(512) });

export class SessionService {
  constructor(
    private readonly hasher: PasswordHasher,
    private readonly keys: SigningKeyService,
    private readonly pubsub: PubSub,
  ) {}

  /**
   * Starts a new family for the user matching `username` (email or username, case-insensitive).
   * @throws INVALID_CREDENTIALS with the same body for an unknown user and a wrong password.
   */
  async login(em: EntityManager, raw: z.input<typeof loginInput>): Promise<TokenPair> {
    const input = parseInput(loginInput, raw);
    const name = input.username.toLowerCase();
    const user = await em.findOne(UserSchema, name.includes('@') ? { email: name } : { username: name });
    const ok = await this.hasher.verify(user?.passwordHash ?? null, input.password);
    if (!user || !ok) throw new AppError('INVALID_CREDENTIALS');
    const familyId = randomUUID();
    const refreshToken = newRefreshToken();
    await em.transactional(async (tx) => {
      const now = new Date();
      tx.create(SessionFamilySchema, { id: familyId, userId: user.id, createdAt: now, revokedAt: null, revokedReason: null });
      // The entities declare no relation, so flush the family before the token that references it.
      await tx.flush();
      tx.create(RefreshTokenSchema, tokenRow(familyId, user.id, refreshToken, now));
    });
    const access = await this.keys.signAccessToken(user.id, familyId);
    return { accessToken: access.token, tokenType: 'bearer', refreshToken };
  }

  /**
   * Consumes a refresh token and issues a new pair in the same family. Presenting an already
   * consumed token of a live family revokes the whole family.
   * @throws INVALID_REFRESH_TOKEN (unknown, expired, or family revoked); REFRESH_TOKEN_REUSED
   */
  async refresh(em: EntityManager, raw: z.input<typeof refreshInput>, onRevoked?: (sessionIds: string[]) => void): Promise<TokenPair> {
    const input = parseInput(refreshInput, raw);
    const hash = sha256Hex(input.refreshToken);
    const next = newRefreshToken();
    const outcome = await em.transactional(async (tx): Promise<{ kind: 'ok'; userId: string; familyId: string } | { kind: 'reused'; familyId: string } | { kind: 'invalid' }> => {
      const row = await tx.findOne(RefreshTokenSchema, { tokenHash: hash });
      if (!row) return { kind: 'invalid' };
      const family = await tx.findOne(SessionFamilySchema, { id: row.familyId });
      if (!family || family.revokedAt) return { kind: 'invalid' };
      const now = new Date();
      if (row.consumedAt) {
        family.revokedAt = now;
        family.revokedReason = 'refresh_reuse';
        return { kind: 'reused', familyId: family.id };
      }
      if (row.expiresAt.getTime() <= now.getTime()) return { kind: 'invalid' };
      // Conditional update: of two concurrent refreshes with one token, only one consumes it.
      const consumed = await tx.nativeUpdate(RefreshTokenSchema, { id: row.id, consumedAt: null }, { consumedAt: now });
      if (consumed !== 1) {
        family.revokedAt = now;
        family.revokedReason = 'refresh_reuse';
        return { kind: 'reused', familyId: family.id };
      }
      tx.create(RefreshTokenSchema, tokenRow(family.id, row.userId, next, now));
      return { kind: 'ok', userId: row.userId, familyId: family.id };
    });
    if (outcome.kind === 'invalid') throw new AppError('INVALID_REFRESH_TOKEN');
    if (outcome.kind === 'reused') {
      onRevoked?.([outcome.familyId]);
      await this.announce([outcome.familyId]);
      throw new AppError('REFRESH_TOKEN_REUSED');
    }
    const access = await this.keys.signAccessToken(outcome.userId, outcome.familyId);
    return { accessToken: access.token, tokenType: 'bearer', refreshToken: next };
  }

  /**
   * Revokes the caller's family and, when given and owned by the caller, the refresh token's
   * family. Unknown tokens are ignored. Returns the revoked family ids.
   */
  async logout(em: EntityManager, auth: UserContext, refreshToken: string | null | undefined): Promise<string[]> {
    const ids = new Set<string>();
    if (auth.sessionId) ids.add(auth.sessionId);
    if (typeof refreshToken === 'string' && refreshToken.length > 0) {
      const row = await em.findOne(RefreshTokenSchema, { tokenHash: sha256Hex(refreshToken) });
      if (row && row.userId === auth.userId) ids.add(row.familyId);
    }
    if (ids.size === 0) return [];
    await em.transactional(async (tx) => {
      await tx.nativeUpdate(SessionFamilySchema, { id: { $in: [...ids] }, userId: auth.userId, revokedAt: null }, { revokedAt: new Date(), revokedReason: 'logout' });
    });
    const revoked = [...ids];
    await this.announce(revoked);
    return revoked;
  }

  /**
   * Revocation status of families, for the gateway's cache: one statement (families joined to
   * their users, rows as they are; the gateway asks for many at a time and often).
   */
  async status(em: EntityManager, sessionIds: readonly string[]): Promise<SessionStatus[]> {
    const valid = [...new Set(sessionIds.filter((id) => z.uuid().safeParse(id).success))];
    const rows = valid.length
      ? await em.execute<{ id: string; user_id: string; revoked: boolean; user_exists: boolean; role: SessionStatus['role']; plan: SessionStatus['plan']; timezone: string | null }[]>(
          `select f."id", f."user_id", f."revoked_at" is not null as "revoked", u."id" is not null as "user_exists", u."role", u."plan", u."timezone"
           from "identity"."session_families" f left join "identity"."users" u on u."id" = f."user_id" where f."id" in (?)`,
          [valid],
        )
      : [];
    const byId = new Map(rows.map((r) => [r.id, r]));
    return sessionIds.map((id) => {
      const r = byId.get(id);
      return {
        sessionId: id,
        userId: r?.user_id ?? null,
        revoked: !r || r.revoked,
        userExists: r?.user_exists ?? false,
        role: r?.user_exists ? r.role : null,
        plan: r?.user_exists ? r.plan : null,
        timezone: r?.user_exists ? r.timezone : null,
      };
    });
  }

  private async announce(sessionIds: string[]): Promise<void> {
    const event: SessionRevokedEvent = { sessionIds };
    await this.pubsub.publish(SESSION_REVOKED, event);
  }
}

function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

function tokenRow(familyId: string, userId: string, token: string, now: Date) {
  return {
    id: randomUUID(),
    familyId,
    userId,
    tokenHash: sha256Hex(token),
    createdAt: now,
    expiresAt: new Date(now.getTime() + REFRESH_TOKEN_TTL_MS),
    consumedAt: null,
  };
}
