/**
 * The Google Calendar skills connector, SKL-1..3 (§3.8, §4.16), end to end against a small
 * authorization/token server started by the test: PKCE S256, the single-use state bound to the
 * user for 600 s, denial, a failing exchange and a timeout (502), and tokens that never appear
 * in a response or a log line.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestStack, type TestStack } from './harness.ts';
import { coded, TIMESTAMP, wire } from './assertions.ts';
import { apiKey, createKey, orgWith, person, scopeMissing, type Person } from './org-fixtures.ts';
import { integrationsSql } from './integration-fixtures.ts';

const ACCESS_TOKEN = 'ya29.access-token-that-must-stay-secret';
const REFRESH_TOKEN = '1//refresh-token-that-must-stay-secret';
const CALENDAR = 'https://www.googleapis.com/auth/calendar.readonly';
const REDIRECT = 'https://app.xentree.test/integrations/google/callback';

/** What the stub token endpoint received, in order. */
const exchanges: Record<string, string>[] = [];
let stub: Server;
let t: TestStack;
let user: Person;
const logs: string[] = [];

/** The token endpoint: its answer depends on the code. */
function startStub(): Promise<string> {
  stub = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      exchanges.push({ ...form, contentType: req.headers['content-type'] ?? '' });
      const reply = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      switch (form.code) {
        case 'good':
          return reply(200, { access_token: ACCESS_TOKEN, refresh_token: REFRESH_TOKEN, expires_in: 3600, scope: `${CALENDAR} openid`, token_type: 'Bearer' });
        case 'plain':
          return reply(200, { access_token: `${ACCESS_TOKEN}-2`, expires_in: 120, token_type: 'Bearer' });
        case 'refused':
          return reply(400, { error: 'invalid_grant', error_description: `bad code; token ${ACCESS_TOKEN}` });
        case 'empty':
          return reply(200, { token_type: 'Bearer' });
        case 'slow':
          return void setTimeout(() => reply(200, { access_token: ACCESS_TOKEN }), 3_000);
        default:
          return reply(500, {});
      }
    });
  });
  return new Promise((resolve) => stub.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(stub.address() as AddressInfo).port}/token`)));
}

beforeAll(async () => {
  const tokenUrl = await startStub();
  t = await startTestStack({
    env: {
      GOOGLE_OAUTH_CLIENT_ID: 'client-123.apps.googleusercontent.com',
      GOOGLE_OAUTH_CLIENT_SECRET: 'client-secret-xyz',
      GOOGLE_OAUTH_REDIRECT_URI: REDIRECT,
      GOOGLE_OAUTH_TOKEN_URL: tokenUrl,
      GOOGLE_OAUTH_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'debug',
    },
    logStream: { write: (line: string) => void logs.push(line) },
  });
  user = await person(t, 'oauth');
});
afterAll(async () => {
  await t?.close();
  await new Promise((r) => stub?.close(r));
});

async function start(who: Person = user): Promise<{ state: string; url: URL }> {
  const res = await t.rest('GET', '/api/integrations/google-calendar/oauth/start', { headers: bearer(who.access) });
  expect(res.status).toBe(200);
  const body = res.body as { authorization_url: string; state: string };
  return { state: body.state, url: new URL(body.authorization_url) };
}

const callback = (query: Record<string, string>) => t.rest('GET', `/api/integrations/google-calendar/oauth/callback?${new URLSearchParams(query).toString()}`);
const INVALID_STATE = coded('invalid_oauth_state', 'OAuth state is invalid, expired or already used');
const EXCHANGE_FAILED = coded('oauth_exchange_failed', 'Token exchange with the provider failed');

describe('SKL-2 start', () => {
  it('answers the authorization URL with a 43-character state and an S256 challenge', async () => {
    const res = await t.rest('GET', '/api/integrations/google-calendar/oauth/start', { headers: bearer(user.access) });
    const body = res.body as { authorization_url: string; state: string };
    expect(Object.keys(body)).toEqual(['authorization_url', 'state']);
    expect(body.state).toMatch(/^[\w-]{43}$/);
    const url = new URL(body.authorization_url);
    expect(`${url.origin}${url.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'client-123.apps.googleusercontent.com',
      redirect_uri: REDIRECT,
      scope: CALENDAR,
      state: body.state,
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      code_challenge_method: 'S256',
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: 'true',
    });
  });

  it('an API key needs integrations:write', async () => {
    const { org, owner } = await orgWith(t, {});
    const reader = await createKey(t, owner, org.id, ['integrations:read']);
    expect(wire(await t.rest('GET', '/api/integrations/google-calendar/oauth/start', { headers: apiKey(reader.key) }))).toEqual({
      status: 403,
      body: scopeMissing('integrations:write', ['integrations:read']),
    });
    const writer = await createKey(t, owner, org.id, ['integrations:write']);
    expect((await t.rest('GET', '/api/integrations/google-calendar/oauth/start', { headers: apiKey(writer.key) })).status).toBe(200);
  });
});

