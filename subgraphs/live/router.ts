/** Internal tRPC procedures of live: nicknames for services that show users by their Live name. */
import { z } from 'zod';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createRouter, internalProcedure } from '../../kernel/trpc.ts';
import type { NicknameService } from './nickname.service.ts';

export function createLiveRouter(orm: MikroORM, nicknames: NicknameService) {
  return createRouter({
    /** The Live nicknames of `userIds`, in order (null when unset). */
    nicknames: internalProcedure
      .input(z.object({ userIds: z.array(z.uuid()).max(500) }))
      .query(({ input }) => nicknames.of(orm.em.fork(), input.userIds)),
  });
}

export type LiveRouter = ReturnType<typeof createLiveRouter>;
