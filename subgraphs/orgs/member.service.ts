/**
 * Memberships and teams (§3.4, §4.13): listing, adding, role changes, the comprehensive
 * update (role, move to another organization, team by name), removal, and the last-owner rule.
 */
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../../kernel/errors.ts';
import { isUuid, parseInput, type Unparsed } from '../../kernel/input.ts';
import type { UserContext } from '../../kernel/authz.ts';
import { MembershipSchema, TeamSchema, type Membership, type OrgRole } from './organization.entity.ts';
import { addMember, atLeast, changeMember, enforce, removeMember } from './role.policy.ts';
import type { AccessReads, OrganizationService } from './organization.service.ts';
import type { IdentityGateway } from './identity.client.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import { MEMBERSHIP_CHANGED, type MembershipChangedEvent } from '../../kernel/events.ts';

const role = z.enum(['owner', 'admin', 'member']);
const teamName = z.string().trim().min(1).max(100).nullable();

const addInput = z
  .object({ userId: z.uuid().optional(), email: z.string().min(3).max(254).optional(), role: role.optional(), teamName: teamName.optional() })
  .refine((i) => (i.userId === undefined) !== (i.email === undefined), 'Exactly one of userId or email is required');
const listInput = z.object({ limit: z.number().int().min(1).max(100), offset: z.number().int().min(0), role: role.optional(), teamId: z.uuid().optional() });
const updateInput = z.object({ role: role.optional(), organizationId: z.uuid().optional(), teamName: teamName.optional() });

/** Which page of an organization's members, and its filters. */
export interface MemberPageInput {
  limit: number;
  offset: number;
  role?: OrgRole;
  teamId?: string;
}

export interface MemberPage {
  items: Membership[];
  total: number;
  limit: number;
  offset: number;
}

export class MemberService {
  constructor(
    private readonly orgs: OrganizationService,
    private readonly identity: IdentityGateway,
    private readonly pubsub: PubSub,
  ) {}

  /** Announces committed membership changes (other subgraphs cache memberships). */
  private async changed(organizationId: string, userId: string): Promise<void> {
    await this.pubsub.publish(MEMBERSHIP_CHANGED, { organizationId, userId } satisfies MembershipChangedEvent);
  }

  /**
   * ORG-6: members by `joinedAt` (ties by user id), filtered by role and team. `pages` answers the
   * page once access is checked: by default `page`; GraphQL passes its per-request loader, which
   * fetches the pages of several organizations in one statement, and its loaders as `reads`.
   * @throws NOT_FOUND, TENANT_MISMATCH, BAD_USER_INPUT
   */
  async list(
    em: EntityManager,
    auth: UserContext,
    orgId: string,
    raw: z.input<typeof listInput>,
    pages: (orgId: string, input: MemberPageInput) => Promise<MemberPage> = (id, input) => this.page(em, id, input),
    reads?: AccessReads,
  ): Promise<MemberPage> {
    const input = parseInput(listInput, raw);
    const { org } = await this.orgs.access(em, auth, orgId, reads);
    return pages(org.id, input);
  }

  /** A page of an organization's members (access already checked). */
  async page(em: EntityManager, orgId: string, input: MemberPageInput): Promise<MemberPage> {
    const where = { organizationId: orgId, ...(input.role ? { role: input.role } : {}), ...(input.teamId ? { teamId: input.teamId } : {}) };
    const [items, total] = await em.findAndCount(MembershipSchema, where, {
      orderBy: { joinedAt: 'asc', userId: 'asc' },
      limit: input.limit,
      offset: input.offset,
    });
    return { items, total, limit: input.limit, offset: input.offset };
  }

  /**
   * ORG-7: adds an existing account (never creates one).
   * @throws NOT_FOUND (Organization, User), TENANT_MISMATCH, INSUFFICIENT_ROLE, ALREADY_MEMBER
   */
  async add(em: EntityManager, auth: UserContext, orgId: string, raw: Unparsed<z.input<typeof addInput>>): Promise<Membership> {
    const input = parseInput(addInput, raw);
    const access = await this.orgs.access(em, auth, orgId);
    const newRole = input.role ?? 'member';
    enforce(addMember(access.role, newRole));
    const user = input.userId ? (await this.identity.usersByIds([input.userId]))[0] : await this.identity.userByEmail(input.email ?? '');
    if (!user) throw notFound('User');
    if (await em.count(MembershipSchema, { organizationId: access.org.id, userId: user.id })) throw new AppError('ALREADY_MEMBER');
    const added = await alreadyMemberOnConflict(
      em.transactional(async (tx) => {
        const teamId = input.teamName ? await this.teamIdFor(tx, access.org.id, input.teamName) : null;
        const m = tx.create(MembershipSchema, { organizationId: access.org.id, userId: user.id, role: newRole, teamId, joinedAt: new Date() });
        return m;
      }),
    );
    await this.changed(access.org.id, user.id);
    return added;
  }

  /**
   * ORG-8: changes a member's role.
   * @throws NOT_FOUND (Organization, Member), TENANT_MISMATCH, INSUFFICIENT_ROLE, LAST_OWNER
   */
  async updateRole(em: EntityManager, auth: UserContext, orgId: string, userId: string, newRole: OrgRole): Promise<Membership> {
    return this.update(em, auth, orgId, userId, { role: parseInput(role, newRole, 'role') });
  }

