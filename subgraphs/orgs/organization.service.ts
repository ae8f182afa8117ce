/**
 * Organizations (§3.4, §4.13): visibility, tenancy, slugs, create/update/delete and the
 * tenants an API key may be created for. Membership rules live in member.service.ts.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../../kernel/errors.ts';
import { isUuid, parseInput, type Unparsed } from '../../kernel/input.ts';
import type { UserContext } from '../../kernel/authz.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import { ORGANIZATION_CREATED, ORGANIZATION_DELETED, type OrganizationCreatedEvent, type OrganizationDeletedEvent } from '../../kernel/events.ts';
import { MembershipSchema, OrganizationSchema, type Membership, type OrgRole, type Organization } from './organization.entity.ts';
import { deleteOrganization, enforce, updateOrganization } from './role.policy.ts';
import type { IdentityGateway } from './identity.client.ts';

const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const createInput = z.object({
  name: z.string().min(1).max(100),
  slug: z.string().min(3).max(50).regex(SLUG).nullable().optional(),
  description: z.string().max(500).nullable().optional(),
});
const updateInput = z.object({
  name: z.string().min(1).max(100).optional(),
  slug: z.string().min(3).max(50).regex(SLUG).optional(),
  description: z.string().max(500).nullable().optional(),
});

/** What an operation on one organization may rely on once access is established. */
export interface OrgAccess {
  org: Organization;
  /** The caller's effective role: their membership role, or `owner` for a platform admin. */
  role: OrgRole;
  membership: Membership | null;
}

/**
 * Where the read paths find organizations and memberships: the request's per-request loaders,
 * which read plain rows once per request (the cross-subgraph query then checks each
 * organization's `members` against rows it already has, with no statement and no entity).
 */
export interface OrgReads extends AccessReads {
  /** The organizations the user is a member of, in any order. */
  orgsOf(userId: string): Promise<Organization[]>;
}

/**
 * What an access check reads: by default through the request's EntityManager (managed entities,
 * as writes need), on GraphQL reads through the loaders (OrgReads).
 */
export interface AccessReads {
  org(id: string): Promise<Organization | null>;
  membership(orgId: string, userId: string): Promise<Membership | null>;
}

/** AccessReads through an EntityManager (its identity map answers repeated lookups). */
export function entityReads(em: EntityManager): AccessReads {
  return {
    org: (id) => em.findOne(OrganizationSchema, { id }),
    membership: (organizationId, userId) => em.findOne(MembershipSchema, { organizationId, userId }),
  };
}

/** Code-point order, as the SQL `order by name, id` sorts under the C collation. */
export function byNameThenId(a: Organization, b: Organization): number {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return cmp(a.name, b.name) || cmp(a.id, b.id);
}

/** §4.13 slug derivation (without the collision suffix). */
export function deriveSlug(name: string): string {
  let slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50).replace(/-+$/, '');
  if (slug.length < 3) slug = slug ? `${slug}-org` : 'org';
  return slug;
}

