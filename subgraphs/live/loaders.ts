/** Per-request DataLoaders of live: one statement for every `User.liveNickname` of a response. */
import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { NicknameService } from './nickname.service.ts';

export interface LiveLoaders {
  nickname: DataLoader<string, string | null>;
}

export function createLoaders(em: EntityManager, nicknames: NicknameService): LiveLoaders {
  return { nickname: new DataLoader((ids) => nicknames.of(em, ids)) };
}
