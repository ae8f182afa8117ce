/** A learner's XP total, streak, freezes and booster (§4.3, §4.4, §4.6): one row per user. */
import { Type } from '@mikro-orm/postgresql';
import { entitySchema, uuidId } from '../../kernel/entity-schema.ts';
import type { StreakState } from './rules.ts';

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * A `date` column as `YYYY-MM-DD` text. Drivers hand dates back as text or as a Date at local
 * midnight, so a Date is read by its local calendar fields.
 */
export class LocalDateType extends Type<string | null, string | null> {
  override convertToJSValue(value: unknown): string | null {
    if (value === null || value === undefined) return null;
    if (value instanceof Date) return `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}`;
    return String(value).slice(0, 10);
  }

  override convertToDatabaseValue(value: unknown): string | null {
    return value === null || value === undefined ? null : String(value);
  }

  override getColumnType(): string {
    return 'date';
  }
}

/** The learner's streak (StreakState: §4.4's fields, dates local to the learner), XP and booster. */
export interface LearningProfile extends StreakState {
  userId: string;
  xp: number;
  boosterMultiplier: number | null;
  boosterStartedAt: Date | null;
  boosterExpiresAt: Date | null;
  /** The local date of the last booster the daily quests granted (once per date). */
  boosterDate: string | null;
}

export const LearningProfileSchema = entitySchema<LearningProfile>('LearningProfile', 'profiles', {
  userId: { type: 'uuid', primary: true, fieldName: 'user_id' },
  xp: { type: 'integer' },
  currentStreak: { type: 'integer', fieldName: 'current_streak' },
  longestStreak: { type: 'integer', fieldName: 'longest_streak' },
  freezesAvailable: { type: 'integer', fieldName: 'freezes_available' },
  freezesUsed: { type: 'integer', fieldName: 'freezes_used' },
  lastActivity: { type: LocalDateType, nullable: true, fieldName: 'last_activity' },
  reconciledThrough: { type: LocalDateType, nullable: true, fieldName: 'reconciled_through' },
  boosterMultiplier: { type: 'double', nullable: true, fieldName: 'booster_multiplier' },
  boosterStartedAt: { type: 'Date', nullable: true, fieldName: 'booster_started_at' },
  boosterExpiresAt: { type: 'Date', nullable: true, fieldName: 'booster_expires_at' },
  boosterDate: { type: LocalDateType, nullable: true, fieldName: 'booster_date' },
});

/** One XP award (§4.2): the ledger is append-only and unique by (source, source id). */
export interface LedgerEntry {
  id: string;
  userId: string;
  source: string;
  sourceId: string;
  baseXp: number;
  multiplier: number;
  xp: number;
  /** The user's local date when the award was recorded. */
  localDate: string;
  recordedAt: Date;
}

export const LedgerEntrySchema = entitySchema<LedgerEntry>('LedgerEntry', 'ledger', {
  ...uuidId(),
  userId: { type: 'uuid', fieldName: 'user_id' },
  source: { type: 'string' },
  sourceId: { type: 'string', fieldName: 'source_id' },
  baseXp: { type: 'integer', fieldName: 'base_xp' },
  multiplier: { type: 'double' },
  xp: { type: 'integer' },
  localDate: { type: LocalDateType, fieldName: 'local_date' },
  recordedAt: { type: 'Date', fieldName: 'recorded_at' },
});
