/**
 * Per-request DataLoaders: one SQL statement per entity type per request, whatever the number
 * of organizations or members in the result (no N+1).
 */
import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { MembershipSchema, OrganizationSchema, TeamSchema, type Membership, type Organization, type OrgRole } from './organization.entity.ts';
import type { IdentityGateway, UserSummary } from './identity.client.ts';

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
  user: DataLoader<string, UserSummary | null>;
  teamName: DataLoader<string, string | null>;
}

export function createLoaders(em: EntityManager, callerId: string | null, identity: IdentityGateway): OrgsLoaders {
  const conn = () => em.getConnection();
  return {
    orgById: new DataLoader(async (ids) => {
      const rows = await em.find(OrganizationSchema, { id: { $in: [...ids] } });
      const byId = new Map(rows.map((o) => [o.id, o]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    memberCount: new DataLoader(async (orgIds) => {
      const rows = await conn().execute<{ organization_id: string; n: string }[]>(
        `select organization_id, count(*) as n from "orgs"."memberships" where organization_id in (${orgIds.map(() => '?').join(',')}) group by organization_id`,
        [...orgIds],
      );
      const byId = new Map(rows.map((r) => [r.organization_id, Number(r.n)]));
      return orgIds.map((id) => byId.get(id) ?? 0);
    }),
    teams: new DataLoader(async (orgIds) => {
      const rows = await conn().execute<{ id: string; organization_id: string; name: string; n: string }[]>(
        `select t.id, t.organization_id, t.name, count(m.user_id) as n
           from "orgs"."teams" t left join "orgs"."memberships" m on m.team_id = t.id
          where t.organization_id in (${orgIds.map(() => '?').join(',')})
          group by t.id, t.organization_id, t.name
          order by t.name asc, t.id asc`,
        [...orgIds],
      );
      return orgIds.map((id) => rows.filter((r) => r.organization_id === id).map((r) => ({ id: r.id, name: r.name, memberCount: Number(r.n) })));
    }),
    callerRole: new DataLoader(async (orgIds) => {
      if (!callerId) return orgIds.map(() => null);
      const rows = await em.find(MembershipSchema, { userId: callerId, organizationId: { $in: [...orgIds] } });
      const byId = new Map(rows.map((m) => [m.organizationId, m.role]));
      return orgIds.map((id) => byId.get(id) ?? null);
    }),
    membershipsOfUser: new DataLoader(async (userIds) => {
      const rows = await em.find(MembershipSchema, { userId: { $in: [...userIds] } });
      return userIds.map((id) => rows.filter((m) => m.userId === id));
    }),
    user: new DataLoader((ids) => identity.usersByIds(ids), { maxBatchSize: 1000 }),
    teamName: new DataLoader(async (ids) => {
      const rows = await em.find(TeamSchema, { id: { $in: [...ids] } });
      const byId = new Map(rows.map((t) => [t.id, t.name]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}

