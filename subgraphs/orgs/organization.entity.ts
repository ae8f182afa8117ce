/** Organizations, memberships and teams (§3.4, §4.13). */
import { createdAt, entitySchema, timestamps, uuidId } from '../../kernel/entity-schema.ts';

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

export const OrganizationSchema = entitySchema<Organization>('Organization', 'organizations', {
  ...uuidId(),
  name: { type: 'string' },
  slug: { type: 'string', unique: true },
  description: { type: 'string', nullable: true },
  ...timestamps(),
});

export const MembershipSchema = entitySchema<Membership>('Membership', 'memberships', {
  organizationId: { type: 'uuid', primary: true, fieldName: 'organization_id' },
  userId: { type: 'uuid', primary: true, fieldName: 'user_id' },
  role: { type: 'string' },
  teamId: { type: 'uuid', nullable: true, fieldName: 'team_id' },
  joinedAt: { type: 'Date', fieldName: 'joined_at' },
});

export const TeamSchema = entitySchema<Team>('Team', 'teams', {
  ...uuidId(),
  organizationId: { type: 'uuid', fieldName: 'organization_id' },
  name: { type: 'string' },
  nameKey: { type: 'string', fieldName: 'name_key' },
  ...createdAt(),
});