function withSuffix(base: string, n: number): string {
  if (n < 2) return base;
  const suffix = `-${n}`;
  return `${base.slice(0, 50 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

export class OrganizationService {
  constructor(
    private readonly identity: IdentityGateway,
    private readonly pubsub: PubSub,
  ) {}

  /**
   * Resolves the caller's access to an organization (§1.5 step 6).
   * @throws NOT_FOUND (missing, or not visible), TENANT_MISMATCH (API key of another organization)
   */
  async access(em: EntityManager, auth: UserContext, orgId: string, reads: AccessReads = entityReads(em)): Promise<OrgAccess> {
    const org = isUuid(orgId) ? await reads.org(orgId) : null;
    if (!org) throw notFound('Organization');
    if (auth.mode === 'api_key' && auth.tenantId !== org.id) throw new AppError('TENANT_MISMATCH');
    const membership = await reads.membership(org.id, auth.userId);
    if (auth.role === 'admin') return { org, role: 'owner', membership };
    if (!membership) throw notFound('Organization');
    return { org, role: membership.role, membership };
  }

  /**
   * ORG-1: the organizations of `userId` (by default the caller) by name. An API key sees only
   * its own organization: otherwise a key would reveal its creator's other organizations.
   */
  async list(auth: UserContext, reads: Pick<OrgReads, 'orgsOf'>, userId = auth.userId): Promise<Organization[]> {
    const mine = await reads.orgsOf(userId);
    const visible = auth.mode === 'api_key' ? mine.filter((o) => o.id === auth.tenantId) : mine;
    // Code-point order, as SQL `order by name, id` sorts under the C collation; a locale-aware
    // compare would list mixed-case names differently.
    return visible.sort(byNameThenId);
  }

  /** ORG-3 (null when absent or invisible, so REST renders 404 and GraphQL null). */
  async get(em: EntityManager, auth: UserContext, id: string, reads?: AccessReads): Promise<Organization | null> {
    try {
      return (await this.access(em, auth, id, reads)).org;
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  /**
   * ORG-2: creates the organization with the caller as owner, in one transaction.
   * @throws BAD_USER_INPUT, SLUG_TAKEN (explicit slug in use)
   */
  async create(em: EntityManager, auth: UserContext, raw: z.input<typeof createInput>): Promise<Organization> {
    const input = parseInput(createInput, raw);
    const base = input.slug ?? deriveSlug(input.name);
    for (let n = 1; n < 1000; n += 1) {
      const slug = input.slug ? base : withSuffix(base, n);
      if (!input.slug && (await em.count(OrganizationSchema, { slug }))) continue;
      try {
        const created = await em.fork().transactional(async (tx) => {
          const now = new Date();
          const org = tx.create(OrganizationSchema, { id: randomUUID(), name: input.name, slug, description: input.description ?? null, createdAt: now, updatedAt: now });
          await tx.flush();
          tx.create(MembershipSchema, { organizationId: org.id, userId: auth.userId, role: 'owner', teamId: null, joinedAt: now });
          return org;
        });
        const event: OrganizationCreatedEvent = { organizationId: created.id };
        await this.pubsub.publish(ORGANIZATION_CREATED, event);
        return created;
      } catch (err) {
        if (!(err instanceof UniqueConstraintViolationException)) throw err;
        if (input.slug) throw new AppError('SLUG_TAKEN');
        // A concurrent create took the derived slug: try the next suffix.
      }
    }
    throw new AppError('SLUG_TAKEN');
  }

  /**
   * ORG-4 (owner or admin). An empty input is a no-op.
   * @throws NOT_FOUND, TENANT_MISMATCH, INSUFFICIENT_ROLE, SLUG_TAKEN, BAD_USER_INPUT
   */
  async update(em: EntityManager, auth: UserContext, id: string, raw: Unparsed<z.input<typeof updateInput>>): Promise<Organization> {
    const input = parseInput(updateInput, raw);
    const { org, role } = await this.access(em, auth, id);
    enforce(updateOrganization(role));
    let changed = false;
    if (input.name !== undefined && input.name !== org.name) {
      org.name = input.name;
      changed = true;
    }
    if (input.description !== undefined && input.description !== org.description) {
      org.description = input.description;
      changed = true;
    }
    if (input.slug !== undefined && input.slug !== org.slug) {
      if (await em.count(OrganizationSchema, { slug: input.slug })) throw new AppError('SLUG_TAKEN');
      org.slug = input.slug;
      changed = true;
    }
    if (changed) org.updatedAt = new Date();
    try {
      await em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new AppError('SLUG_TAKEN');
      throw err;
    }
    return org;
  }

  /**
   * ORG-5 (owner): removes memberships and teams in one transaction, then (outside it) the API keys
   * of the organization (their ids go to `onKeysRevoked`), and announces the deletion so other
   * services un-share or drop their data.
   * @throws NOT_FOUND, TENANT_MISMATCH, INSUFFICIENT_ROLE
   */
  async delete(em: EntityManager, auth: UserContext, id: string, onKeysRevoked: (keyIds: string[]) => void = () => {}): Promise<string> {
    const { org, role } = await this.access(em, auth, id);
    enforce(deleteOrganization(role));
    await em.transactional(async (tx) => {
      await tx.nativeDelete(OrganizationSchema, { id: org.id });
    });
    onKeysRevoked(await this.identity.deleteApiKeysOfOrganization(org.id));
    const event: OrganizationDeletedEvent = { organizationId: org.id };
    await this.pubsub.publish(ORGANIZATION_DELETED, event);
    return org.id;
  }

  /** KEY-4: organizations where the caller may create keys, by name (all for a platform admin). */
  async tenants(em: EntityManager, auth: UserContext): Promise<{ org: Organization; role: OrgRole | null; canViewAllKeys: boolean }[]> {
    const memberships = await em.find(MembershipSchema, { userId: auth.userId });
    const roleOf = new Map(memberships.map((m) => [m.organizationId, m.role]));
    const orgs =
      auth.role === 'admin'
        ? await em.find(OrganizationSchema, {}, { orderBy: { name: 'asc', id: 'asc' } })
        : roleOf.size
          ? await em.find(OrganizationSchema, { id: { $in: [...roleOf.keys()] } }, { orderBy: { name: 'asc', id: 'asc' } })
          : [];
    return orgs.map((org) => {
      const role = roleOf.get(org.id) ?? null;
      return { org, role, canViewAllKeys: auth.role === 'admin' || role === 'owner' || role === 'admin' };
    });
  }
}
