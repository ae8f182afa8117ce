/**
 * Revocation state as INT-2 verify reads it, kept in every process. A revocation is permanent, so
 * a jti known to be revoked is remembered until its token expires (after that verify answers
 * `expired` before it asks). A jti found not revoked is remembered briefly, and forgotten at once
 * when any process announces its revocation: the revoking process marks the jti here and
 * publishes it before INT-3 or INT-4 answers, so once the revoke call has returned every process
 * refuses the token. A read that raced an announcement loses to it (the revoked set is consulted
 * last). The short life of "not revoked" entries only bounds an announcement this process missed
 * (a Redis reconnect).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../kernel/errors.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import { findRevocation } from './grant.store.ts';

/** The PubSub channel integrations announces revocations on (integrations only). */
export const INTEGRATION_TOKEN_REVOKED = 'integrations.token-revoked';
interface TokenRevokedEvent {
  jti: string;
  /** The revoked token's expiry, epoch milliseconds. */
  expiresAt: number;
}

/** How long "not revoked" may be reused without hearing of a revocation. */
const NOT_REVOKED_TTL_MS = 10_000;
/** Cleared wholesale when full (asking the database again is only slower). */
const MAX_NOT_REVOKED = 100_000;
/** Expired entries of the revoked set are dropped when it grows past this. */
const PRUNE_REVOKED_AT = 10_000;

export class RevocationCache {
  /** jti → its token's expiry (epoch ms). */
  private readonly revoked = new Map<string, number>();
  /** jti → until when "not revoked" may be reused. */
  private readonly notRevoked = new Map<string, number>();
  /** "Not revoked" is not kept until the announcements are heard. */
  private listening = false;

  constructor(private readonly pubsub: PubSub) {}

  /** Listens for revocations announced by any process; returns the unsubscriber. */
  async start(): Promise<() => void> {
    const off = await this.pubsub.subscribe(INTEGRATION_TOKEN_REVOKED, (payload) => {
      const e = payload as Partial<TokenRevokedEvent>;
      if (typeof e.jti === 'string' && typeof e.expiresAt === 'number') this.mark(e.jti, e.expiresAt);
    });
    this.listening = true;
    return () => {
      this.listening = false;
      this.notRevoked.clear();
      off();
    };
  }

  /** Whether `jti` (of a token expiring at `expiresAt`, epoch ms) is revoked; `db` is only called on a miss. */
  async isRevoked(db: () => EntityManager, jti: string, expiresAt: number): Promise<boolean> {
    if (this.revoked.has(jti)) return true;
    const now = Date.now();
    const until = this.notRevoked.get(jti);
    if (until !== undefined && until > now) return false;
    const row = await findRevocation(db(), jti);
    if (row) {
      this.mark(jti, row.expiresAt.getTime());
      return true;
    }
    // An announcement that arrived while the database was asked wins over its answer.
    if (this.revoked.has(jti)) return true;
    if (!this.listening) return false;
    if (this.notRevoked.size >= MAX_NOT_REVOKED) this.notRevoked.clear();
    this.notRevoked.set(jti, Math.min(now + NOT_REVOKED_TTL_MS, expiresAt));
    return false;
  }

  /**
   * Records a committed revocation here and announces it to every process; resolves once it is
   * published, so the caller may answer.
   * @throws SERVICE_UNAVAILABLE when it cannot be published (the revocation stands; repeating
   * the call announces it again).
   */
  async announce(jti: string, expiresAt: Date): Promise<void> {
    this.mark(jti, expiresAt.getTime());
    try {
      await this.pubsub.publish(INTEGRATION_TOKEN_REVOKED, { jti, expiresAt: expiresAt.getTime() } satisfies TokenRevokedEvent);
    } catch (err) {
      throw new AppError('SERVICE_UNAVAILABLE', { cause: err });
    }
  }

  private mark(jti: string, expiresAt: number): void {
    this.revoked.set(jti, expiresAt);
    this.notRevoked.delete(jti);
    if (this.revoked.size > PRUNE_REVOKED_AT) {
      const now = Date.now();
      for (const [id, exp] of this.revoked) if (exp <= now) this.revoked.delete(id);
    }
  }
}
