/**
 * The permission matrix of §4.13 as pure functions. Each returns null when the action is
 * allowed, otherwise the lowest role that would have been allowed (the 403's `required_role`).
 */
import { AppError } from '../../kernel/errors.ts';
import type { OrgRole } from './organization.entity.ts';

const RANK: Record<OrgRole, number> = { member: 1, admin: 2, owner: 3 };

export function atLeast(role: OrgRole | null, needed: OrgRole): boolean {
  return role !== null && RANK[role] >= RANK[needed];
}

/** @throws INSUFFICIENT_ROLE with `required_role` when `denied` names a role. */
export function enforce(denied: OrgRole | null): void {
  if (denied) throw new AppError('INSUFFICIENT_ROLE', { extras: { required_role: denied } });
}

/** ORG-4 update needs admin; ORG-5 delete needs owner. */
export const updateOrganization = (caller: OrgRole): OrgRole | null => (atLeast(caller, 'admin') ? null : 'admin');
export const deleteOrganization = (caller: OrgRole): OrgRole | null => (atLeast(caller, 'owner') ? null : 'owner');

/** ORG-7: adding as member/admin needs admin; adding as owner needs owner. */
export function addMember(caller: OrgRole, role: OrgRole): OrgRole | null {
  const needed: OrgRole = role === 'owner' ? 'owner' : 'admin';
  return atLeast(caller, needed) ? null : needed;
}

/**
 * ORG-8/9 role or team changes. A `member` target (to member/admin) needs admin; an admin/owner
 * target needs owner, except an admin demoting themselves to member; granting owner needs owner.
 */
export function changeMember(caller: OrgRole, self: boolean, target: OrgRole, newRole: OrgRole): OrgRole | null {
  if (newRole === 'owner' && target !== 'owner') return atLeast(caller, 'owner') ? null : 'owner';
  if (target === 'member') return atLeast(caller, 'admin') ? null : 'admin';
  if (caller === 'owner') return null;
  if (caller === 'admin' && self && target === 'admin' && newRole === 'member') return null;
  return 'owner';
}

/** ORG-10: owners remove anyone; admins remove members and themselves; members only themselves. */
export function removeMember(caller: OrgRole, self: boolean, target: OrgRole): OrgRole | null {
  if (caller === 'owner') return null;
  if (target === 'member') return caller === 'admin' || self ? null : 'admin';
  if (target === 'admin') return caller === 'admin' && self ? null : 'owner';
  return 'owner';
}
