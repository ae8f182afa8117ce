/**
 * Configuration, read once from the environment and validated with zod. This is the only module
 * that reads `process.env`; everything else receives a `Config`.
 *
 * In development, missing secrets are generated once and kept in `<XENTREE_DATA_DIR>/secrets.json`
 * so restarts keep sessions valid; in production a missing secret refuses to start.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Every subgraph name, in the order the launcher starts them. */
export const SUBGRAPH_NAMES = ['identity', 'orgs', 'chat', 'knowledge', 'learning', 'live', 'integrations'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** Default loopback ports for the all-in-one and distributed runs (4001..4007). */
export const DEFAULT_SUBGRAPH_PORTS: Record<SubgraphName, number> = {
  identity: 4001,
  orgs: 4002,
  chat: 4003,
  knowledge: 4004,
  learning: 4005,
  live: 4006,
  integrations: 4007,
};

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((s) => ['true', 'false', '1', '0', 'yes', 'no', ''].includes(s), 'must be true or false')
  .transform((s) => s === 'true' || s === '1' || s === 'yes');

const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0));

const port = z.coerce.number().int().min(0).max(65535);
const secret = z.string().min(32, 'must be at least 32 characters');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(4000),
  HOST: z.string().min(1).optional(),
  XENTREE_DATA_DIR: z.string().min(1).default('./.data'),
  XENTREE_PGLITE: z.enum(['file', 'memory']).default('file'),
  XENTREE_ALLOW_EMBEDDED_DB: bool.default(false),
  XENTREE_ALLOW_GENERATED_SECRETS: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  TRUST_PROXY: bool.default(false),
  CORS_ORIGINS: list.default([]),
  XENTREE_ADMIN_EMAILS: list.default([]),
  XENTREE_INTROSPECTION: bool.optional(),
  XENTREE_IDE: bool.optional(),
  INTERNAL_SERVICE_KEY: secret.optional(),
  ENCRYPTION_KEY: secret.optional(),
  INTEGRATION_TOKEN_ISSUER: z.string().min(1).default('xentree'),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  TRPC_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  TRPC_MAX_BATCH: z.coerce.number().int().min(1).max(100).default(20),
});

const subgraphUrl = z.url({ protocol: /^https?$/ }).optional();
const subgraphPort = port.optional();

/** The validated configuration every factory receives. */
export interface Config {
  env: 'development' | 'production' | 'test';
  production: boolean;
  port: number;
  host: string;
  dataDir: string;
  pgliteMode: 'file' | 'memory';
  logLevel: string;
  databaseUrl: string | null;
  redisUrl: string | null;
  trustProxy: boolean;
  corsOrigins: string[];
  adminEmails: string[];
  introspection: boolean;
  ide: boolean;
  internalServiceKey: string;
  encryptionKey: string;
  integrationTokenIssuer: string;
  subgraphTimeoutMs: number;
  trpcTimeoutMs: number;
  trpcMaxBatch: number;
  /** Where the gateway and tRPC clients find each subgraph (http://host:port, no path). */
  subgraphUrls: Record<SubgraphName, string>;
  /** Where each subgraph listens when started as its own process. */
  subgraphPorts: Record<SubgraphName, number>;
}

