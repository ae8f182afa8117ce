/** Organizations, memberships and teams (§3.4, §4.13). */
import { EntitySchema } from '@mikro-orm/postgresql';

export type OrgRole = 'owner' | 'admin' | 'member';

export interface Organization {
  id: string;
  name: string;
  slug: string;
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Membership {
  organizationId: string;
  userId: string;
  role: OrgRole;
  teamId: string | null;
  joinedAt: Date;
}

export interface Team {
  id: string;
  organizationId: string;
  name: string;
  /** Lowercased name: teams are matched case-insensitively within an organization. */
  nameKey: string;
  createdAt: Date;
}

export const OrganizationSchema = new EntitySchema<Organization>({
  name: 'Organization',
  tableName: 'organizations',
  properties: {
    id: { type: 'uuid', primary: true },
    name: { type: 'string' },
    slug: { type: 'string', unique: true },
    description: { type: 'string', nullable: true },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    updatedAt: { type: 'Date', fieldName: 'updated_at' },
  },
});

export const MembershipSchema = new EntitySchema<Membership>({
  name: 'Membership',
  tableName: 'memberships',
  properties: {
    organizationId: { type: 'uuid', primary: true, fieldName: 'organization_id' },
    userId: { type: 'uuid', primary: true, fieldName: 'user_id' },
    role: { type: 'string' },
    teamId: { type: 'uuid', nullable: true, fieldName: 'team_id' },
    joinedAt: { type: 'Date', fieldName: 'joined_at' },
  },
});

export const TeamSchema = new EntitySchema<Team>({
  name: 'Team',
  tableName: 'teams',
  properties: {
    id: { type: 'uuid', primary: true },
    organizationId: { type: 'uuid', fieldName: 'organization_id' },
    name: { type: 'string' },
    nameKey: { type: 'string', fieldName: 'name_key' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
  },
});
