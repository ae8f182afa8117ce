/** The response bodies of the Organizations area (§3.4) and of List tenants (KEY-4, §3.10). */
import { page, r, response } from '../../response.ts';

const role = r.lower({ type: 'string', enum: ['owner', 'admin', 'member'] });
/** The caller's role, null for a platform admin outside the organization. */
const roleOrNull = r.lower({ type: ['string', 'null'], enum: ['owner', 'admin', 'member', null] });

/** A `Team` of an organization. */
export const TeamSummary = response('TeamSummary', { id: r.uuid(), name: r.str(), member_count: r.int() });

/** An `Organization`, from the `OrganizationResponseFields` fragment. */
export const OrganizationResponse = response('OrganizationResponse', {
  id: r.uuid(),
  name: r.str(),
  slug: r.str(),
  description: r.strOrNull(),
  my_role: roleOrNull,
  member_count: r.int(),
  teams: r.list(TeamSummary),
  created_at: r.dateTime(),
  updated_at: r.dateTime(),
});

/** A `Member`, from the `MemberResponseFields` fragment. */
export const MemberResponse = response('MemberResponse', {
  user_id: r.uuid(),
  organization_id: r.uuid(),
  username: r.str(),
  full_name: r.strOrNull(),
  email: r.str(),
  role,
  team_id: r.uuidOrNull(),
  team_name: r.strOrNull(),
  joined_at: r.dateTime(),
});

export const MemberListResponse = page('MemberListResponse', MemberResponse);

/** A `Tenant`: an organization the caller may create API keys for. */
export const TenantResponse = response('TenantResponse', { id: r.uuid(), name: r.str(), slug: r.str(), role: roleOrNull, can_view_all_keys: r.bool() });