describe('SKL-3 callback and SKL-1 list', () => {
  it('exchanges the code with the PKCE verifier, stores the connection sealed, and lists it', async () => {
    const { state, url } = await start();
    const before = exchanges.length;
    const res = await callback({ state, code: 'good' });
    expect(wire(res)).toEqual({ status: 200, body: { provider: 'google_calendar', status: 'connected', scopes: [CALENDAR, 'openid'], connected_at: expect.stringMatching(TIMESTAMP) } });
    const sent = exchanges[before];
    expect(sent).toEqual({
      grant_type: 'authorization_code',
      code: 'good',
      redirect_uri: REDIRECT,
      client_id: 'client-123.apps.googleusercontent.com',
      client_secret: 'client-secret-xyz',
      code_verifier: expect.stringMatching(/^[\w-]{86}$/),
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(createHash('sha256').update(sent?.code_verifier ?? '').digest('base64url')).toBe(url.searchParams.get('code_challenge'));

    const list = await t.rest('GET', '/api/integrations', { headers: bearer(user.access) });
    expect(wire(list)).toEqual({
      status: 200,
      body: [{ provider: 'google_calendar', status: 'connected', scopes: [CALENDAR, 'openid'], connected_at: (res.body as { connected_at: string }).connected_at, expires_at: expect.stringMatching(TIMESTAMP), has_refresh_token: true }],
    });
    const expiresAt = Date.parse((list.body as { expires_at: string }[])[0]?.expires_at ?? '');
    expect(expiresAt - Date.parse((res.body as { connected_at: string }).connected_at)).toBe(3_600_000);
    const rows = await integrationsSql(t, `select * from "integrations"."skill_connections" where "user_id" = ?`, [user.id]);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain('secret');
    // Another user sees nothing of it.
    const other = await person(t, 'oauth2');
    expect(wire(await t.rest('GET', '/api/integrations', { headers: bearer(other.access) }))).toEqual({ status: 200, body: [] });
  });

  it('a state works once; an unknown or missing one, or one past its 600 s, is 400 invalid_oauth_state', async () => {
    const { state } = await start();
    expect((await callback({ state, code: 'plain' })).status).toBe(200);
    expect(wire(await callback({ state, code: 'plain' }))).toEqual({ status: 400, body: INVALID_STATE });
    expect(wire(await callback({ state: 'x'.repeat(43), code: 'good' }))).toEqual({ status: 400, body: INVALID_STATE });
    expect(wire(await callback({ code: 'good' }))).toEqual({ status: 400, body: INVALID_STATE });
    const old = await start();
    await integrationsSql(t, `update "integrations"."oauth_states" set "expires_at" = now() - interval '1 second' where "state" = ?`, [old.state]);
    expect(wire(await callback({ state: old.state, code: 'good' }))).toEqual({ status: 400, body: INVALID_STATE });
  });

  it('a new connection replaces the old one; without a scope in the reply the requested scopes count', async () => {
    const who = await person(t, 'oauth3');
    await callback({ state: (await start(who)).state, code: 'good' });
    expect((await callback({ state: (await start(who)).state, code: 'plain' })).body).toMatchObject({ scopes: [CALENDAR] });
    const list = (await t.rest('GET', '/api/integrations', { headers: bearer(who.access) })).body as Record<string, unknown>[];
    expect(list).toEqual([{ provider: 'google_calendar', status: 'connected', scopes: [CALENDAR], connected_at: expect.any(String), expires_at: expect.any(String), has_refresh_token: false }]);
  });

  it('a denial or no code: 400 oauth_denied with provider_error, and the state is used up', async () => {
    const denied = await start();
    expect(wire(await callback({ state: denied.state, error: 'access_denied' }))).toEqual({
      status: 400,
      body: coded('oauth_denied', 'Authorization was denied or no code was returned', { provider_error: 'access_denied' }),
    });
    expect(wire(await callback({ state: denied.state, code: 'good' }))).toEqual({ status: 400, body: INVALID_STATE });
    const noCode = await start();
    expect(wire(await callback({ state: noCode.state }))).toEqual({
      status: 400,
      body: coded('oauth_denied', 'Authorization was denied or no code was returned', { provider_error: null }),
    });
  });

  it('a refused exchange, a reply without access_token, or a timeout: 502 oauth_exchange_failed', async () => {
    for (const code of ['refused', 'empty', 'slow']) {
      const { state } = await start();
      expect(wire(await callback({ state, code })), code).toEqual({ status: 502, body: EXCHANGE_FAILED });
    }
  });

  it('an API key lists with integrations:read; the tokens appear in no response and no log line', async () => {
    const { org, owner } = await orgWith(t, {});
    const key = await createKey(t, owner, org.id, ['integrations:read']);
    expect((await t.rest('GET', '/api/integrations', { headers: apiKey(key.key) })).status).toBe(200);
    const seen = logs.join('\n');
    expect(seen.length).toBeGreaterThan(0);
    for (const secret of [ACCESS_TOKEN, REFRESH_TOKEN, 'client-secret-xyz']) expect(seen).not.toContain(secret);
  });
});

describe('the same flow over GraphQL', () => {
  it('startGoogleCalendarOAuth, completeGoogleCalendarOAuth and integrations', async () => {
    const who = await person(t, 'oauthgql');
    const started = await t.gql('mutation { startGoogleCalendarOAuth { authorizationUrl state } }', {}, bearer(who.access));
    const { authorizationUrl, state } = started.body.data?.startGoogleCalendarOAuth as { authorizationUrl: string; state: string };
    expect(new URL(authorizationUrl).searchParams.get('state')).toBe(state);
    const COMPLETE = 'mutation($state: String, $code: String, $error: String) { completeGoogleCalendarOAuth(state: $state, code: $code, error: $error) { provider status scopes connectedAt } }';
    const done = await t.gql(COMPLETE, { state, code: 'good' });
    expect(done.body).toEqual({ data: { completeGoogleCalendarOAuth: { provider: 'google_calendar', status: 'connected', scopes: [CALENDAR, 'openid'], connectedAt: expect.stringMatching(TIMESTAMP) } } });
    expect((await t.gql(COMPLETE, { state, code: 'good' })).body.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_OAUTH_STATE', status: 400 });
    const denied = (await start(who)).state;
    expect((await t.gql(COMPLETE, { state: denied, error: 'access_denied' })).body.errors?.[0]?.extensions).toEqual({
      code: 'OAUTH_DENIED',
      status: 400,
      provider_error: 'access_denied',
      serviceName: 'integrations',
    });
    const failing = (await start(who)).state;
    expect((await t.gql(COMPLETE, { state: failing, code: 'refused' })).body.errors?.[0]).toMatchObject({
      message: 'Token exchange with the provider failed',
      extensions: { code: 'OAUTH_EXCHANGE_FAILED', status: 502 },
    });
    const listed = await t.gql('{ integrations { provider status scopes connectedAt expiresAt hasRefreshToken } }', {}, bearer(who.access));
    expect(listed.body).toEqual({
      data: { integrations: [{ provider: 'google_calendar', status: 'connected', scopes: [CALENDAR, 'openid'], connectedAt: expect.stringMatching(TIMESTAMP), expiresAt: expect.stringMatching(TIMESTAMP), hasRefreshToken: true }] },
    });
    expect(JSON.stringify(listed.body)).not.toContain('secret');
  });
});
