/**
 * The caller's learning events (the `learningEvents` subscription): XP awarded with its source,
 * level up, quest completed, booster started, streak changed, XPI changed. Services collect them
 * while they record and publish them after their transaction commits, on the user's channel.
 */
import type { PubSub } from '../../kernel/pubsub.ts';

export type LearningEventType = 'xp_awarded' | 'level_up' | 'quest_completed' | 'booster_started' | 'streak_changed' | 'xpi_changed';

export interface LearningEvent {
  type: LearningEventType;
  userId: string;
  /** ISO-8601. */
  at: string;
  source?: string;
  xp?: number;
  level?: number;
  questId?: string;
  streak?: number;
  xpi?: number | null;
}

export function learningChannel(userId: string): string {
  return `learning.events.${userId}`;
}

/** Publishes events in order (after the transaction that recorded them committed). */
export async function publishAll(pubsub: PubSub, events: readonly LearningEvent[]): Promise<void> {
  for (const e of events) await pubsub.publish(learningChannel(e.userId), e);
}
