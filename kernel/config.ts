/**
 * Configuration, read once from the environment and validated with zod. This is the only module
 * that reads `process.env`; everything else receives a `Config`.
 *
 * In development, missing secrets are generated once and kept in `<XENTREE_DATA_DIR>/secrets.json`
 * so restarts keep sessions valid; in production a missing secret refuses to start.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SUBGRAPH_NAMES, type GoogleOAuthConfig, type KnowledgeParserConfig, type SubgraphName, type SubgraphResilience } from './config-shapes.ts';
import { OTLP_PROTOCOLS, otlpHeaders, SAMPLERS, tracingConfigOf, type TracingConfig } from './tracing-config.ts';

export { SUBGRAPH_NAMES, type GoogleOAuthConfig, type KnowledgeParserConfig, type SubgraphName, type SubgraphResilience } from './config-shapes.ts';


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
const positiveInt = z.coerce.number().int().min(1);

/** §1.9 rate-limit policies. */
export const RATE_LIMIT_POLICIES = ['auth', 'ai', 'upload', 'public', 'default'] as const;
export type RateLimitPolicy = (typeof RATE_LIMIT_POLICIES)[number];

/** A fixed-window limit: at most `limit` requests per `windowSeconds`. */
export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

/** §1.9 defaults, each overridable with `RATE_LIMIT_<POLICY>=<count>/<seconds>`. */
export const DEFAULT_RATE_LIMITS: Record<RateLimitPolicy, RateLimit> = {
  auth: { limit: 10, windowSeconds: 60 },
  ai: { limit: 30, windowSeconds: 60 },
  upload: { limit: 20, windowSeconds: 3600 },
  public: { limit: 60, windowSeconds: 60 },
  default: { limit: 300, windowSeconds: 60 },
};

const rateLimit = z
  .string()
  .trim()
  .regex(/^[0-9]+\/[0-9]+$/, 'must be <count>/<seconds>, e.g. 10/60')
  .transform((s): RateLimit => {
    const [limit, windowSeconds] = s.split('/').map(Number);
    return { limit: limit ?? 0, windowSeconds: windowSeconds ?? 0 };
  })
  .refine((r) => r.limit >= 1 && r.windowSeconds >= 1, 'count and seconds must both be at least 1');

