/**
 * Per-request DataLoaders: one SQL statement per entity type per request, whatever the number
 * of organizations or members in the result (no N+1). They read plain rows (GraphQL only reads
 * them; hydrating managed entities was most of orgs' CPU on a short query), so any
 * EntityManager's connection does and the request needs no fork for them.
 */
import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Membership, Organization, OrgRole } from './organization.entity.ts';
import type { IdentityGateway, UserSummary } from './identity.client.ts';
import type { MemberPage, MemberPageInput } from './member.service.ts';
import type { OrgReads } from './organization.service.ts';

export interface TeamWithCount {
  id: string;
  name: string;
  memberCount: number;
}

export interface OrgsLoaders {
  orgById: DataLoader<string, Organization | null>;
  memberCount: DataLoader<string, number>;
  teams: DataLoader<string, TeamWithCount[]>;
  /** The caller's role per organization (null when not a member). */
  callerRole: DataLoader<string, OrgRole | null>;
  membershipsOfUser: DataLoader<string, Membership[]>;
  /**
   * A user's organizations, by membership, in one statement with the memberships; what it reads
   * also fills membershipsOfUser and orgById, so that the organizations' `members` (which check
   * the caller's access through both) need no statement of their own, and for the caller's own
   * organizations callerRole (their `myRole`).
   */
  organizationsOfUser: DataLoader<string, { membership: Membership; org: Organization }[]>;
  user: DataLoader<string, UserSummary | null>;
  teamName: DataLoader<string, string | null>;
  /** A page of an organization's members, as `MemberService.page` answers it (access not checked here). */
  memberPage: DataLoader<MemberPageInput & { orgId: string }, MemberPage, string>;
}

type Rows = Pick<EntityManager, 'getConnection'>;

const placeholders = (values: readonly unknown[]) => values.map(() => '?').join(',');

/** Epoch milliseconds (the driver answers timestamps as strings on PostgreSQL, Dates on PGlite). */
const toDate = (ms: string | number) => new Date(Math.round(Number(ms)));

interface OrgRow {
  id: string;
  name: string;
  slug: string;
  description: string | null;
  created_at: string | number;
  updated_at: string | number;
}

interface MembershipRow {
  organization_id: string;
  user_id: string;
  role: OrgRole;
  team_id: string | null;
  joined_at: string | number;
}

/** The columns a MembershipRow reads, from the memberships table under `alias`. */
const membershipColumns = (alias: string) =>
  `${alias}.organization_id, ${alias}.user_id, ${alias}.role, ${alias}.team_id, extract(epoch from ${alias}.joined_at) * 1000 as joined_at`;

/** The columns an OrgRow reads, from the organizations table under `alias`. */
const orgColumns = (alias: string) =>
  `${alias}.id, ${alias}.name, ${alias}.slug, ${alias}.description, extract(epoch from ${alias}.created_at) * 1000 as created_at, extract(epoch from ${alias}.updated_at) * 1000 as updated_at`;

const toOrganization = (o: OrgRow): Organization => ({ id: o.id, name: o.name, slug: o.slug, description: o.description, createdAt: toDate(o.created_at), updatedAt: toDate(o.updated_at) });

const toMembership = (r: MembershipRow): Membership => ({ organizationId: r.organization_id, userId: r.user_id, role: r.role, teamId: r.team_id, joinedAt: toDate(r.joined_at) });

