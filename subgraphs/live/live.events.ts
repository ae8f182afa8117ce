/**
 * Live events: what happens to a user's session and quota, published on a per-user PubSub
 * channel (Redis across processes), so every device of the user, on any replica, sees the
 * session started, credited, running low, exhausted and ended.
 */
import type { PubSub } from '../../kernel/pubsub.ts';
import type { LiveSession } from './session.store.ts';
import type { LivePlan } from './quota.ts';

export type LiveEventType = 'STARTED' | 'CREDITED' | 'QUOTA_LOW' | 'QUOTA_EXHAUSTED' | 'ENDED';

/** The month's quota as of a call or an event. */
export interface LiveQuota {
  plan: LivePlan;
  periodStart: Date;
  periodEnd: Date;
  quotaSeconds: number;
  usedSeconds: number;
  remainingSeconds: number;
  activeSessionId: string | null;
}

/** One event; after PubSub's JSON round trip its dates are ISO strings. */
export interface LiveEvent {
  type: LiveEventType;
  userId: string;
  at: Date;
  /** Seconds the heartbeat or end credited (CREDITED), else null. */
  creditedSeconds: number | null;
  session: LiveSession;
  quota: LiveQuota;
}

/** The channel of one user's live events. */
export const liveEventsChannel = (userId: string): string => `live.events.${userId}`;

/** Publishes events in order (after the transaction that caused them committed). */
export async function publishLiveEvents(pubsub: PubSub, events: readonly LiveEvent[]): Promise<void> {
  for (const e of events) await pubsub.publish(liveEventsChannel(e.userId), e);
}
