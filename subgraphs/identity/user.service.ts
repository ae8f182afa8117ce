/**
 * Accounts: registration, the current user's profile and lookups for other services
 * (§3.1, §4.1). Validation here covers GraphQL and tRPC callers; REST validates first.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../kernel/errors.ts';
import { parseInput, type Unparsed } from '../../kernel/input.ts';
import type { UserContext } from '../../kernel/authz.ts';
import { UserSchema, type User } from './user.entity.ts';
import type { PasswordHasher } from './password.hasher.ts';

const USERNAME = /^[a-z0-9_]{3,30}$/;
const LANGUAGE = /^[a-z]{2}(-[A-Z]{2})?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** IANA zone names accepted by this runtime, plus `UTC`. */
export function isIanaZone(zone: string): boolean {
  if (zone === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone.includes('/') || Intl.supportedValuesOf('timeZone').includes(zone);
  } catch {
    return false;
  }
}

const username = z.string().transform((s) => s.toLowerCase()).pipe(z.string().regex(USERNAME));
const timezone = z.string().refine(isIanaZone, 'Unknown time zone');
const fullName = z.string().min(1).max(100).nullable();

const registerInput = z.object({
  email: z.string().max(254).regex(EMAIL, 'Invalid email address').transform((s) => s.toLowerCase()),
  username,
  password: z.string().min(8).max(128),
  fullName: fullName.optional(),
  timezone: timezone.optional(),
  preferredLanguage: z.string().regex(LANGUAGE).optional(),
});

const updateInput = z.object({
  fullName: fullName.optional(),
  username: username.optional(),
  timezone: timezone.optional(),
  preferredLanguage: z.string().regex(LANGUAGE).optional(),
  avatarUrl: z.string().max(2048).url().startsWith('https://').nullable().optional(),
  publicProfileEnabled: z.boolean().optional(),
});

export type RegisterInput = Unparsed<z.input<typeof registerInput>>;
export type UpdateMeInput = Unparsed<z.input<typeof updateInput>>;

/** Public fields of a user for other services (never the password hash). */
export interface UserSummary {
  id: string;
  email: string;
  username: string;
  fullName: string | null;
  avatarUrl: string | null;
  timezone: string;
  plan: string;
  role: string;
  publicProfileEnabled: boolean;
  liveNickname: string | null;
  createdAt: string;
}

export function toSummary(u: User): UserSummary {
  return {
    id: u.id,
    email: u.email,
    username: u.username,
    fullName: u.fullName,
    avatarUrl: u.avatarUrl,
    timezone: u.timezone,
    plan: u.plan,
    role: u.role,
    publicProfileEnabled: u.publicProfileEnabled,
    liveNickname: u.liveNickname,
    createdAt: u.createdAt.toISOString(),
  };
}

function conflictOf(err: unknown): AppError | null {
  if (!(err instanceof UniqueConstraintViolationException)) return null;
  const text = err.message;
  if (text.includes('users_email_unique')) return new AppError('EMAIL_TAKEN');
  if (text.includes('users_username_unique')) return new AppError('USERNAME_TAKEN');
  return null;
}

const UUID = z.uuid();

/**
 * Every column of `identity.users` under its `User` property name, from UserSchema's mapping.
 * Timestamps come as epoch milliseconds: the driver MikroORM configures answers them as strings
 * on PostgreSQL and as Dates on PGlite; `toDates` makes them Dates.
 */
const USER_PROPS = Object.entries(UserSchema.meta.properties).map(([name, prop]) => ({
  name,
  column: 'fieldName' in prop && typeof prop.fieldName === 'string' ? prop.fieldName : name,
  date: prop.type === 'Date',
}));
const USER_COLUMNS = USER_PROPS.map(({ name, column, date }) => (date ? `extract(epoch from "${column}") * 1000 as "${name}"` : `"${column}" as "${name}"`)).join(', ');

/** The row with its timestamps (epoch milliseconds, as numbers or numeric strings) as Dates. */
function toDates(row: User): User {
  return { ...row, createdAt: new Date(Math.round(Number(row.createdAt))), updatedAt: new Date(Math.round(Number(row.updatedAt))) };
}

export class UserService {
  constructor(
    private readonly hasher: PasswordHasher,
    private readonly adminEmails: readonly string[],
  ) {}