  /**
   * ORG-9: role, move to another organization, team. A move keeps the role unless one is given
   * and drops the old team unless `teamName` is given; it deletes the member's API keys for the
   * source organization (after the transaction; their ids go to `onKeysRevoked`).
   * @throws NOT_FOUND, TENANT_MISMATCH, INSUFFICIENT_ROLE, ALREADY_MEMBER, LAST_OWNER
   */
  async update(
    em: EntityManager,
    auth: UserContext,
    orgId: string,
    userId: string,
    raw: z.input<typeof updateInput>,
    onKeysRevoked: (keyIds: string[]) => void = () => {},
  ): Promise<Membership> {
    const input = parseInput(updateInput, raw);
    const source = await this.orgs.access(em, auth, orgId);
    const target = isUuid(userId) ? await em.findOne(MembershipSchema, { organizationId: source.org.id, userId }) : null;
    if (!target) throw notFound('Member');
    const self = userId === auth.userId;
    const resultingRole = input.role ?? target.role;
    const moving = input.organizationId !== undefined && input.organizationId !== source.org.id;

    if (!moving) {
      if (input.role !== undefined || input.teamName !== undefined) enforce(changeMember(source.role, self, target.role, resultingRole));
      if (target.role === 'owner' && resultingRole !== 'owner') await this.requireAnotherOwner(em, source.org.id);
      await em.transactional(async (tx) => {
        const row = await tx.findOneOrFail(MembershipSchema, { organizationId: source.org.id, userId });
        row.role = resultingRole;
        if (input.teamName !== undefined) row.teamId = input.teamName === null ? null : await this.teamIdFor(tx, source.org.id, input.teamName);
      });
      await this.changed(source.org.id, userId);
      return em.findOneOrFail(MembershipSchema, { organizationId: source.org.id, userId }, { refresh: true });
    }

    // A move: the caller must be owner/admin in both organizations and pass the target rule here.
    if (auth.mode === 'api_key') throw new AppError('TENANT_MISMATCH');
    const destination = await this.orgs.access(em, auth, input.organizationId ?? '');
    enforce(atLeast(source.role, 'admin') ? null : 'admin');
    enforce(target.role === 'member' || source.role === 'owner' ? null : 'owner');
    enforce(atLeast(destination.role, 'admin') ? null : 'admin');
    if (resultingRole === 'owner') enforce(destination.role === 'owner' ? null : 'owner');
    if (target.role === 'owner') await this.requireAnotherOwner(em, source.org.id);
    if (await em.count(MembershipSchema, { organizationId: destination.org.id, userId })) throw new AppError('ALREADY_MEMBER');
    await alreadyMemberOnConflict(
      em.transactional(async (tx) => {
        await tx.nativeDelete(MembershipSchema, { organizationId: source.org.id, userId });
        const teamId = input.teamName ? await this.teamIdFor(tx, destination.org.id, input.teamName) : null;
        tx.create(MembershipSchema, { organizationId: destination.org.id, userId, role: resultingRole, teamId, joinedAt: new Date() });
      }),
    );
    await Promise.all([this.changed(source.org.id, userId), this.changed(destination.org.id, userId)]);
    onKeysRevoked(await this.identity.deleteApiKeysOfMember(source.org.id, userId));
    return em.findOneOrFail(MembershipSchema, { organizationId: destination.org.id, userId }, { refresh: true });
  }

  /**
   * ORG-10: removes a member (oneself = leaving); deletes their API keys for the organization
   * (their ids go to `onKeysRevoked`).
   * @throws NOT_FOUND (Organization, Member), TENANT_MISMATCH, INSUFFICIENT_ROLE, LAST_OWNER
   */
  async remove(em: EntityManager, auth: UserContext, orgId: string, userId: string, onKeysRevoked: (keyIds: string[]) => void = () => {}): Promise<void> {
    const { org, role: callerRole } = await this.orgs.access(em, auth, orgId);
    const target = isUuid(userId) ? await em.findOne(MembershipSchema, { organizationId: org.id, userId }) : null;
    if (!target) throw notFound('Member');
    enforce(removeMember(callerRole, userId === auth.userId, target.role));
    if (target.role === 'owner') await this.requireAnotherOwner(em, org.id);
    await em.transactional(async (tx) => {
      await tx.nativeDelete(MembershipSchema, { organizationId: org.id, userId });
    });
    await this.changed(org.id, userId);
    onKeysRevoked(await this.identity.deleteApiKeysOfMember(org.id, userId));
  }

  /** @throws LAST_OWNER when the organization has no other owner. */
  private async requireAnotherOwner(em: EntityManager, orgId: string): Promise<void> {
    if ((await em.count(MembershipSchema, { organizationId: orgId, role: 'owner' })) <= 1) throw new AppError('LAST_OWNER');
  }

  /** Finds a team by trimmed, case-insensitive name, creating it when missing. */
  private async teamIdFor(tx: EntityManager, orgId: string, name: string): Promise<string> {
    const trimmed = name.trim();
    const key = trimmed.toLowerCase();
    const found = await tx.findOne(TeamSchema, { organizationId: orgId, nameKey: key });
    if (found) return found.id;
    // Insert-if-absent: concurrent requests naming the same new team share one row, instead of all
    // but one failing on the (organization_id, name_key) unique constraint. The insert waits for a
    // concurrent creator to commit, so the re-read below sees whichever row won.
    await tx
      .createQueryBuilder(TeamSchema)
      .insert({ id: randomUUID(), organizationId: orgId, name: trimmed, nameKey: key, createdAt: new Date() })
      .onConflict(['organizationId', 'nameKey'])
      .ignore()
      .execute();
    return (await tx.findOneOrFail(TeamSchema, { organizationId: orgId, nameKey: key })).id;
  }
}

/** A concurrent request that added the same membership first (primary key) is `ALREADY_MEMBER`. */
async function alreadyMemberOnConflict<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw new AppError('ALREADY_MEMBER');
    throw err;
  }
}
