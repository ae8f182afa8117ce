/**
 * API keys (§3.10, §4.14): creation (shown once, only the SHA-256 stored), visibility,
 * deletion = immediate revocation, and resolution for the gateway. Membership and role checks go
 * to orgs over tRPC, never inside a transaction.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TRPCClient } from '@trpc/client';
import { AppError, notFound } from '../../kernel/errors.ts';
import { parseInput } from '../../kernel/input.ts';
import { sha256Hex } from '../../kernel/crypto.ts';
import { normaliseCidr } from '../../kernel/net.ts';
import { callInternal } from '../../kernel/trpc.ts';
import type { UserContext } from '../../kernel/authz.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import { API_KEY_REVOKED, type ApiKeyRevokedEvent } from '../../kernel/events.ts';
import type { OrgsRouter } from '../orgs/router.ts';
import { ApiKeySchema, type ApiKey } from './api-key.entity.ts';
import { UserSchema } from './user.entity.ts';

/** §1.4. */
export const API_SCOPES = [
  'conversations:read', 'conversations:write', 'rag:read', 'rag:write', 'quiz:read', 'quiz:write', 'live:read', 'live:write',
  'organizations:read', 'organizations:write', 'integrations:read', 'integrations:write', 'xel:read', 'xel:write',
  'api:read', 'api:write', 'api:admin',
] as const;

export const API_KEY_PATTERN = /^xntr-[A-Za-z0-9_-]{86}$/;

const createInput = z.object({
  name: z.string().min(1).max(100),
  organizationId: z.uuid(),
  scopes: z
    .array(z.enum(API_SCOPES))
    .min(1)
    .max(17)
    .refine((s) => new Set(s).size === s.length, 'Scopes must be unique'),
  allowedIps: z
    .array(z.string().refine((s) => normaliseCidr(s) !== null, 'Invalid IP address or CIDR block'))
    .max(50)
    .nullable()
    .optional(),
  expiresAt: z.date().nullable().optional(),
});

/** The raw input; validated here (unknown scopes → BAD_USER_INPUT). */
export interface CreateApiKeyInput {
  name: string;
  organizationId: string;
  scopes: string[];
  allowedIps?: string[] | null;
  expiresAt?: Date | null;
}

/** What the gateway needs to authenticate a key (it checks expiry and IP itself, per request). */
export interface ResolvedApiKey {
  id: string;
  userId: string;
  organizationId: string;
  scopes: string[];
  allowedIps: string[];
  expiresAt: string | null;
  role: 'user' | 'admin';
  plan: 'free' | 'pro';
  timezone: string;
}

export class ApiKeyService {
  constructor(
    private readonly orgs: TRPCClient<OrgsRouter>,
    private readonly pubsub: PubSub,
  ) {}

  /**
   * KEY-2. The full key is returned only here.
   * @throws BAD_USER_INPUT, NOT_FOUND (organization not visible), INVALID_EXPIRY
   */
  async create(em: EntityManager, auth: UserContext, raw: CreateApiKeyInput): Promise<{ apiKey: ApiKey; key: string }> {
    const input = parseInput(createInput, raw);
    const membership = await callInternal(this.orgs.membership.query({ organizationId: input.organizationId, userId: auth.userId }));
    if (!membership.exists || (membership.role === null && auth.role !== 'admin')) throw notFound('Organization');
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw new AppError('INVALID_EXPIRY');
    const key = `xntr-${randomBytes(64).toString('base64url')}`;
    const apiKey = em.create(ApiKeySchema, {
      id: randomUUID(),
      name: input.name,
      organizationId: input.organizationId,
      keyHash: sha256Hex(key),
      keyPrefix: key.slice(0, 12),
      scopes: input.scopes,
      allowedIps: [...new Set((input.allowedIps ?? []).map((ip) => normaliseCidr(ip) ?? ip))],
      expiresAt: input.expiresAt ?? null,
      createdBy: auth.userId,
      createdAt: new Date(),
      lastUsedAt: null,
    });
    await em.flush();
    return { apiKey, key };
  }

