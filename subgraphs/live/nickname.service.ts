/** Live nicknames (LIVE-5): one per user, also shown as the user's `liveNickname` through federation. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, type FieldError } from '../../kernel/errors.ts';
import type { UserContext } from '../../kernel/authz.ts';
import { LiveNicknameSchema, type LiveNickname } from './live.entity.ts';

export const NICKNAME_PATTERN = /^[\p{L}\p{N} _.\-]+$/u;

/**
 * The nickname rule: leading and trailing spaces trimmed, then 2..32 characters (code points) of
 * letters, digits, space, `_`, `.` and `-` in any script.
 * @throws BAD_USER_INPUT with one item at `input.nickname`.
 */
export function normaliseNickname(raw: string): string {
  const nickname = raw.replace(/^ +| +$/g, '');
  const length = [...nickname].length;
  const bad = (item: Omit<FieldError, 'loc' | 'input'>) => new AppError('BAD_USER_INPUT', { message: `input.nickname: ${item.msg}`, fields: [{ ...item, loc: ['input', 'nickname'], input: nickname }] });
  if (length < 2) throw bad({ type: 'string_too_short', msg: 'String should have at least 2 characters', ctx: { min_length: 2 } });
  if (length > 32) throw bad({ type: 'string_too_long', msg: 'String should have at most 32 characters', ctx: { max_length: 32 } });
  if (!NICKNAME_PATTERN.test(nickname)) {
    throw bad({ type: 'string_pattern_mismatch', msg: "String should match pattern '^[\\p{L}\\p{N} _.\\-]+$'", ctx: { pattern: '^[\\p{L}\\p{N} _.\\-]+$' } });
  }
  return nickname;
}

export class NicknameService {
  /**
   * LIVE-5: sets the caller's nickname.
   * @throws BAD_USER_INPUT when it breaks the nickname rule.
   */
  async set(em: EntityManager, user: UserContext, raw: string): Promise<LiveNickname> {
    const nickname = normaliseNickname(raw);
    const updatedAt = new Date();
    await em.execute(
      `insert into "live"."nicknames" ("user_id", "nickname", "updated_at") values (?, ?, ?)
       on conflict ("user_id") do update set "nickname" = excluded."nickname", "updated_at" = excluded."updated_at"`,
      [user.userId, nickname, updatedAt],
      'run',
    );
    return { userId: user.userId, nickname, updatedAt };
  }

  /** Nicknames of `userIds` in one statement, in order (null when unset). */
  async of(em: EntityManager, userIds: readonly string[]): Promise<(string | null)[]> {
    const rows = await em.find(LiveNicknameSchema, { userId: { $in: [...userIds] } });
    const byId = new Map(rows.map((r) => [r.userId, r.nickname]));
    return userIds.map((id) => byId.get(id) ?? null);
  }
}
