import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from './config.ts';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'xentree-config-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const KEY = 'k'.repeat(32);
const ENC = 'e'.repeat(32);

/** Loads a config that must fail; returns its problems. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ XENTREE_DATA_DIR: dataDir, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('loadConfig accepted an invalid environment');
}

const DEFAULT_PORTS = { identity: 4001, orgs: 4002, chat: 4003, knowledge: 4004, learning: 4005, live: 4006, integrations: 4007 };
const DEFAULT_URLS = Object.fromEntries(Object.entries(DEFAULT_PORTS).map(([n, p]) => [n, `http://127.0.0.1:${p}`]));

describe('loadConfig defaults', () => {
  it('outside production: PORT 4000 on 127.0.0.1, introspection and IDE on, embedded stores', () => {
    const config = loadConfig({ XENTREE_DATA_DIR: dataDir, INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC });
    expect(config).toEqual<Config>({
      env: 'development',
      production: false,
      port: 4000,
      host: '127.0.0.1',
      dataDir,
      pgliteMode: 'file',
      pgliteSharedBuffersMb: 16,
      logLevel: 'info',
      databaseUrl: null,
      redisUrl: null,
      trustProxy: false,
      corsOrigins: [],
      adminEmails: [],
      introspection: true,
      ide: true,
      internalServiceKey: KEY,
      encryptionKey: ENC,
      integrationTokenIssuer: 'xentree',
      googleOAuth: null,
      subgraphTimeoutMs: 10_000,
      gatewayExecutor: 'lean',
      gatewayHeapGrowthPercent: 50,
      gatewayBusyExecutions: 4,
      trpcTimeoutMs: 5_000,
      trpcMaxBatch: 20,
      chatSessionIdleSeconds: 300,
      streamLeaseMs: 15_000,
      ingestionLeaseMs: 30_000,
      liveSweepIntervalMs: 15_000,
      liveCreditDeliveryMs: 60_000,
      liveRealtimeUrl: 'wss://orchstr.xentree.com',
      ai: {
        defaultProvider: 'local',
        openai: { baseUrl: 'https://api.openai.com/v1', apiKey: null, models: ['gpt-5-mini'], configured: false },
        anthropic: { baseUrl: 'https://api.anthropic.com', apiKey: null, models: ['claude-sonnet-4-5'] },
        timeoutMs: 60_000,
      },
      wsMaxSubscriptionsPerConnection: 100,
      wsMaxConnectionsPerPrincipal: 20,
      rateLimits: {
        auth: { limit: 10, windowSeconds: 60 },
        ai: { limit: 30, windowSeconds: 60 },
        upload: { limit: 20, windowSeconds: 3600 },
        public: { limit: 60, windowSeconds: 60 },
        default: { limit: 300, windowSeconds: 60 },
      },
      rateLimitKeyPrefix: 'xentree:rl:',
      graphqlLimits: { maxDepth: 15, maxAliases: 30, maxRootFields: 20, maxDirectives: 5, maxDuplicateFields: 10, maxTokens: 15_000, maxCost: 5_000 },
      trustedDocuments: { mode: 'allow', manifests: [], apqTtlSeconds: 86_400, apqKeyPrefix: 'xentree:' },
      bodyLimitBytes: 2_097_152,
      knowledgeParser: { workers: Math.max(1, Math.min(2, availableParallelism() - 1)), timeoutMs: 20_000, memoryMb: 256 },
      subgraphResilience: { timeouts: { knowledge: 65_000, integrations: 15_000 }, breakerFailures: 5, breakerCooldownMs: 5_000, retryBudget: 0.1, deadlineMarginMs: 2_000, ingestionTimeoutMs: 120_000, pipelining: { identity: 1, orgs: 1, chat: 1, knowledge: 1, learning: 1, live: 1, integrations: 1 } },
      metricsToken: null,
      subgraphUrls: DEFAULT_URLS as Config['subgraphUrls'],
      subgraphPorts: DEFAULT_PORTS,
      supergraph: { file: null, compose: false, pollMs: 10_000 },
      tracing: { exporter: null, protocol: 'http/protobuf', tracesUrl: 'http://localhost:4318/v1/traces', headers: {}, serviceName: null, sampler: 'parentbased_always_on', samplerArg: 1 },
    });
  });

  it('in production: 0.0.0.0, introspection and IDE off unless asked for', () => {
    const env = { NODE_ENV: 'production', XENTREE_DATA_DIR: dataDir, INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC, DATABASE_URL: 'postgres://db/x' };
    expect(loadConfig(env)).toMatchObject({ env: 'production', production: true, host: '0.0.0.0', port: 4000, introspection: false, ide: false, databaseUrl: 'postgres://db/x' });
    expect(loadConfig({ ...env, XENTREE_INTROSPECTION: 'true', XENTREE_IDE: '1', HOST: '10.0.0.5' })).toMatchObject({ host: '10.0.0.5', introspection: true, ide: true });
  });

  it('is silent under NODE_ENV=test unless LOG_LEVEL says otherwise', () => {
    const env = { NODE_ENV: 'test', XENTREE_DATA_DIR: dataDir, INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC };
    expect(loadConfig(env).logLevel).toBe('silent');
    expect(loadConfig({ ...env, LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
  });

  it('reads the document parser budget (KNOWLEDGE_PARSE_*) and refuses values outside its bounds', () => {
    const base = { XENTREE_DATA_DIR: dataDir, INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC };
    expect(loadConfig({ ...base, KNOWLEDGE_PARSE_WORKERS: '3', KNOWLEDGE_PARSE_TIMEOUT_MS: '1500', KNOWLEDGE_PARSE_MEMORY_MB: '128' }).knowledgeParser).toEqual({
      workers: 3,
      timeoutMs: 1_500,
      memoryMb: 128,
    });
    expect(problemsOf({ ...base, KNOWLEDGE_PARSE_WORKERS: '0', KNOWLEDGE_PARSE_TIMEOUT_MS: '50', KNOWLEDGE_PARSE_MEMORY_MB: '16' })).toEqual([
      'KNOWLEDGE_PARSE_TIMEOUT_MS: Too small: expected number to be >=100',
      'KNOWLEDGE_PARSE_MEMORY_MB: Too small: expected number to be >=64',
      'KNOWLEDGE_PARSE_WORKERS: Too small: expected number to be >=1',
    ]);
  });

  it('treats empty strings as unset and parses lists, booleans and subgraph addresses', () => {
    const config = loadConfig({
      XENTREE_DATA_DIR: dataDir,
      INTERNAL_SERVICE_KEY: KEY,
      ENCRYPTION_KEY: ENC,
      PORT: '',
      REDIS_URL: '',
      TRUST_PROXY: 'YES',
      CORS_ORIGINS: ' https://a.example , ,https://b.example',
      XENTREE_ADMIN_EMAILS: 'Root@Example.com,ops@example.com',
      SUBGRAPH_IDENTITY_URL: 'http://identity:4001/graphql',
      SUBGRAPH_CHAT_PORT: '5003',
    });
    expect(config).toMatchObject({
      port: 4000,
      redisUrl: null,
      trustProxy: true,
      corsOrigins: ['https://a.example', 'https://b.example'],
      adminEmails: ['root@example.com', 'ops@example.com'],
    });
    expect(config.subgraphUrls).toEqual({ ...DEFAULT_URLS, identity: 'http://identity:4001', chat: 'http://127.0.0.1:5003' });
    expect(config.subgraphPorts).toEqual({ ...DEFAULT_PORTS, chat: 5003 });
  });
});

describe('edge limits', () => {
  it('reads RATE_LIMIT_<POLICY>=<count>/<seconds> and the GraphQL and body limits', () => {
    const config = loadConfig({
      XENTREE_DATA_DIR: dataDir,
      INTERNAL_SERVICE_KEY: KEY,
      ENCRYPTION_KEY: ENC,
      RATE_LIMIT_AUTH: '3/2',
      RATE_LIMIT_UPLOAD: ' 5/86400 ',
      RATE_LIMIT_KEY_PREFIX: 'x:',
      GRAPHQL_MAX_DEPTH: '8',
      GRAPHQL_MAX_COST: '100',
      BODY_LIMIT_BYTES: '4096',
    });
    expect(config.rateLimits).toEqual({
      auth: { limit: 3, windowSeconds: 2 },
      ai: { limit: 30, windowSeconds: 60 },
      upload: { limit: 5, windowSeconds: 86400 },
      public: { limit: 60, windowSeconds: 60 },
      default: { limit: 300, windowSeconds: 60 },
    });
    expect(config.rateLimitKeyPrefix).toBe('x:');
    expect(config.graphqlLimits).toMatchObject({ maxDepth: 8, maxCost: 100, maxAliases: 30 });
    expect(config.bodyLimitBytes).toBe(4096);
  });

  it('reads the trusted documents mode, extra manifests and the APQ cache settings', () => {
    const config = loadConfig({ INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC, XENTREE_TRUSTED_DOCUMENTS: 'enforce', XENTREE_PERSISTED_DOCUMENTS: '/srv/web.json, app/mobile.json', APQ_TTL_SECONDS: '600', APQ_KEY_PREFIX: 'blue:' });
    expect(config.trustedDocuments).toEqual({ mode: 'enforce', manifests: ['/srv/web.json', path.resolve('app/mobile.json')], apqTtlSeconds: 600, apqKeyPrefix: 'blue:' });
    expect(problemsOf({ INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC, XENTREE_TRUSTED_DOCUMENTS: 'strict', APQ_TTL_SECONDS: '0' })).toEqual([
      'XENTREE_TRUSTED_DOCUMENTS: Invalid option: expected one of "off"|"allow"|"enforce"',
      'APQ_TTL_SECONDS: Too small: expected number to be >=1',
    ]);
  });

  it('refuses malformed limits, naming each variable', () => {
    expect(
      problemsOf({ INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC, RATE_LIMIT_AUTH: '10 per minute', RATE_LIMIT_AI: '0/60', RATE_LIMIT_DEFAULT: '5/0', GRAPHQL_MAX_DEPTH: '0', BODY_LIMIT_BYTES: '10' }),
    ).toEqual([
      'RATE_LIMIT_AUTH: must be <count>/<seconds>, e.g. 10/60',
      'RATE_LIMIT_AI: count and seconds must both be at least 1',
      'RATE_LIMIT_DEFAULT: count and seconds must both be at least 1',
      'GRAPHQL_MAX_DEPTH: Too small: expected number to be >=1',
      'BODY_LIMIT_BYTES: Too small: expected number to be >=1024',
    ]);
  });
});

describe('loadConfig problems', () => {
  it('lists every invalid variable at once', () => {
    expect(problemsOf({ PORT: 'abc', REDIS_URL: 'http://x', SUBGRAPH_IDENTITY_PORT: '-1', INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC })).toEqual([
      'PORT: Invalid input: expected number, received NaN',
      'REDIS_URL: must be a redis:// URL',
      'SUBGRAPH_IDENTITY_PORT: Too small: expected number to be >=0',
    ]);
  });

  it('names each variable of a badly broken environment', () => {
    const problems = problemsOf({
      NODE_ENV: 'staging',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://db/x',
      TRUST_PROXY: 'maybe',
      INTERNAL_SERVICE_KEY: 'short',
      SUBGRAPH_CHAT_URL: 'ftp://chat',
      SUBGRAPH_LIVE_PORT: '70000',
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'NODE_ENV',
      'LOG_LEVEL',
      'DATABASE_URL',
      'TRUST_PROXY',
      'INTERNAL_SERVICE_KEY',
      'SUBGRAPH_CHAT_URL',
      'SUBGRAPH_LIVE_PORT',
    ]);
    expect(problems).toContain('INTERNAL_SERVICE_KEY: must be at least 32 characters');
    expect(problems).toContain('DATABASE_URL: must be a postgres:// URL');
  });

  it('production refuses to start without INTERNAL_SERVICE_KEY, ENCRYPTION_KEY and DATABASE_URL', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'INTERNAL_SERVICE_KEY: required in production',
      'ENCRYPTION_KEY: required in production',
      'DATABASE_URL: required in production (or set XENTREE_ALLOW_EMBEDDED_DB=true)',
    ]);
    expect(existsSync(path.join(dataDir, 'secrets.json'))).toBe(false);
  });

  it('production lists its missing variables together with invalid ones', () => {
    expect(problemsOf({ NODE_ENV: 'production', PORT: 'abc', ENCRYPTION_KEY: ENC })).toEqual([
      'PORT: Invalid input: expected number, received NaN',
      'INTERNAL_SERVICE_KEY: required in production',
      'DATABASE_URL: required in production (or set XENTREE_ALLOW_EMBEDDED_DB=true)',
    ]);
  });

  it('production accepts generated secrets and the embedded database only when asked explicitly', () => {
    const config = loadConfig({ NODE_ENV: 'production', XENTREE_DATA_DIR: dataDir, XENTREE_ALLOW_GENERATED_SECRETS: 'true', XENTREE_ALLOW_EMBEDDED_DB: 'true' });
    expect(config.production).toBe(true);
    expect(config.databaseUrl).toBeNull();
    expect(config.internalServiceKey).toHaveLength(43);
    expect(existsSync(path.join(dataDir, 'secrets.json'))).toBe(true);
  });

  it('ConfigError’s message lists every problem', () => {
    const err = new ConfigError(['A: bad', 'B: worse']);
    expect(err.name).toBe('ConfigError');
    expect(err.message).toBe('Invalid configuration:\n  - A: bad\n  - B: worse');
  });
});

describe('development secrets', () => {
  it('are generated once into XENTREE_DATA_DIR/secrets.json (mode 0600) and reused', () => {
    const file = path.join(dataDir, 'secrets.json');
    const first = loadConfig({ XENTREE_DATA_DIR: dataDir });
    expect(first.internalServiceKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.encryptionKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.internalServiceKey).not.toBe(first.encryptionKey);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ INTERNAL_SERVICE_KEY: first.internalServiceKey, ENCRYPTION_KEY: first.encryptionKey });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = loadConfig({ XENTREE_DATA_DIR: dataDir });
    expect([second.internalServiceKey, second.encryptionKey]).toEqual([first.internalServiceKey, first.encryptionKey]);
  });

  it('are not used for a secret the environment provides', () => {
    const generated = loadConfig({ XENTREE_DATA_DIR: dataDir });
    const config = loadConfig({ XENTREE_DATA_DIR: dataDir, INTERNAL_SERVICE_KEY: KEY });
    expect(config.internalServiceKey).toBe(KEY);
    expect(config.encryptionKey).toBe(generated.encryptionKey);
  });

  it('are regenerated when the file does not hold valid secrets', () => {
    const file = path.join(dataDir, 'secrets.json');
    writeFileSync(file, JSON.stringify({ INTERNAL_SERVICE_KEY: 'short', ENCRYPTION_KEY: 'short' }));
    const config = loadConfig({ XENTREE_DATA_DIR: dataDir });
    expect(config.internalServiceKey).toHaveLength(43);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ INTERNAL_SERVICE_KEY: config.internalServiceKey, ENCRYPTION_KEY: config.encryptionKey });
  });

  it('go to a data directory that does not exist yet', () => {
    const nested = path.join(dataDir, 'a', 'b');
    const config = loadConfig({ XENTREE_DATA_DIR: nested });
    expect(config.dataDir).toBe(nested);
    expect(existsSync(path.join(nested, 'secrets.json'))).toBe(true);
  });
});

describe('corrupt development secrets', () => {
  it('regenerates a secrets.json that is not valid JSON', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'xentree-corrupt-'));
    writeFileSync(path.join(dir, 'secrets.json'), '{not json');
    const config = loadConfig({ XENTREE_DATA_DIR: dir });
    const stored = JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8')) as { INTERNAL_SERVICE_KEY: string };
    expect(config.internalServiceKey).toBe(stored.INTERNAL_SERVICE_KEY);
    expect(config.internalServiceKey.length).toBeGreaterThanOrEqual(32);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('subgraph resilience and metrics settings', () => {
  it('reads the breaker, retry budget, per-subgraph timeouts and the metrics token', () => {
    const config = loadConfig({
      XENTREE_DATA_DIR: dataDir,
      INTERNAL_SERVICE_KEY: KEY,
      ENCRYPTION_KEY: ENC,
      SUBGRAPH_BREAKER_FAILURES: '7',
      SUBGRAPH_BREAKER_COOLDOWN_MS: '250',
      SUBGRAPH_RETRY_BUDGET: '0.2',
      SUBGRAPH_CHAT_TIMEOUT_MS: '30000',
      SUBGRAPH_IDENTITY_PIPELINING: '8',
      SUBGRAPH_LEARNING_PIPELINING: '4',
      SUBGRAPH_DEADLINE_MARGIN_MS: '500',
      INGESTION_TIMEOUT_MS: '90000',
      METRICS_TOKEN: 'm'.repeat(16),
    });
    expect(config.subgraphResilience).toEqual({
      timeouts: { knowledge: 65_000, integrations: 15_000, chat: 30_000 },
      breakerFailures: 7,
      breakerCooldownMs: 250,
      retryBudget: 0.2,
      deadlineMarginMs: 500,
      ingestionTimeoutMs: 90_000,
      pipelining: { identity: 8, orgs: 1, chat: 1, knowledge: 1, learning: 4, live: 1, integrations: 1 },
    });
    expect(config.metricsToken).toBe('m'.repeat(16));
  });

  it('reads the gateway heap growth (0 leaves V8 its own factor) and refuses values outside 0–1000', () => {
    const base = { XENTREE_DATA_DIR: dataDir, INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC };
    expect(loadConfig({ ...base, GATEWAY_HEAP_GROWTH_PERCENT: '0' }).gatewayHeapGrowthPercent).toBe(0);
    expect(loadConfig({ ...base, GATEWAY_HEAP_GROWTH_PERCENT: '150' }).gatewayHeapGrowthPercent).toBe(150);
    for (const bad of ['-1', '1001', '12.5', 'lots']) expect(problemsOf({ ...base, GATEWAY_HEAP_GROWTH_PERCENT: bad }).map((p) => p.split(':')[0])).toEqual(['GATEWAY_HEAP_GROWTH_PERCENT']);
  });

  it('reads how many executions run at once on a saturated event loop (0: no limit) and refuses what is not a count', () => {
    const base = { XENTREE_DATA_DIR: dataDir, INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC };
    expect(loadConfig(base).gatewayBusyExecutions).toBe(4);
    expect(loadConfig({ ...base, GATEWAY_BUSY_EXECUTIONS: '0' }).gatewayBusyExecutions).toBe(0);
    expect(loadConfig({ ...base, GATEWAY_BUSY_EXECUTIONS: '32' }).gatewayBusyExecutions).toBe(32);
    for (const bad of ['-1', '2.5', 'many', '100001']) expect(problemsOf({ ...base, GATEWAY_BUSY_EXECUTIONS: bad }).map((p) => p.split(':')[0])).toEqual(['GATEWAY_BUSY_EXECUTIONS']);
  });

  it('gives knowledge the AI timeout plus 5 s unless SUBGRAPH_KNOWLEDGE_TIMEOUT_MS is set', () => {
    const base = { XENTREE_DATA_DIR: dataDir, INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC, AI_TIMEOUT_MS: '1000' };
    expect(loadConfig(base).subgraphResilience.timeouts).toEqual({ knowledge: 6_000, integrations: 15_000 });
    expect(loadConfig({ ...base, SUBGRAPH_KNOWLEDGE_TIMEOUT_MS: '2500' }).subgraphResilience.timeouts).toEqual({ knowledge: 2_500, integrations: 15_000 });
  });

  it('turns the Google Calendar connector on only with client id, secret and redirect URI; integrations calls may outlast its exchange timeout', () => {
    const base = { XENTREE_DATA_DIR: dataDir, INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC };
    const client = { GOOGLE_OAUTH_CLIENT_ID: 'id', GOOGLE_OAUTH_CLIENT_SECRET: 'secret', GOOGLE_OAUTH_REDIRECT_URI: 'https://app.example/cb' };
    expect(loadConfig({ ...base, GOOGLE_OAUTH_CLIENT_ID: 'id', GOOGLE_OAUTH_CLIENT_SECRET: 'secret' }).googleOAuth).toBeNull();
    expect(loadConfig({ ...base, ...client }).googleOAuth).toEqual({
      clientId: 'id',
      clientSecret: 'secret',
      redirectUri: 'https://app.example/cb',
      authUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      scopes: ['https://www.googleapis.com/auth/calendar.readonly'],
      timeoutMs: 10_000,
    });
    const custom = loadConfig({ ...base, ...client, GOOGLE_CALENDAR_SCOPES: 'a b,c', GOOGLE_OAUTH_TIMEOUT_MS: '2000', GOOGLE_OAUTH_TOKEN_URL: 'http://127.0.0.1:9/token' });
    expect(custom.googleOAuth).toMatchObject({ scopes: ['a', 'b', 'c'], timeoutMs: 2_000, tokenUrl: 'http://127.0.0.1:9/token' });
    expect(custom.subgraphResilience.timeouts.integrations).toBe(7_000);
    expect(problemsOf({ ...base, GOOGLE_OAUTH_REDIRECT_URI: 'not a url' })).toEqual(['GOOGLE_OAUTH_REDIRECT_URI: Invalid URL']);
  });

  it('lists bad values with their variable names', () => {
    const problems = problemsOf({
      INTERNAL_SERVICE_KEY: KEY,
      ENCRYPTION_KEY: ENC,
      SUBGRAPH_BREAKER_FAILURES: '0',
      SUBGRAPH_RETRY_BUDGET: '1.5',
      SUBGRAPH_IDENTITY_TIMEOUT_MS: '10',
      SUBGRAPH_ORGS_PIPELINING: '0',
      SUBGRAPH_CHAT_PIPELINING: '65',
      SUBGRAPH_LIVE_PIPELINING: '2.5',
      METRICS_TOKEN: 'short',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['METRICS_TOKEN', 'SUBGRAPH_BREAKER_FAILURES', 'SUBGRAPH_CHAT_PIPELINING', 'SUBGRAPH_IDENTITY_TIMEOUT_MS', 'SUBGRAPH_LIVE_PIPELINING', 'SUBGRAPH_ORGS_PIPELINING', 'SUBGRAPH_RETRY_BUDGET']);
  });
});

describe('lease settings', () => {
  it('reads STREAM_LEASE_MS and INGESTION_LEASE_MS (short values for tests) and refuses leases under 100 ms', () => {
    const config = loadConfig({ XENTREE_DATA_DIR: dataDir, INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC, STREAM_LEASE_MS: '400', INGESTION_LEASE_MS: '600' });
    expect([config.streamLeaseMs, config.ingestionLeaseMs]).toEqual([400, 600]);
    const problems = problemsOf({ INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC, STREAM_LEASE_MS: '99', INGESTION_LEASE_MS: 'soon' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['STREAM_LEASE_MS', 'INGESTION_LEASE_MS']);
  });
});

describe('supergraph settings', () => {
  it('reads the supergraph file (made absolute), run-time composition and its poll interval', () => {
    const config = loadConfig({ XENTREE_DATA_DIR: dataDir, INTERNAL_SERVICE_KEY: KEY, ENCRYPTION_KEY: ENC, XENTREE_SUPERGRAPH_FILE: 'deploy/supergraph.graphql', XENTREE_SUPERGRAPH_COMPOSE: 'yes', XENTREE_SUPERGRAPH_POLL_MS: '0' });
    expect(config.supergraph).toEqual({ file: path.resolve('deploy/supergraph.graphql'), compose: true, pollMs: 0 });
  });

  it('refuses a negative poll interval and a composition flag that is not a boolean', () => {
    expect(problemsOf({ XENTREE_SUPERGRAPH_POLL_MS: '-1', XENTREE_SUPERGRAPH_COMPOSE: 'sometimes' })).toEqual([
      'XENTREE_SUPERGRAPH_COMPOSE: must be true or false',
      'XENTREE_SUPERGRAPH_POLL_MS: Too small: expected number to be >=0',
    ]);
  });
});
