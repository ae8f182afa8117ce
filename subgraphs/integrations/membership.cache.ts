/**
 * Memberships as INT-2 verify reads them, cached per (organization, user). orgs announces every
 * committed membership change and every deleted organization over the PubSub, and each process
 * drops the entries concerned at once; the TTL only bounds how long an entry could outlive an
 * announcement this process missed (a Redis reconnect). An answer fetched while an announcement
 * arrived is used once but not kept (the epoch counts announcements).
 */
import type { PubSub } from '../../kernel/pubsub.ts';
import { MEMBERSHIP_CHANGED, ORGANIZATION_DELETED, type MembershipChangedEvent, type OrganizationDeletedEvent } from '../../kernel/events.ts';
import type { OrgsGateway } from './orgs.client.ts';

type Membership = Awaited<ReturnType<OrgsGateway['membership']>>;

/** How long a cached membership may be reused without an announcement. */
const MEMBERSHIP_TTL_MS = 30_000;
/** Cleared wholesale when full (refetching is only slower). */
const MAX_ENTRIES = 50_000;

export class MembershipCache {
  private readonly entries = new Map<string, { value: Membership; until: number }>();
  private readonly inFlight = new Map<string, Promise<Membership>>();
  private epoch = 0;
  /** Nothing is kept until the announcements are heard. */
  private listening = false;

  constructor(private readonly orgs: OrgsGateway) {}

  /** Listens for orgs' announcements (from any process); returns the unsubscriber. */
  async start(pubsub: PubSub): Promise<() => void> {
    const off = await Promise.all([
      pubsub.subscribe(MEMBERSHIP_CHANGED, (payload) => {
        const e = payload as Partial<MembershipChangedEvent>;
        if (typeof e.organizationId === 'string' && typeof e.userId === 'string') this.changed(e.organizationId, e.userId);
      }),
      pubsub.subscribe(ORGANIZATION_DELETED, (payload) => {
        const e = payload as Partial<OrganizationDeletedEvent>;
        if (typeof e.organizationId === 'string') this.organizationDeleted(e.organizationId);
      }),
    ]);
    this.listening = true;
    return () => {
      this.listening = false;
      for (const unsubscribe of off) unsubscribe();
    };
  }

  /** The user's membership of an organization that exists; a missing organization is not kept. */
  async membership(organizationId: string, userId: string): Promise<Membership> {
    const key = `${organizationId}:${userId}`;
    const hit = this.entries.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    let pending = this.inFlight.get(key);
    if (!pending) {
      const epoch = this.epoch;
      const asked: Promise<Membership> = this.orgs.membership(organizationId, userId).then(
        (value) => {
          if (this.inFlight.get(key) === asked) this.inFlight.delete(key);
          if (value.exists && epoch === this.epoch && this.listening) {
            if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
            this.entries.set(key, { value, until: Date.now() + MEMBERSHIP_TTL_MS });
          }
          return value;
        },
        (err: unknown) => {
          if (this.inFlight.get(key) === asked) this.inFlight.delete(key);
          throw err;
        },
      );
      pending = asked;
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** A user's membership changed. */
  private changed(organizationId: string, userId: string): void {
    this.epoch += 1;
    this.inFlight.delete(`${organizationId}:${userId}`);
    this.entries.delete(`${organizationId}:${userId}`);
  }

  /** An organization was deleted: every membership of it is gone. */
  private organizationDeleted(organizationId: string): void {
    this.epoch += 1;
    const prefix = `${organizationId}:`;
    for (const key of this.inFlight.keys()) if (key.startsWith(prefix)) this.inFlight.delete(key);
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}