/** Limits on GraphQL operations (gateway/limits.ts). */
export interface GraphQLLimits {
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  /** Directives on one field (or fragment, or operation). */
  maxDirectives: number;
  /** How often one response key may repeat in a single selection set. */
  maxDuplicateFields: number;
  /** Lexical tokens the parser reads before giving up. */
  maxTokens: number;
  /** Estimated cost: 1 per field, selections under a list field count ×10 per list level. */
  maxCost: number;
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(4000),
  HOST: z.string().min(1).optional(),
  XENTREE_DATA_DIR: z.string().min(1).default('./.data'),
  XENTREE_PGLITE: z.enum(['file', 'memory']).default('file'),
  XENTREE_PGLITE_SHARED_BUFFERS_MB: z.coerce.number().int().min(1).max(4096).default(16),
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
  GOOGLE_OAUTH_CLIENT_ID: z.string().min(1).optional(),
  GOOGLE_OAUTH_CLIENT_SECRET: z.string().min(1).optional(),
  GOOGLE_OAUTH_REDIRECT_URI: z.url().optional(),
  GOOGLE_OAUTH_AUTH_URL: z.url().default('https://accounts.google.com/o/oauth2/v2/auth'),
  GOOGLE_OAUTH_TOKEN_URL: z.url().default('https://oauth2.googleapis.com/token'),
  GOOGLE_CALENDAR_SCOPES: z.string().trim().min(1).default('https://www.googleapis.com/auth/calendar.readonly'),
  GOOGLE_OAUTH_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  GATEWAY_EXECUTOR: z.enum(['lean', 'apollo']).default('lean'),
  GATEWAY_HEAP_GROWTH_PERCENT: z.coerce.number().int().min(0).max(1_000).default(50),
  GATEWAY_BUSY_EXECUTIONS: z.coerce.number().int().min(0).max(100_000).default(4),
  SUBGRAPH_BREAKER_FAILURES: z.coerce.number().int().min(1).default(5),
  SUBGRAPH_BREAKER_COOLDOWN_MS: z.coerce.number().int().min(10).default(5_000),
  SUBGRAPH_RETRY_BUDGET: z.coerce.number().min(0).max(1).default(0.1),
  SUBGRAPH_DEADLINE_MARGIN_MS: z.coerce.number().int().min(10).default(2_000),
  INGESTION_TIMEOUT_MS: z.coerce.number().int().min(100).default(120_000),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TRPC_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  TRPC_MAX_BATCH: z.coerce.number().int().min(1).max(100).default(20),
  CHAT_SESSION_IDLE_SECONDS: positiveInt.default(300),
  STREAM_LEASE_MS: z.coerce.number().int().min(100).default(15_000),
  INGESTION_LEASE_MS: z.coerce.number().int().min(100).default(30_000),
  LIVE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).max(30_000).default(15_000),
  LIVE_CREDIT_DELIVERY_MS: z.coerce.number().int().min(50).max(300_000).default(60_000),
  LIVE_REALTIME_URL: z.string().regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL').default('wss://orchstr.xentree.com'),
  DEFAULT_AI_PROVIDER: z.enum(['local', 'openai', 'anthropic']).optional(),
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_MODELS: list.optional(),
  ANTHROPIC_BASE_URL: z.url().optional(),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_MODELS: list.optional(),
  AI_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).default(100),
  WS_MAX_CONNECTIONS_PER_PRINCIPAL: z.coerce.number().int().min(1).default(20),
  RATE_LIMIT_AUTH: rateLimit.optional(),
  RATE_LIMIT_AI: rateLimit.optional(),
  RATE_LIMIT_UPLOAD: rateLimit.optional(),
  RATE_LIMIT_PUBLIC: rateLimit.optional(),
  RATE_LIMIT_DEFAULT: rateLimit.optional(),
  RATE_LIMIT_KEY_PREFIX: z.string().min(1).default('xentree:rl:'),
  GRAPHQL_MAX_DEPTH: positiveInt.default(15),
  GRAPHQL_MAX_ALIASES: positiveInt.default(30),
  GRAPHQL_MAX_ROOT_FIELDS: positiveInt.default(20),
  GRAPHQL_MAX_DIRECTIVES: positiveInt.default(5),
  GRAPHQL_MAX_DUPLICATE_FIELDS: positiveInt.default(10),
  GRAPHQL_MAX_TOKENS: positiveInt.default(15_000),
  GRAPHQL_MAX_COST: positiveInt.default(5_000),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(2 * 1024 * 1024),
  XENTREE_TRUSTED_DOCUMENTS: z.enum(['off', 'allow', 'enforce']).default('allow'),
  XENTREE_PERSISTED_DOCUMENTS: list.default([]),
  APQ_TTL_SECONDS: positiveInt.default(86_400),
  APQ_KEY_PREFIX: z.string().min(1).default('xentree:'),
  KNOWLEDGE_PARSE_TIMEOUT_MS: z.coerce.number().int().min(100).default(20_000),
  KNOWLEDGE_PARSE_MEMORY_MB: z.coerce.number().int().min(64).max(4096).default(256),
  KNOWLEDGE_PARSE_WORKERS: z.coerce.number().int().min(1).max(16).optional(),
  XENTREE_SUPERGRAPH_FILE: z.string().trim().min(1).optional(),
  XENTREE_SUPERGRAPH_COMPOSE: bool.default(false),
  XENTREE_SUPERGRAPH_POLL_MS: z.coerce.number().int().min(0).default(10_000),
  OTEL_SDK_DISABLED: bool.default(false),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(OTLP_PROTOCOLS).optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(OTLP_PROTOCOLS).optional(),
  OTEL_EXPORTER_OTLP_HEADERS: otlpHeaders.optional(),
  OTEL_SERVICE_NAME: z.string().trim().min(1).optional(),
  OTEL_TRACES_SAMPLER: z.enum(SAMPLERS).default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
});

const subgraphUrl = z.url({ protocol: /^https?$/ }).optional();
const subgraphPort = port.optional();
const subgraphTimeout = z.coerce.number().int().min(100).optional();
const subgraphPipelining = z.coerce.number().int().min(1).max(64).optional();