/** Thrown when the environment is invalid; lists every bad variable at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null; // a corrupt file is regenerated
  }
}

function loadDevSecrets(dataDir: string): { INTERNAL_SERVICE_KEY: string; ENCRYPTION_KEY: string } {
  const file = path.join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    const parsed = z
      .object({ INTERNAL_SERVICE_KEY: secret, ENCRYPTION_KEY: secret })
      .safeParse(parseJsonOrNull(readFileSync(file, 'utf8')));
    if (parsed.success) return parsed.data;
  }
  const fresh = {
    INTERNAL_SERVICE_KEY: randomBytes(32).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(fresh, null, 2), { mode: 0o600 });
  return fresh;
}

/** What production refuses to start without (unless explicitly allowed), from the raw environment. */
function productionProblems(env: Record<string, string | undefined>): string[] {
  const allowed = (name: string): boolean => bool.safeParse(env[name] ?? '').data === true;
  const out: string[] = [];
  if (!allowed('XENTREE_ALLOW_GENERATED_SECRETS')) {
    if (!env.INTERNAL_SERVICE_KEY) out.push('INTERNAL_SERVICE_KEY: required in production');
    if (!env.ENCRYPTION_KEY) out.push('ENCRYPTION_KEY: required in production');
  }
  if (!env.DATABASE_URL && !allowed('XENTREE_ALLOW_EMBEDDED_DB')) {
    out.push('DATABASE_URL: required in production (or set XENTREE_ALLOW_EMBEDDED_DB=true)');
  }
  return out;
}

/**
 * Builds the configuration from an environment map (default: `process.env`).
 * @throws ConfigError listing every invalid variable, or a missing secret in production.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset", as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  const problems: string[] = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const subgraphPorts = {} as Record<SubgraphName, number>;
  const subgraphUrls = {} as Record<SubgraphName, string>;
  for (const name of SUBGRAPH_NAMES) {
    const portVar = `SUBGRAPH_${name.toUpperCase()}_PORT`;
    const urlVar = `SUBGRAPH_${name.toUpperCase()}_URL`;
    const p = subgraphPort.safeParse(cleaned[portVar]);
    const u = subgraphUrl.safeParse(cleaned[urlVar]);
    if (!p.success) problems.push(`${portVar}: ${p.error.issues[0]?.message ?? 'invalid'}`);
    if (!u.success) problems.push(`${urlVar}: ${u.error.issues[0]?.message ?? 'invalid'}`);
    subgraphPorts[name] = (p.success ? p.data : undefined) ?? DEFAULT_SUBGRAPH_PORTS[name];
    const url = u.success ? u.data : undefined;
    subgraphUrls[name] = url ? url.replace(/\/graphql\/?$/, '').replace(/\/$/, '') : `http://127.0.0.1:${subgraphPorts[name]}`;
  }
  // Checked on the raw values so that they are listed together with any invalid variable.
  if (cleaned.NODE_ENV === 'production') problems.push(...productionProblems(cleaned));
  if (!parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const dataDir = path.resolve(e.XENTREE_DATA_DIR);

  let internalServiceKey = e.INTERNAL_SERVICE_KEY;
  let encryptionKey = e.ENCRYPTION_KEY;
  if ((!internalServiceKey || !encryptionKey) && (!production || e.XENTREE_ALLOW_GENERATED_SECRETS)) {
    const dev = loadDevSecrets(dataDir);
    internalServiceKey ??= dev.INTERNAL_SERVICE_KEY;
    encryptionKey ??= dev.ENCRYPTION_KEY;
  }
  if (problems.length > 0 || !internalServiceKey || !encryptionKey) throw new ConfigError(problems);

  return {
    env: e.NODE_ENV,
    production,
    port: e.PORT,
    host: e.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    dataDir,
    pgliteMode: e.XENTREE_PGLITE,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === 'test' ? 'silent' : 'info'),
    databaseUrl: e.DATABASE_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    trustProxy: e.TRUST_PROXY,
    corsOrigins: e.CORS_ORIGINS,
    adminEmails: e.XENTREE_ADMIN_EMAILS.map((s) => s.toLowerCase()),
    introspection: e.XENTREE_INTROSPECTION ?? !production,
    ide: e.XENTREE_IDE ?? !production,
    internalServiceKey,
    encryptionKey,
    integrationTokenIssuer: e.INTEGRATION_TOKEN_ISSUER,
    subgraphTimeoutMs: e.SUBGRAPH_TIMEOUT_MS,
    trpcTimeoutMs: e.TRPC_TIMEOUT_MS,
    trpcMaxBatch: e.TRPC_MAX_BATCH,
    subgraphUrls,
    subgraphPorts,
  };
}
