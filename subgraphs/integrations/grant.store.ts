/** SQL for grants and revocations (§4.15): every statement takes the EntityManager it runs on, so a caller's transaction covers it. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { IntegrationClaims } from './token.ts';

/** A stored grant. */
export interface Grant {
  jti: string;
  tenantId: string;
  sub: string;
  scopes: string[];
  origin: string;
  mode: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** A stored revocation (`IntegrationRevocationItem`). */
export interface Revocation {
  jti: string;
  tenantId: string;
  reason: string;
  revokedAt: Date;
  revokedBy: string | null;
  expiresAt: Date;
  source: 'revoke' | 'rotate';
}

interface GrantRow {
  jti: string;
  tenant_id: string;
  sub: string;
  scopes: string;
  origin: string;
  mode: string;
  issued_at: Date | string;
  expires_at: Date | string;
}

interface RevocationRow {
  jti: string;
  tenant_id: string;
  reason: string;
  revoked_at: Date | string;
  revoked_by: string | null;
  expires_at: Date | string;
  source: 'revoke' | 'rotate';
}

const toGrant = (r: GrantRow): Grant => ({
  jti: r.jti,
  tenantId: r.tenant_id,
  sub: r.sub,
  scopes: JSON.parse(r.scopes) as string[],
  origin: r.origin,
  mode: r.mode,
  issuedAt: new Date(r.issued_at),
  expiresAt: new Date(r.expires_at),
});

const toRevocation = (r: RevocationRow): Revocation => ({
  jti: r.jti,
  tenantId: r.tenant_id,
  reason: r.reason,
  revokedAt: new Date(r.revoked_at),
  revokedBy: r.revoked_by,
  expiresAt: new Date(r.expires_at),
  source: r.source,
});

const REVOCATION_COLUMNS = `"jti", "tenant_id", "reason", "revoked_at", "revoked_by", "expires_at", "source"`;

function run<T>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  return em.getConnection().execute<T[]>(sql, params, 'all', em.getTransactionContext());
}

/** Records a grant for the claims of a token about to be handed out. */
export async function insertGrant(em: EntityManager, c: IntegrationClaims): Promise<void> {
  await run(
    em,
    `insert into "integrations"."grants" ("jti", "tenant_id", "sub", "scopes", "origin", "mode", "issued_at", "expires_at") values (?, ?, ?, ?, ?, ?, ?, ?)`,
    [c.jti, c.tid, c.sub, JSON.stringify(c.scopes), c.origin, c.mode, new Date(c.iat * 1000), new Date(c.exp * 1000)],
  );
}

/** The grant `jti` of the tenant, or null when this tenant never issued it. */
export async function findGrant(em: EntityManager, tenantId: string, jti: string): Promise<Grant | null> {
  const rows = await run<GrantRow>(em, `select * from "integrations"."grants" where "jti" = ? and "tenant_id" = ?`, [jti, tenantId]);
  return rows[0] ? toGrant(rows[0]) : null;
}

/** The revocation of `jti`, if any. */
export async function findRevocation(em: EntityManager, jti: string): Promise<Revocation | null> {
  const rows = await run<RevocationRow>(em, `select ${REVOCATION_COLUMNS} from "integrations"."revocations" where "jti" = ?`, [jti]);
  return rows[0] ? toRevocation(rows[0]) : null;
}

/**
 * Revokes a grant unless it already is; returns the revocation that stands and whether it is new.
 * A concurrent revocation of the same jti leaves exactly one record (the first).
 */
export async function revokeGrant(
  em: EntityManager,
  grant: Grant,
  opts: { reason: string; revokedBy: string | null; source: 'revoke' | 'rotate' },
): Promise<{ revocation: Revocation; created: boolean }> {
  const inserted = await run<RevocationRow>(
    em,
    `insert into "integrations"."revocations" (${REVOCATION_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?)
     on conflict ("jti") do nothing returning ${REVOCATION_COLUMNS}`,
    [grant.jti, grant.tenantId, opts.reason, new Date(), opts.revokedBy, grant.expiresAt, opts.source],
  );
  if (inserted[0]) return { revocation: toRevocation(inserted[0]), created: true };
  const existing = await findRevocation(em, grant.jti);
  if (!existing) throw new Error('Revocation vanished after a conflicting insert');
  return { revocation: existing, created: false };
}

/** INT-7's page: newest first, ties by jti. */
export async function listRevocations(
  em: EntityManager,
  filter: { tenantId: string | null; since: Date | null; limit: number; offset: number },
): Promise<{ items: Revocation[]; total: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.tenantId) {
    where.push(`"tenant_id" = ?`);
    params.push(filter.tenantId);
  }
  if (filter.since) {
    where.push(`"revoked_at" >= ?`);
    params.push(filter.since);
  }
  const clause = where.length ? `where ${where.join(' and ')}` : '';
  const [count] = await run<{ n: string | number }>(em, `select count(*) as n from "integrations"."revocations" ${clause}`, params);
  const rows = await run<RevocationRow>(
    em,
    `select ${REVOCATION_COLUMNS} from "integrations"."revocations" ${clause} order by "revoked_at" desc, "jti" asc limit ? offset ?`,
    [...params, filter.limit, filter.offset],
  );
  return { items: rows.map(toRevocation), total: Number(count?.n ?? 0) };
}