/** The validated configuration every factory receives. */
export interface Config {
  env: 'development' | 'production' | 'test';
  production: boolean;
  port: number;
  host: string;
  dataDir: string;
  pgliteMode: 'file' | 'memory';
  /** Embedded PostgreSQL's `shared_buffers`, in MB (its whole buffer pool is resident memory). */
  pgliteSharedBuffersMb: number;
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
  /**
   * The Google Calendar skills connector (§4.16): null unless client id, secret and redirect URI
   * are all set. The token exchange gives up after `timeoutMs` (10 s unless set).
   */
  googleOAuth: GoogleOAuthConfig | null;
  subgraphTimeoutMs: number;
  /** Who executes the gateway's query plans for queries and mutations: `lean` (gateway/executor/) or @apollo/gateway's own (`apollo`). */
  gatewayExecutor: 'lean' | 'apollo';
  /** V8's old generation may grow this far (%) past what a full GC kept; 0: V8's own factor (kernel/heap.ts). */
  gatewayHeapGrowthPercent: number;
  /** Executions of queries and mutations that run at once while the event loop is saturated; 0: no limit (gateway/admission.ts). */
  gatewayBusyExecutions: number;
  trpcTimeoutMs: number;
  trpcMaxBatch: number;
  /** §4.7: a conversation session idle this long ends by timeout (tests shorten it). */
  chatSessionIdleSeconds: number;
  /**
   * How long a running generation stream (chat) and a document being ingested (knowledge) stay
   * claimed without their process renewing the claim: after a crash, the stream ends with an
   * `error` event and the half-written document goes within about 1.5 leases (tests shorten them).
   */
  streamLeaseMs: number;
  ingestionLeaseMs: number;
  /** How often each live process ends silent Live sessions (at most 30 s; tests shorten it). */
  liveSweepIntervalMs: number;
  /**
   * How long a running Live session's credited seconds wait in live's outbox, adding up, before
   * they go to learning as one award (an end sends them at once; tests shorten it).
   */
  liveCreditDeliveryMs: number;
  /** The realtime socket Live clients are sent to (`realtime_url`). */
  liveRealtimeUrl: string;
  /** AI providers (§4.17); `auto` routes to `ai.defaultProvider`. */
  ai: {
    defaultProvider: 'local' | 'openai' | 'anthropic';
    openai: { baseUrl: string; apiKey: string | null; models: string[]; configured: boolean };
    anthropic: { baseUrl: string; apiKey: string | null; models: string[] };
    timeoutMs: number;
  };
  /** graphql-ws limits at the gateway. */
  wsMaxSubscriptionsPerConnection: number;
  wsMaxConnectionsPerPrincipal: number;
  /** §1.9 fixed-window limits per policy. */
  rateLimits: Record<RateLimitPolicy, RateLimit>;
  /** Prefix of the counters in Redis; replicas that share counters use the same one. */
  rateLimitKeyPrefix: string;
  graphqlLimits: GraphQLLimits;
  /** Trusted documents and automatic persisted queries (gateway/trusted-documents.ts). */
  trustedDocuments: TrustedDocumentsConfig;
  /** Largest request body the gateway reads (bytes). */
  bodyLimitBytes: number;
  /** Knowledge's document parser (subgraphs/knowledge/parser-pool.ts, §4.10 budgets). */
  knowledgeParser: KnowledgeParserConfig;
  /** How the gateway calls subgraphs (gateway/resilience.ts). */
  subgraphResilience: SubgraphResilience;
  /** Bearer token `GET /metrics` requires; null: open outside production, not served in production. */
  metricsToken: string | null;
  /** Where the gateway and tRPC clients find each subgraph (http://host:port, no path). */
  subgraphUrls: Record<SubgraphName, string>;
  /** Where each subgraph listens when started as its own process. */
  subgraphPorts: Record<SubgraphName, number>;
  /** The gateway's supergraph: a watched file (else the committed one), or composed from the subgraphs at run time, polled every `pollMs` (0: never). */
  supergraph: { file: string | null; compose: boolean; pollMs: number };
  /** OpenTelemetry tracing (kernel/telemetry.ts), from the standard OTEL_* variables; off by default. */
  tracing: TracingConfig;
}

/**
 * Which GraphQL documents the gateway runs: `off` (any document; no ids from the manifest),
 * `allow` (any document, or a manifest one by its hash), `enforce` (manifest documents only).
 */
