/**
 * The Google Calendar skills connector (SKL-1..3, §4.16): OAuth 2.0 authorization code with PKCE
 * S256. A state is bound to the user who started the flow, lives 600 s and is consumed by its
 * first use, whatever the outcome. Tokens are sealed at rest and never leave this file: not in a
 * response, an error or a log line.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { GoogleOAuthConfig } from '../../kernel/config.ts';
import { decryptSecret, encryptSecret } from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import type { UserContext } from '../../kernel/authz.ts';

export const GOOGLE_CALENDAR = 'google_calendar';
const STATE_TTL_MS = 600_000;

/** `IntegrationResponse`. */
export interface SkillIntegration {
  provider: string;
  status: 'connected';
  scopes: string[];
  connectedAt: Date;
  expiresAt: Date | null;
  hasRefreshToken: boolean;
}

interface ConnectionRow {
  provider: string;
  scopes: string;
  connected_at: Date | string;
  expires_at_sealed: string | null;
  refresh_token_sealed: string | null;
}

interface StateRow {
  user_id: string;
  code_verifier_sealed: string;
  scopes: string;
  expires_at: Date | string;
}

const b64url = (bytes: Buffer): string => bytes.toString('base64url');

function run<T>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  return em.getConnection().execute<T[]>(sql, params, 'all', em.getTransactionContext());
}

export class SkillService {
  constructor(
    private readonly google: GoogleOAuthConfig | null,
    private readonly encryptionKey: string,
  ) {}

  /** SKL-1: the caller's connected integrations, by provider. */
  async list(em: EntityManager, auth: UserContext): Promise<SkillIntegration[]> {
    const rows = await run<ConnectionRow>(
      em,
      `select "provider", "scopes", "connected_at", "expires_at_sealed", "refresh_token_sealed" from "integrations"."skill_connections" where "user_id" = ? order by "provider"`,
      [auth.userId],
    );
    return rows.map((r) => ({
      provider: r.provider,
      status: 'connected',
      scopes: JSON.parse(r.scopes) as string[],
      connectedAt: new Date(r.connected_at),
      expiresAt: r.expires_at_sealed ? new Date(decryptSecret(r.expires_at_sealed, this.encryptionKey)) : null,
      hasRefreshToken: r.refresh_token_sealed !== null,
    }));
  }

  /**
   * SKL-2: a fresh state and the authorization URL carrying it with the PKCE challenge.
   * @throws INTEGRATION_NOT_CONFIGURED
   */
  async start(em: EntityManager, auth: UserContext): Promise<{ authorizationUrl: string; state: string }> {
    const google = this.requireConfig();
    const state = b64url(randomBytes(32));
    const verifier = b64url(randomBytes(64));
    const challenge = b64url(createHash('sha256').update(verifier).digest());
    await run(
      em,
      `insert into "integrations"."oauth_states" ("state", "user_id", "provider", "code_verifier_sealed", "scopes", "expires_at") values (?, ?, ?, ?, ?, ?)`,
      [state, auth.userId, GOOGLE_CALENDAR, encryptSecret(verifier, this.encryptionKey), JSON.stringify(google.scopes), new Date(Date.now() + STATE_TTL_MS)],
    );
    const url = new URL(google.authUrl);
    const query: Record<string, string> = {
      response_type: 'code',
      client_id: google.clientId,
      redirect_uri: google.redirectUri,
      scope: google.scopes.join(' '),
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: 'true',
    };
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return { authorizationUrl: url.toString(), state };
  }

  /**
   * SKL-3: consumes the state, exchanges the code and stores the connection (replacing any
   * earlier one of the user). The state is checked first, even when the connector is unconfigured.
   * @throws INVALID_OAUTH_STATE, OAUTH_DENIED, INTEGRATION_NOT_CONFIGURED, OAUTH_EXCHANGE_FAILED
   */
  async complete(em: EntityManager, args: { state?: string | null; code?: string | null; error?: string | null }): Promise<{ provider: string; status: 'connected'; scopes: string[]; connectedAt: Date }> {
    const consumed = args.state ? await run<StateRow>(em, `delete from "integrations"."oauth_states" where "state" = ? returning "user_id", "code_verifier_sealed", "scopes", "expires_at"`, [args.state]) : [];
    const pending = consumed[0];
    if (!pending || new Date(pending.expires_at).getTime() <= Date.now()) throw new AppError('INVALID_OAUTH_STATE');
    if (args.error != null || !args.code) throw new AppError('OAUTH_DENIED', { extras: { provider_error: args.error ?? null } });
    const google = this.requireConfig();
    const reply = await this.exchange(google, args.code, decryptSecret(pending.code_verifier_sealed, this.encryptionKey));
    const scopes = reply.scope ? reply.scope.split(' ').filter((s) => s.length > 0) : (JSON.parse(pending.scopes) as string[]);
    const connectedAt = new Date();
    const expiresAt = reply.expiresIn !== null ? new Date(connectedAt.getTime() + reply.expiresIn * 1000).toISOString() : null;
    const seal = (s: string | null) => (s === null ? null : encryptSecret(s, this.encryptionKey));
    await run(
      em,
      `insert into "integrations"."skill_connections" ("user_id", "provider", "access_token_sealed", "refresh_token_sealed", "expires_at_sealed", "scopes", "connected_at")
       values (?, ?, ?, ?, ?, ?, ?)
       on conflict ("user_id", "provider") do update set "access_token_sealed" = excluded."access_token_sealed", "refresh_token_sealed" = excluded."refresh_token_sealed",
         "expires_at_sealed" = excluded."expires_at_sealed", "scopes" = excluded."scopes", "connected_at" = excluded."connected_at"`,
      [pending.user_id, GOOGLE_CALENDAR, seal(reply.accessToken), seal(reply.refreshToken), seal(expiresAt), JSON.stringify(scopes), connectedAt],
    );
    return { provider: GOOGLE_CALENDAR, status: 'connected', scopes, connectedAt };
  }

  private requireConfig(): GoogleOAuthConfig {
    if (!this.google) throw new AppError('INTEGRATION_NOT_CONFIGURED');
    return this.google;
  }

  /** POSTs the code to the token endpoint. Nothing of the reply reaches an error: it may hold tokens. */
  private async exchange(google: GoogleOAuthConfig, code: string, verifier: string): Promise<{ accessToken: string; refreshToken: string | null; expiresIn: number | null; scope: string | null }> {
    const failed = () => new AppError('OAUTH_EXCHANGE_FAILED');
    let body: unknown;
    try {
      const res = await fetch(google.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: google.redirectUri,
          client_id: google.clientId,
          client_secret: google.clientSecret,
          code_verifier: verifier,
        }).toString(),
        signal: AbortSignal.timeout(google.timeoutMs),
      });
      if (!res.ok) throw failed();
      body = await res.json();
    } catch {
      throw failed();
    }
    const r = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    if (typeof r.access_token !== 'string' || r.access_token.length === 0) throw failed();
    return {
      accessToken: r.access_token,
      refreshToken: typeof r.refresh_token === 'string' ? r.refresh_token : null,
      expiresIn: typeof r.expires_in === 'number' && Number.isFinite(r.expires_in) ? r.expires_in : null,
      scope: typeof r.scope === 'string' ? r.scope : null,
    };
  }
}
