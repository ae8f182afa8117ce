/**
 * Conversation sessions (§3.2 CONV-7..10, §4.7). At most one active session per user and
 * conversation (a partial unique index enforces it). Idle timeouts are evaluated lazily on every
 * session call: an active session idle longer than the configured limit ends with reason
 * `timeout` at its `last_activity_at`. Every end publishes `chat.session-ended` after commit,
 * carrying the `chat_session` XP (§4.2), and owes learning the award through the outbox (outbox.ts).
 */
import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException, LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../kernel/errors.ts';
import type { UserContext } from '../../kernel/authz.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import { CHAT_SESSION_ENDED, type ChatSessionEndedEvent } from '../../kernel/events.ts';
import { ConversationSessionSchema, type ConversationSession, type SessionEndReason } from './session.entity.ts';
import type { ConversationService } from './conversation.service.ts';
import type { LearningOutbox } from './outbox.ts';

/** §4.2 `chat_session`: 1 XP per full minute of the session, at most 30. */
export function chatSessionXp(durationSeconds: number): number {
  return Math.min(30, Math.floor(Math.max(0, durationSeconds) / 60));
}

/** A session with its elapsed seconds as of the call (the duration once ended). */
export type SessionView = ConversationSession & { elapsedSeconds: number };

/** CONV-10: whether a session is active, and which. */
export interface SessionStatus {
  conversationId: string;
  session: SessionView | null;
}

const seconds = (from: Date, to: Date): number => Math.max(0, Math.floor((to.getTime() - from.getTime()) / 1000));

function view(s: ConversationSession, now: Date): SessionView {
  return { ...s, elapsedSeconds: s.durationSeconds ?? seconds(s.startedAt, now) };
}

/** Ends `s` in place: duration, XP and the event to publish after commit. */
function close(s: ConversationSession, endedAt: Date, reason: SessionEndReason): ChatSessionEndedEvent {
  s.endedAt = endedAt;
  s.endReason = reason;
  s.durationSeconds = seconds(s.startedAt, endedAt);
  s.xpAwarded = chatSessionXp(s.durationSeconds);
  return {
    userId: s.userId,
    conversationId: s.conversationId,
    sessionId: s.id,
    durationSeconds: s.durationSeconds,
    startedAt: s.startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    xp: s.xpAwarded,
  };
}

export class SessionService {
  constructor(
    private readonly conversations: ConversationService,
    private readonly pubsub: PubSub,
    private readonly idleSeconds: number,
    private readonly outbox: LearningOutbox,
  ) {}

  /**
   * CONV-7: resumes the active session (`resumed: true`, activity recorded) or starts a new one.
   * @throws NOT_FOUND "Conversation not found"
   */
  async start(em: EntityManager, auth: UserContext, conversationId: string): Promise<SessionView & { resumed: boolean }> {
    try {
      return await this.startOnce(em, auth, conversationId);
    } catch (err) {
      // A concurrent start won the unique index: this call resumes the session it created.
      if (!(err instanceof UniqueConstraintViolationException)) throw err;
      return this.startOnce(em, auth, conversationId);
    }
  }

  private startOnce(em: EntityManager, auth: UserContext, conversationId: string): Promise<SessionView & { resumed: boolean }> {
    return this.withActive(em, auth, conversationId, async (tx, active, now) => {
      if (active) {
        active.lastActivityAt = now;
        return { ...view(active, now), resumed: true };
      }
      const s = tx.create(ConversationSessionSchema, {
        id: randomUUID(),
        userId: auth.userId,
        conversationId,
        startedAt: now,
        lastActivityAt: now,
        endedAt: null,
        endReason: null,
        durationSeconds: null,
        xpAwarded: null,
      });
      await tx.flush();
      return { ...view(s, now), resumed: false };
    });
  }

  /**
   * CONV-8: records activity on the active session.
   * @throws NOT_FOUND "Conversation not found"; NO_ACTIVE_SESSION (none, or it just timed out).
   */
  async activity(em: EntityManager, auth: UserContext, conversationId: string): Promise<SessionView> {
    return this.withActive(em, auth, conversationId, async (_tx, active, now) => {
      if (!active) return new AppError('NO_ACTIVE_SESSION');
      active.lastActivityAt = now;
      return view(active, now);
    });
  }

  /**
   * CONV-9: ends the active session now (`end_reason: client`) and awards its XP.
   * @throws NOT_FOUND "Conversation not found"; NO_ACTIVE_SESSION (none, or it just timed out).
   */
  async end(em: EntityManager, auth: UserContext, conversationId: string): Promise<SessionView> {
    return this.withActive(em, auth, conversationId, async (_tx, active, now, ended) => {
      if (!active) return new AppError('NO_ACTIVE_SESSION');
      ended.push(close(active, now, 'client'));
      return view(active, now);
    });
  }

  /**
   * CONV-10: the active session, if any (after ending a timed-out one).
   * @throws NOT_FOUND "Conversation not found"
   */
  async status(em: EntityManager, auth: UserContext, conversationId: string): Promise<SessionStatus> {
    return this.withActive(em, auth, conversationId, async (_tx, active, now) => ({ conversationId, session: active ? view(active, now) : null }));
  }

  /**
   * Runs `fn` in one transaction with the caller's conversation checked and its active session
   * locked (null when there is none or it has just timed out). `fn` returns an AppError to refuse
   * without rolling back, so a timeout found on the way is still recorded. Every session end is
   * published after commit, never inside the transaction.
   */
  private async withActive<T>(
    em: EntityManager,
    auth: UserContext,
    conversationId: string,
    fn: (tx: EntityManager, active: ConversationSession | null, now: Date, ended: ChatSessionEndedEvent[]) => Promise<T | AppError>,
  ): Promise<T> {
    const ended: ChatSessionEndedEvent[] = [];
    const owed: string[] = [];
    const result = await em.transactional(async (tx) => {
      await this.conversations.require(tx, auth.userId, conversationId);
      const now = new Date();
      let active = await tx.findOne(
        ConversationSessionSchema,
        { userId: auth.userId, conversationId, endedAt: null },
        { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      if (active && now.getTime() - active.lastActivityAt.getTime() > this.idleSeconds * 1000) {
        ended.push(close(active, active.lastActivityAt, 'timeout'));
        // Flushed now: a session started next in this transaction must not meet it in the unique index.
        await tx.flush();
        active = null;
      }
      const out = await fn(tx, active, now, ended);
      // The award learning is owed, in this transaction: delivered after commit, or later by the outbox.
      for (const e of ended) {
        owed.push(await this.outbox.enqueue(tx, {
          source: 'chat_session',
          sourceId: e.sessionId,
          userId: e.userId,
          baseXp: e.xp,
          session: { startedAt: e.startedAt, seconds: e.durationSeconds },
        }));
      }
      return out;
    });
    void this.outbox.send(owed);
    for (const event of ended) await this.pubsub.publish(CHAT_SESSION_ENDED, event);
    if (result instanceof AppError) throw result;
    return result;
  }
}
