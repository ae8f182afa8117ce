/** Live transcripts (LIVE-6..8): saved by the client or an internal service for the acting user; private to them. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../kernel/errors.ts';
import type { UserContext } from '../../kernel/authz.ts';
import { isUuid, parseInput } from '../../kernel/input.ts';
import { LiveTranscriptSchema, type LiveTranscript } from './live.entity.ts';
import { wholeSeconds } from './quota.ts';

const turnSchema = z.object({
  role: z.enum(['user', 'ai']),
  text: z.string().min(1).max(10_000),
  timestamp: z.date(),
});

const saveSchema = z.object({
  sessionStartedAt: z.date(),
  sessionEndedAt: z.date(),
  transcripts: z.array(turnSchema).min(1).max(2_000),
  sessionId: z.string().nullable().optional(),
});

export type SaveTranscriptInput = z.input<typeof saveSchema>;

export interface TranscriptPage {
  items: LiveTranscript[];
  total: number;
  limit: number;
  offset: number;
}

const PREVIEW_CHARS = 120;

export class TranscriptService {
  /**
   * LIVE-7: stores a transcript for the caller (bearer or internal acting user).
   * @throws BAD_USER_INPUT; INVALID_TIME_RANGE when it ends before it starts; NOT_FOUND "Live
   * session not found" when `sessionId` is not one of the caller's live sessions.
   */
  async save(em: EntityManager, user: UserContext, raw: SaveTranscriptInput): Promise<LiveTranscript> {
    const input = parseInput(saveSchema, raw);
    if (input.sessionEndedAt < input.sessionStartedAt) throw new AppError('INVALID_TIME_RANGE');
    const sessionId = input.sessionId ?? null;
    if (sessionId !== null) {
      const rows = isUuid(sessionId) ? await em.execute<{ id: string }[]>(`select "id" from "live"."sessions" where "id" = ? and "user_id" = ?`, [sessionId, user.userId]) : [];
      if (rows.length === 0) throw new AppError('NOT_FOUND', { message: 'Live session not found' });
    }
    const turns = input.transcripts.map((t) => ({ role: t.role, text: t.text, timestamp: t.timestamp.toISOString() }));
    const transcript = em.create(LiveTranscriptSchema, {
      id: randomUUID(),
      userId: user.userId,
      sessionId,
      sessionStartedAt: input.sessionStartedAt,
      sessionEndedAt: input.sessionEndedAt,
      durationSeconds: wholeSeconds(input.sessionStartedAt, input.sessionEndedAt),
      turnCount: turns.length,
      preview: [...(turns[0]?.text ?? '')].slice(0, PREVIEW_CHARS).join(''),
      turns,
      createdAt: new Date(),
    });
    await em.flush();
    return transcript;
  }

  /** LIVE-6: the caller's transcripts, newest session first (ties by id). */
  async list(em: EntityManager, user: UserContext, limit: number, offset: number): Promise<TranscriptPage> {
    const page = parseInput(z.object({ limit: z.number().int().min(1).max(100), offset: z.number().int().min(0) }), { limit, offset }, null);
    const [items, total] = await em.findAndCount(
      LiveTranscriptSchema,
      { userId: user.userId },
      { orderBy: { sessionStartedAt: 'desc', id: 'asc' }, limit: page.limit, offset: page.offset },
    );
    return { items, total, ...page };
  }

  /** LIVE-8: one of the caller's transcripts; null when absent or another user's. */
  async get(em: EntityManager, user: UserContext, id: string): Promise<LiveTranscript | null> {
    if (!isUuid(id)) return null;
    return em.findOne(LiveTranscriptSchema, { id, userId: user.userId });
  }
}