  /**
   * Creates an account (plan `free`; role `admin` only for XENTREE_ADMIN_EMAILS).
   * @throws BAD_USER_INPUT, EMAIL_TAKEN, USERNAME_TAKEN
   */
  async register(em: EntityManager, raw: RegisterInput): Promise<User> {
    const input = parseInput(registerInput, raw);
    // Checked up front so the slow hash is skipped for duplicates; the unique constraints still
    // decide under concurrency.
    if (await em.count(UserSchema, { email: input.email })) throw new AppError('EMAIL_TAKEN');
    if (await em.count(UserSchema, { username: input.username })) throw new AppError('USERNAME_TAKEN');
    const passwordHash = await this.hasher.hash(input.password);
    const now = new Date();
    const user = em.create(UserSchema, {
      id: randomUUID(),
      email: input.email,
      username: input.username,
      passwordHash,
      fullName: input.fullName ?? null,
      timezone: input.timezone ?? 'UTC',
      preferredLanguage: input.preferredLanguage ?? 'en',
      avatarUrl: null,
      liveNickname: null,
      plan: 'free',
      role: this.adminEmails.includes(input.email) ? 'admin' : 'user',
      publicProfileEnabled: true,
      createdAt: now,
      updatedAt: now,
    });
    try {
      await em.flush();
    } catch (err) {
      throw conflictOf(err) ?? err;
    }
    return user;
  }

  /**
   * The caller's account to read (a plain row; `me` gives the managed entity to change), through
   * any EntityManager's connection: a request's fork is not needed for it.
   * @throws INVALID_TOKEN when the account no longer exists
   */
  async view(em: Pick<EntityManager, 'getConnection'>, auth: UserContext): Promise<User> {
    const [user] = await this.byIds(em, [auth.userId]);
    if (!user) throw new AppError('INVALID_TOKEN');
    return user;
  }

  async me(em: EntityManager, auth: UserContext): Promise<User> {
    const user = await em.findOne(UserSchema, { id: auth.userId });
    if (!user) throw new AppError('INVALID_TOKEN');
    return user;
  }

  /**
   * PATCH semantics: absent fields are unchanged, `null` clears nullable ones.
   * @throws BAD_USER_INPUT, USERNAME_TAKEN, INVALID_TOKEN
   */
  async updateMe(em: EntityManager, auth: UserContext, raw: UpdateMeInput): Promise<User> {
    const input = parseInput(updateInput, raw);
    const user = await this.me(em, auth);
    if (input.username !== undefined && input.username !== user.username) {
      if (await em.count(UserSchema, { username: input.username })) throw new AppError('USERNAME_TAKEN');
      user.username = input.username;
    }
    if (input.fullName !== undefined) user.fullName = input.fullName;
    if (input.timezone !== undefined) user.timezone = input.timezone;
    if (input.preferredLanguage !== undefined) user.preferredLanguage = input.preferredLanguage;
    if (input.avatarUrl !== undefined) user.avatarUrl = input.avatarUrl;
    if (input.publicProfileEnabled !== undefined) user.publicProfileEnabled = input.publicProfileEnabled;
    const original = em.getUnitOfWork().getOriginalEntityData(user);
    const changed = original !== undefined && (['username', 'fullName', 'timezone', 'preferredLanguage', 'avatarUrl', 'publicProfileEnabled'] as const).some(
      (k) => original[k] !== user[k],
    );
    if (changed) user.updatedAt = new Date();
    try {
      await em.flush();
    } catch (err) {
      throw conflictOf(err) ?? err;
    }
    return user;
  }

  /**
   * Users by id, in the order asked (null where none), as plain rows rather than managed
   * entities: callers only read them (federation references, the usersByIds procedure), and
   * hydrating entities was a good part of a reference lookup's CPU. Any EntityManager's
   * connection does: no fork (identity map) is needed.
   */
  async byIds(em: Pick<EntityManager, 'getConnection'>, ids: readonly string[]): Promise<(User | null)[]> {
    const valid = [...new Set(ids.filter((id) => UUID.safeParse(id).success))];
    const rows = valid.length
      ? await em.getConnection().execute<User[]>(`select ${USER_COLUMNS} from "identity"."users" where id in (${valid.map(() => '?').join(',')})`, valid)
      : [];
    const byId = new Map(rows.map(toDates).map((u) => [u.id, u]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async byUsername(em: EntityManager, name: string): Promise<User | null> {
    return em.findOne(UserSchema, { username: name.toLowerCase() });
  }

  async byEmail(em: EntityManager, email: string): Promise<User | null> {
    return em.findOne(UserSchema, { email: email.toLowerCase() });
  }
}