  /**
   * KEY-1: keys visible to the caller, newest first. Non-admins see their own keys plus every key
   * of organizations where they are owner/admin; platform admins see all.
   * @throws NOT_FOUND when `organizationId` names an organization the caller is not in
   */
  async list(em: EntityManager, auth: UserContext, organizationId: string | null | undefined): Promise<ApiKey[]> {
    const orderBy = { createdAt: 'desc', id: 'asc' } as const;
    if (organizationId !== undefined && organizationId !== null) {
      const m = z.uuid().safeParse(organizationId).success
        ? await callInternal(this.orgs.membership.query({ organizationId, userId: auth.userId }))
        : { exists: false, role: null };
      if (!m.exists || (m.role === null && auth.role !== 'admin')) throw notFound('Organization');
      const all = auth.role === 'admin' || m.role === 'owner' || m.role === 'admin';
      return em.find(ApiKeySchema, all ? { organizationId } : { organizationId, createdBy: auth.userId }, { orderBy });
    }
    if (auth.role === 'admin') return em.find(ApiKeySchema, {}, { orderBy });
    const managed = (await callInternal(this.orgs.membershipsOf.query({ userId: auth.userId })))
      .filter((m) => m.role === 'owner' || m.role === 'admin')
      .map((m) => m.organizationId);
    return em.find(ApiKeySchema, managed.length ? { $or: [{ createdBy: auth.userId }, { organizationId: { $in: managed } }] } : { createdBy: auth.userId }, { orderBy });
  }

  /**
   * KEY-3: deletes a visible key; the next request with it gets 401 `invalid_api_key`.
   * @throws NOT_FOUND (absent or not visible)
   */
  async delete(em: EntityManager, auth: UserContext, id: string): Promise<string> {
    const key = z.uuid().safeParse(id).success ? await em.findOne(ApiKeySchema, { id }) : null;
    if (!key) throw notFound('API key');
    if (key.createdBy !== auth.userId && auth.role !== 'admin') {
      const m = await callInternal(this.orgs.membership.query({ organizationId: key.organizationId, userId: auth.userId }));
      if (m.role !== 'owner' && m.role !== 'admin') throw notFound('API key');
    }
    await em.nativeDelete(ApiKeySchema, { id: key.id });
    await this.announce([key.id]);
    return key.id;
  }

  /** Deletes the keys of an organization, or of one member in it (removal, move, org deletion). */
  async deleteOf(em: EntityManager, organizationId: string, userId?: string): Promise<string[]> {
    const rows = await em.find(ApiKeySchema, userId ? { organizationId, createdBy: userId } : { organizationId }, { fields: ['id'] });
    const ids = rows.map((r) => r.id);
    if (ids.length === 0) return [];
    await em.nativeDelete(ApiKeySchema, { id: { $in: ids } });
    await this.announce(ids);
    return ids;
  }

  /** Looks a key up by its SHA-256 (format already checked by the caller); null when unknown. */
  async resolve(em: EntityManager, keyHash: string): Promise<ResolvedApiKey | null> {
    const key = await em.findOne(ApiKeySchema, { keyHash });
    if (!key) return null;
    const user = await em.findOne(UserSchema, { id: key.createdBy });
    if (!user) return null;
    return {
      id: key.id,
      userId: key.createdBy,
      organizationId: key.organizationId,
      scopes: key.scopes,
      allowedIps: key.allowedIps,
      expiresAt: key.expiresAt?.toISOString() ?? null,
      role: user.role,
      plan: user.plan,
      timezone: user.timezone,
    };
  }

  /** Records uses reported by gateways (batched), never moving `last_used_at` backwards. */
  async touch(em: EntityManager, uses: readonly { id: string; at: string }[]): Promise<void> {
    for (const use of uses) {
      const at = new Date(use.at);
      await em.nativeUpdate(ApiKeySchema, { id: use.id, $or: [{ lastUsedAt: null }, { lastUsedAt: { $lt: at } }] }, { lastUsedAt: at });
    }
  }

  private async announce(keyIds: string[]): Promise<void> {
    const event: ApiKeyRevokedEvent = { keyIds };
    await this.pubsub.publish(API_KEY_REVOKED, event);
  }
}
