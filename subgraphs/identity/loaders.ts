/** Per-request DataLoaders: one SQL query per entity type per request. */
import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { User } from './user.entity.ts';
import type { UserService } from './user.service.ts';

export interface IdentityLoaders {
  userById: DataLoader<string, User | null>;
}

/** `rows`: users are read as plain rows, so any EntityManager's connection does (no fork). */
export function createLoaders(rows: Pick<EntityManager, 'getConnection'>, users: UserService): IdentityLoaders {
  return {
    userById: new DataLoader((ids) => users.byIds(rows, ids)),
  };
}
