/**
 * Internal tRPC procedures of learning, for the subgraphs that produce awards (chat session ends
 * and messages, live sessions and heartbeats). `award` is idempotent by (source, sourceId): a
 * producer may deliver the same award any number of times (from its outbox, after a failure) and
 * it is recorded once; a repeat answers `recorded: false` with the first XP.
 */
import { z } from 'zod';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createRouter, internalProcedure } from '../../kernel/trpc.ts';
import { ACTIVITY_KINDS, XP_SOURCES, type AwardService } from './award.service.ts';

export const awardInput = z.object({
  source: z.enum([...XP_SOURCES, ...ACTIVITY_KINDS]),
  sourceId: z.string().min(1).max(200),
  userId: z.uuid(),
  /** §4.2 base XP before any booster; 0 for `chat_message` and `live_credit`. */
  baseXp: z.number().int().min(0).max(10_000),
  /** An ended session (chat_session, xel_session, live_session): its start and counted seconds. */
  session: z.object({ startedAt: z.iso.datetime(), seconds: z.number().int().min(0) }).optional(),
  /** 1 per chat message; the seconds credited for `live_credit`. */
  amount: z.number().int().min(0).optional(),
  /** The user's IANA zone if the producer has it (learning asks identity otherwise). */
  timezone: z.string().min(1).max(64).optional(),
});
export type AwardRequest = z.input<typeof awardInput>;

export function createLearningRouter(orm: MikroORM, awards: AwardService) {
  return createRouter({
    /** Records one award exactly once; returns `{ recorded, xp, questsCompleted, boosterStarted }`. */
    award: internalProcedure.input(awardInput).mutation(({ input }) =>
      awards.award(orm.em.fork(), { ...input, session: input.session && { startedAt: new Date(input.session.startedAt), seconds: input.session.seconds } }),
    ),
  });
}

export type LearningRouter = ReturnType<typeof createLearningRouter>;