export interface TrustedDocumentsConfig {
  mode: 'off' | 'allow' | 'enforce';
  /** Manifests read besides `schema/persisted-documents.json` (frontends' client preset output). */
  manifests: string[];
  /** How long an automatic persisted query stays registered (seconds). */
  apqTtlSeconds: number;
  /** Prefix of the APQ keys in Redis (Apollo adds `apq:`); replicas that share them use the same one. */
  apqKeyPrefix: string;
}

/** `auto` goes to DEFAULT_AI_PROVIDER, else the first configured remote provider, else `local`. */
function aiConfig(e: z.infer<typeof envSchema>): Config['ai'] {
  const openaiConfigured = e.OPENAI_API_KEY !== undefined || e.OPENAI_BASE_URL !== undefined;
  const anthropicConfigured = e.ANTHROPIC_API_KEY !== undefined;
  const fallback = openaiConfigured ? 'openai' : anthropicConfigured ? 'anthropic' : 'local';
  return {
    defaultProvider: e.DEFAULT_AI_PROVIDER ?? fallback,
    openai: {
      baseUrl: e.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
      apiKey: e.OPENAI_API_KEY ?? null,
      models: e.OPENAI_MODELS?.length ? e.OPENAI_MODELS : ['gpt-5-mini'],
      configured: openaiConfigured,
    },
    anthropic: {
      baseUrl: e.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com',
      apiKey: e.ANTHROPIC_API_KEY ?? null,
      models: e.ANTHROPIC_MODELS?.length ? e.ANTHROPIC_MODELS : ['claude-sonnet-4-5'],
    },
    timeoutMs: e.AI_TIMEOUT_MS,
  };
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
  const timeouts: Partial<Record<SubgraphName, number>> = {};
  const pipelining = {} as Record<SubgraphName, number>;
  /** Variable `key` by `schema`, its problem listed; undefined when unset or invalid. */
  const read = <T>(key: string, schema: z.ZodType<T | undefined>): T | undefined => {
    const v = schema.safeParse(cleaned[key]);
    if (!v.success) problems.push(`${key}: ${v.error.issues[0]?.message ?? 'invalid'}`);
    return v.success ? v.data : undefined;
  };
  for (const name of SUBGRAPH_NAMES) {
    subgraphPorts[name] = read(`SUBGRAPH_${name.toUpperCase()}_PORT`, subgraphPort) ?? DEFAULT_SUBGRAPH_PORTS[name];
    const [url, timeout] = [read(`SUBGRAPH_${name.toUpperCase()}_URL`, subgraphUrl), read(`SUBGRAPH_${name.toUpperCase()}_TIMEOUT_MS`, subgraphTimeout)];
    if (timeout !== undefined) timeouts[name] = timeout;
    pipelining[name] = read(`SUBGRAPH_${name.toUpperCase()}_PIPELINING`, subgraphPipelining) ?? 1;
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
    pgliteSharedBuffersMb: e.XENTREE_PGLITE_SHARED_BUFFERS_MB,
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
    googleOAuth:
      e.GOOGLE_OAUTH_CLIENT_ID && e.GOOGLE_OAUTH_CLIENT_SECRET && e.GOOGLE_OAUTH_REDIRECT_URI
        ? {
            clientId: e.GOOGLE_OAUTH_CLIENT_ID,
            clientSecret: e.GOOGLE_OAUTH_CLIENT_SECRET,
            redirectUri: e.GOOGLE_OAUTH_REDIRECT_URI,
            authUrl: e.GOOGLE_OAUTH_AUTH_URL,
            tokenUrl: e.GOOGLE_OAUTH_TOKEN_URL,
            scopes: e.GOOGLE_CALENDAR_SCOPES.split(/[\s,]+/).filter((x) => x.length > 0),
            timeoutMs: e.GOOGLE_OAUTH_TIMEOUT_MS,
          }
        : null,
    subgraphTimeoutMs: e.SUBGRAPH_TIMEOUT_MS,
    gatewayExecutor: e.GATEWAY_EXECUTOR,
    gatewayHeapGrowthPercent: e.GATEWAY_HEAP_GROWTH_PERCENT,
    gatewayBusyExecutions: e.GATEWAY_BUSY_EXECUTIONS,
    trpcTimeoutMs: e.TRPC_TIMEOUT_MS,
    trpcMaxBatch: e.TRPC_MAX_BATCH,
    chatSessionIdleSeconds: e.CHAT_SESSION_IDLE_SECONDS,
    streamLeaseMs: e.STREAM_LEASE_MS,
    ingestionLeaseMs: e.INGESTION_LEASE_MS,
    liveSweepIntervalMs: e.LIVE_SWEEP_INTERVAL_MS,
    liveCreditDeliveryMs: e.LIVE_CREDIT_DELIVERY_MS,
    liveRealtimeUrl: e.LIVE_REALTIME_URL,
    ai: aiConfig(e),
    wsMaxSubscriptionsPerConnection: e.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    wsMaxConnectionsPerPrincipal: e.WS_MAX_CONNECTIONS_PER_PRINCIPAL,
    rateLimits: {
      auth: e.RATE_LIMIT_AUTH ?? DEFAULT_RATE_LIMITS.auth,
      ai: e.RATE_LIMIT_AI ?? DEFAULT_RATE_LIMITS.ai,
      upload: e.RATE_LIMIT_UPLOAD ?? DEFAULT_RATE_LIMITS.upload,
      public: e.RATE_LIMIT_PUBLIC ?? DEFAULT_RATE_LIMITS.public,
      default: e.RATE_LIMIT_DEFAULT ?? DEFAULT_RATE_LIMITS.default,
    },
    rateLimitKeyPrefix: e.RATE_LIMIT_KEY_PREFIX,
    graphqlLimits: {
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxRootFields: e.GRAPHQL_MAX_ROOT_FIELDS,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
      maxDuplicateFields: e.GRAPHQL_MAX_DUPLICATE_FIELDS,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxCost: e.GRAPHQL_MAX_COST,
    },
    trustedDocuments: {
      mode: e.XENTREE_TRUSTED_DOCUMENTS,
      manifests: e.XENTREE_PERSISTED_DOCUMENTS.map((p) => path.resolve(p)),
      apqTtlSeconds: e.APQ_TTL_SECONDS,
      apqKeyPrefix: e.APQ_KEY_PREFIX,
    },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    knowledgeParser: {
      workers: e.KNOWLEDGE_PARSE_WORKERS ?? Math.max(1, Math.min(2, availableParallelism() - 1)),
      timeoutMs: e.KNOWLEDGE_PARSE_TIMEOUT_MS,
      memoryMb: e.KNOWLEDGE_PARSE_MEMORY_MB,
    },
    subgraphResilience: {
      // Knowledge waits on AI providers (RAG) and parses uploads of up to 10 MiB: unless set, its
      // calls may take the AI timeout plus 5 s.
      // The Skills connector's token exchange may take its own timeout (10 s) before it answers 502.
      timeouts: { knowledge: e.AI_TIMEOUT_MS + 5_000, integrations: e.GOOGLE_OAUTH_TIMEOUT_MS + 5_000, ...timeouts },
      breakerFailures: e.SUBGRAPH_BREAKER_FAILURES,
      breakerCooldownMs: e.SUBGRAPH_BREAKER_COOLDOWN_MS,
      retryBudget: e.SUBGRAPH_RETRY_BUDGET,
      deadlineMarginMs: e.SUBGRAPH_DEADLINE_MARGIN_MS,
      ingestionTimeoutMs: e.INGESTION_TIMEOUT_MS,
      pipelining,
    },
    metricsToken: e.METRICS_TOKEN ?? null,
    subgraphUrls,
    subgraphPorts,
    supergraph: { file: e.XENTREE_SUPERGRAPH_FILE ? path.resolve(e.XENTREE_SUPERGRAPH_FILE) : null, compose: e.XENTREE_SUPERGRAPH_COMPOSE, pollMs: e.XENTREE_SUPERGRAPH_POLL_MS },
    tracing: tracingConfigOf(e),
  };
}

/**
 * `@apollo/gateway` reads APOLLO_TELEMETRY_DISABLED in its constructor and otherwise probes cloud
 * metadata endpoints and exports usage data. This gateway makes no calls outside its deployment,
 * so the flag is set here, the one module that touches the environment.
 */
export function disableVendorTelemetry(): void {
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
}