/** `rows`: plain-row statements only, so the root EntityManager does (no fork). */
export function createLoaders(rows: Rows, callerId: string | null, identity: IdentityGateway): OrgsLoaders {
  const conn = () => rows.getConnection();
  const loaders: OrgsLoaders = {
    orgById: new DataLoader(async (ids) => {
      const found = await conn().execute<OrgRow[]>(`select ${orgColumns('o')} from "orgs"."organizations" o where o.id in (${placeholders(ids)})`, [...ids]);
      const byId = new Map(found.map((o): [string, Organization] => [o.id, toOrganization(o)]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    memberCount: new DataLoader(async (orgIds) => {
      const found = await conn().execute<{ organization_id: string; n: string }[]>(
        `select organization_id, count(*) as n from "orgs"."memberships" where organization_id in (${placeholders(orgIds)}) group by organization_id`,
        [...orgIds],
      );
      const byId = new Map(found.map((r) => [r.organization_id, Number(r.n)]));
      return orgIds.map((id) => byId.get(id) ?? 0);
    }),
    teams: new DataLoader(async (orgIds) => {
      const found = await conn().execute<{ id: string; organization_id: string; name: string; n: string }[]>(
        `select t.id, t.organization_id, t.name, count(m.user_id) as n
           from "orgs"."teams" t left join "orgs"."memberships" m on m.team_id = t.id
          where t.organization_id in (${placeholders(orgIds)})
          group by t.id, t.organization_id, t.name
          order by t.name asc, t.id asc`,
        [...orgIds],
      );
      return orgIds.map((id) => found.filter((r) => r.organization_id === id).map((r) => ({ id: r.id, name: r.name, memberCount: Number(r.n) })));
    }),
    callerRole: new DataLoader(async (orgIds) => {
      if (!callerId) return orgIds.map(() => null);
      const found = await conn().execute<{ organization_id: string; role: OrgRole }[]>(
        `select organization_id, role from "orgs"."memberships" where user_id = ? and organization_id in (${placeholders(orgIds)})`,
        [callerId, ...orgIds],
      );
      const byId = new Map(found.map((m) => [m.organization_id, m.role]));
      return orgIds.map((id) => byId.get(id) ?? null);
    }),
    membershipsOfUser: new DataLoader(async (userIds) => {
      const found = (await conn().execute<MembershipRow[]>(`select ${membershipColumns('m')} from "orgs"."memberships" m where m.user_id in (${placeholders(userIds)})`, [...userIds])).map(toMembership);
      return userIds.map((id) => found.filter((m) => m.userId === id));
    }),
    organizationsOfUser: new DataLoader(async (userIds) => {
      const found = await conn().execute<(MembershipRow & OrgRow)[]>(
        `select ${membershipColumns('m')}, ${orgColumns('o')}
           from "orgs"."memberships" m join "orgs"."organizations" o on o.id = m.organization_id
          where m.user_id in (${placeholders(userIds)})`,
        [...userIds],
      );
      const rows = found.map((r) => ({ membership: toMembership(r), org: toOrganization(r) }));
      for (const { org } of rows) loaders.orgById.prime(org.id, org);
      return userIds.map((id) => {
        const mine = rows.filter((r) => r.membership.userId === id);
        loaders.membershipsOfUser.prime(id, mine.map((r) => r.membership));
        if (id === callerId) for (const { membership } of mine) loaders.callerRole.prime(membership.organizationId, membership.role);
        return mine;
      });
    }),
    user: new DataLoader((ids) => identity.usersByIds(ids), { maxBatchSize: 1000 }),
    teamName: new DataLoader(async (ids) => {
      const found = await conn().execute<{ id: string; name: string }[]>(`select id, name from "orgs"."teams" where id in (${placeholders(ids)})`, [...ids]);
      const byId = new Map(found.map((t) => [t.id, t.name]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    memberPage: new DataLoader((keys) => memberPages(rows, keys), { cacheKeyFn: (k) => JSON.stringify([k.orgId, k.limit, k.offset, k.role ?? null, k.teamId ?? null]) }),
  };
  return loaders;
}

/** Empties every loader's cache (after a write: the next read must see it). */
export function forgetAll(loaders: OrgsLoaders): void {
  for (const loader of Object.values(loaders)) loader.clearAll();
}

/** OrgReads through the loaders: an organization or membership the request already read costs nothing more. */
export function loaderReads(loaders: OrgsLoaders): OrgReads {
  return {
    org: (id) => loaders.orgById.load(id),
    orgsOf: async (userId) => (await loaders.organizationsOfUser.load(userId)).map((m) => m.org),
    membership: async (orgId, userId) => (await loaders.membershipsOfUser.load(userId)).find((m) => m.organizationId === orgId) ?? null,
  };
}

interface MemberRow {
  organization_id: string;
  user_id: string;
  role: OrgRole;
  team_id: string | null;
  /** Epoch milliseconds (the driver answers timestamps as strings on PostgreSQL, Dates on PGlite). */
  joined_at: string | number;
  total: string;
  n: string;
}

/**
 * The pages of several organizations' members in one statement per distinct filter (a query
 * asking for the members of each of a user's organizations sends one, not two per organization),
 * as plain rows: the same order (`joinedAt`, then user id), page and total as `MemberService.page`.
 */
async function memberPages(rows: Rows, keys: readonly (MemberPageInput & { orgId: string })[]): Promise<MemberPage[]> {
  const groups = new Map<string, (MemberPageInput & { orgId: string })[]>();
  for (const k of keys) {
    const filter = JSON.stringify([k.limit, k.offset, k.role ?? null, k.teamId ?? null]);
    groups.set(filter, [...(groups.get(filter) ?? []), k]);
  }
  const pages = new Map<MemberPageInput & { orgId: string }, MemberPage>();
  for (const group of groups.values()) {
    const { limit, offset, role, teamId } = group[0] as MemberPageInput;
    const orgIds = [...new Set(group.map((k) => k.orgId))];
    const params: unknown[] = [...orgIds, ...(role ? [role] : []), ...(teamId ? [teamId] : []), offset, offset + limit];
    // Row 1 of each organization always comes back, so a page past the end still knows its total.
    const found = await rows.getConnection().execute<MemberRow[]>(
      `select organization_id, user_id, role, team_id, extract(epoch from joined_at) * 1000 as joined_at, total, n from (
         select organization_id, user_id, role, team_id, joined_at,
                count(*) over (partition by organization_id) as total,
                row_number() over (partition by organization_id order by joined_at asc, user_id asc) as n
           from "orgs"."memberships"
          where organization_id in (${orgIds.map(() => '?').join(',')})${role ? ' and role = ?' : ''}${teamId ? ' and team_id = ?' : ''}
       ) numbered
       where (n > ? and n <= ?) or n = 1
       order by organization_id, n`,
      params,
    );
    for (const k of group) {
      const mine = found.filter((r) => r.organization_id === k.orgId);
      const items = mine
        .filter((r) => Number(r.n) > offset && Number(r.n) <= offset + limit)
        .map((r) => ({ organizationId: r.organization_id, userId: r.user_id, role: r.role, teamId: r.team_id, joinedAt: toDate(r.joined_at) }));
      pages.set(k, { items, total: Number(mine[0]?.total ?? 0), limit, offset });
    }
  }
  return keys.map((k) => pages.get(k) ?? { items: [], total: 0, limit: k.limit, offset: k.offset });
}

