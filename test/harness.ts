/**
 * Test harness: starts the whole stack (every subgraph in `subgraphs/index.ts` plus the gateway)
 * on port 0. Default: embedded PGlite in memory and in-memory PubSub. With
 * XENTREE_TEST_SERVICES=1 (the `services` vitest project): a fresh database on the real
 * PostgreSQL and the real Redis.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config, type SubgraphName } from '../kernel/config.ts';
import { createLogger } from '../kernel/logger.ts';
import { createStack, type Stack } from '../bin/stack.ts';
import { createFreshDatabase } from './fresh-database.ts';
import { useClusterTemplate } from '../kernel/pglite-template.ts';

export const SERVICES = process.env.XENTREE_TEST_SERVICES === '1';
export const SERVICES_DATABASE_URL = process.env.DATABASE_URL_SERVICES ?? 'postgres://postgres@127.0.0.1:5432/test';
export const SERVICES_REDIS_URL = process.env.REDIS_URL_SERVICES ?? 'redis://127.0.0.1:6379';

// Every suite starts stacks on fresh in-memory clusters: from one initdb, not one each.
useClusterTemplate(tmpdir());

/** Creates an empty database on the services PostgreSQL; returns its URL and a dropper. */
export function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  return createFreshDatabase(SERVICES_DATABASE_URL, 'xentree_test');
}

/** Environment for a test configuration (fresh secrets and data dir each time). */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    XENTREE_PGLITE: 'memory',
    INTERNAL_SERVICE_KEY: randomBytes(32).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    XENTREE_ADMIN_EMAILS: 'admin@xentree.test',
    // Suites log in many times from 127.0.0.1: limits generous enough never to trip. Rate-limit
    // tests set their own. A fresh key prefix keeps stacks apart on the shared Redis.
    RATE_LIMIT_AUTH: '100000/60',
    RATE_LIMIT_AI: '100000/60',
    RATE_LIMIT_UPLOAD: '100000/60',
    RATE_LIMIT_PUBLIC: '100000/60',
    RATE_LIMIT_DEFAULT: '100000/60',
    RATE_LIMIT_KEY_PREFIX: `xentree:test:${randomBytes(6).toString('hex')}:rl:`,
    ...extra,
  };
}

export interface RestResponse {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

export interface GraphQLResponse {
  status: number;
  headers: Headers;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown>; path?: (string | number)[] }[]; extensions?: Record<string, unknown> };
}

export interface TestStack {
  url: string;
  config: Config;
  stack: Stack;
  subgraphUrl(name: SubgraphName): string;
  /** A REST call; `json` sends JSON, `form` sends urlencoded, `raw` sends a string as is. */
  rest(method: string, path: string, opts?: { json?: unknown; form?: Record<string, string>; raw?: string; contentType?: string; headers?: Record<string, string> }): Promise<RestResponse>;
  /** A GraphQL POST to the gateway. */
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse>;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  onQuery?: (subgraph: SubgraphName, sql: string) => void;
  /** Where the stack's log lines go (default stdout); with `LOG_LEVEL` in `env`, tests can read them. */
  logStream?: { write(line: string): void };
}

export async function startTestStack(opts: StartOptions = {}): Promise<TestStack> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'xentree-test-'));
  const db = SERVICES ? await freshDatabase() : null;
  const config = loadConfig(
    testEnv({
      XENTREE_DATA_DIR: dataDir,
      ...(db ? { DATABASE_URL: db.url, REDIS_URL: SERVICES_REDIS_URL } : {}),
      ...opts.env,
    }),
  );
  const logger = createLogger(config.logLevel, undefined, opts.logStream);
  const stack = await createStack({ config, logger, port: 0, subgraphPorts: 0, onQuery: opts.onQuery });
  const url = stack.gateway.url;

  const rest: TestStack['rest'] = async (method, p, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    let body: string | undefined;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['content-type'] ??= 'application/json';
    } else if (o.form) {
      body = new URLSearchParams(o.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    } else if (o.raw !== undefined) {
      body = o.raw;
      headers['content-type'] ??= o.contentType ?? 'application/json';
    }
    const res = await fetch(`${url}${p}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };

  const gql: TestStack['gql'] = async (query, variables, headers = {}) => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse['body'] };
  };

  return {
    url,
    config,
    stack,
    subgraphUrl: (name) => stack.subgraphs.find((s) => s.name === name)?.url ?? '',
    rest,
    gql,
    async close() {
      await stack.close();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The stack of one test file ({@link useTestStack}), with the graphql-ws clients its tests open. */
export interface FileStack extends TestStack {
  /** Clients the tests open: disposed after the file's tests, before the stack closes. */
  readonly clients: Client[];
}

/** A TestStack that a `beforeAll` starts: it answers once started, and says so when used before. */
class StartedLater implements FileStack {
  readonly clients: Client[] = [];
  private started: TestStack | null = null;

  start(s: TestStack): void {
    this.started = s;
  }

  private get s(): TestStack {
    if (!this.started) throw new Error('the test stack is used before the beforeAll that starts it');
    return this.started;
  }

  get url(): string {
    return this.s.url;
  }
  get config(): Config {
    return this.s.config;
  }
  get stack(): Stack {
    return this.s.stack;
  }
  subgraphUrl: TestStack['subgraphUrl'] = (name) => this.s.subgraphUrl(name);
  rest: TestStack['rest'] = (method, p, o) => this.s.rest(method, p, o);
  gql: TestStack['gql'] = (query, variables, headers) => this.s.gql(query, variables, headers);

  async close(): Promise<void> {
    for (const c of this.clients.splice(0)) await c.dispose();
    await this.started?.close();
    this.started = null;
  }
}

/**
 * The stack of a test file: a `beforeAll` starts it (with `opts`, or what the function gives then,
 * e.g. the URL of a fake AI another `beforeAll` started first) and an `afterAll` disposes the
 * clients in `clients` and closes it. Hooks the file registers after this call run once it is up.
 */
export function useTestStack(opts: StartOptions | (() => StartOptions) = {}): FileStack {
  const t = new StartedLater();
  beforeAll(async () => t.start(await startTestStack(typeof opts === 'function' ? opts() : opts)));
  afterAll(() => t.close());
  return t;
}

let counter = 0;
/** A unique user for one test. */
export function newUser(prefix = 'user'): { email: string; username: string; password: string } {
  counter += 1;
  const tag = `${prefix}_${process.pid}_${counter}_${randomBytes(2).toString('hex')}`.toLowerCase().slice(0, 30);
  return { email: `${tag}@example.com`, username: tag, password: 'correct horse battery' };
}

/** Registers and logs in a user through REST; returns the tokens and profile. */
export async function registerAndLogin(t: TestStack, prefix = 'user'): Promise<{ user: ReturnType<typeof newUser>; id: string; access: string; refresh: string }> {
  const user = newUser(prefix);
  const reg = await t.rest('POST', '/api/auth/register', { json: user });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.text}`);
  const login = await t.rest('POST', '/api/auth/login', { form: { username: user.username, password: user.password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  const tokens = login.body as { access_token: string; refresh_token: string };
  return { user, id: (reg.body as { id: string }).id, access: tokens.access_token, refresh: tokens.refresh_token };
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
