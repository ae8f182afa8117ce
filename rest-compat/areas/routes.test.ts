/**
 * The REST route table as a whole (every operation exists and validates against the committed
 * client schema; ids and method+path pairs are unique), plus pure tests of the ORG/KEY request
 * specs, variables and result mappers. No server runs here: end-to-end behaviour is in test/.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildSchema, parse, validate as validateDocument } from 'graphql';
import { anonymousContext } from '../../kernel/context.ts';
import { loadOperations } from '../operations.ts';
import type { Route } from '../route.ts';
import { RequestValidationError, validateRequest, type ValidationErrorItem } from '../validation.ts';
import { API_SCOPES, isIpOrCidr } from './api-keys/routes.ts';
import { ROUTES } from './index.ts';

const API_SCHEMA = new URL('../../schema/api.graphql', import.meta.url);

function route(id: string): Route {
  const r = ROUTES.find((x) => x.id === id);
  if (!r) throw new Error(`no route ${id}`);
  return r;
}

/** Validates path/query/body as the engine does; returns the 422 items ([] when valid). */
function itemsOf(r: Route, input: { path?: unknown; query?: unknown; body?: unknown }): ValidationErrorItem[] {
  try {
    validateRequest({ path: r.params, query: r.query, body: r.body?.spec }, { path: input.path, query: input.query, body: input.body });
    return [];
  } catch (e) {
    if (e instanceof RequestValidationError) return e.items;
    throw e;
  }
}

/** The validated request of `r`, then the variables it sends. */
function variablesOf(r: Route, input: { path?: unknown; query?: unknown; body?: unknown }): Record<string, unknown> {
  const out = validateRequest({ path: r.params, query: r.query, body: r.body?.spec }, { path: input.path, query: input.query, body: input.body });
  return r.variables({ params: out.path ?? {}, query: out.query ?? {}, body: out.body, auth: anonymousContext('test') });
}

const ORG_ID = '0b0e4a5e-8f6c-4c1a-9a57-0d2e7d0f1a11';
const USER_ID = '5f1c2a0e-3b7d-4e6f-8a9b-1c2d3e4f5a6b';

describe('route table', () => {
  const operations = loadOperations();

  it('names only operations that exist in the area folders', () => {
    expect(ROUTES.filter((r) => !operations.has(r.operation)).map((r) => `${r.id} → ${r.operation}`)).toEqual([]);
  });

  it('has unique ids', () => {
    const ids = ROUTES.map((r) => r.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('has unique method + path pairs', () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('validates every :param of a path, and nothing else, as a path parameter', () => {
    for (const r of ROUTES) {
      const inPath = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]).sort();
      expect(Object.keys(r.params?.shape ?? {}).sort(), r.id).toEqual(inPath);
    }
  });

  it('gives each operation a document that validates against schema/api.graphql', () => {
    const schema = buildSchema(readFileSync(API_SCHEMA, 'utf8'));
    // The engine sends a whole file as the document, so each file is validated once, as sent.
    const documents = new Map<string, string[]>();
    for (const r of ROUTES) {
      const text = operations.get(r.operation) ?? '';
      documents.set(text, [...(documents.get(text) ?? []), r.operation]);
    }
    const failures = [...documents].flatMap(([text, names]) =>
      validateDocument(schema, parse(text)).map((e) => `${names.join('/')}: ${e.message}`));
    // A failure naming an unknown orgs/API-key type means schema/api.graphql is stale: run `npm run compose`.
    expect(failures).toEqual([]);
  });

  it('declares ORG-1..10 and KEY-1..4 exactly as §3.4 / §3.10 / §1.6', () => {
    const pick = (r: Route) => [r.method, r.path, r.auth, r.scope, r.policy, r.status, r.notFound ?? null];
    const R = 'organizations:read';
    const W = 'organizations:write';
    const org = '/api/organizations/:org_id';
    const member = `${org}/members/:target_user_id`;
    expect(Object.fromEntries(ROUTES.filter((r) => /^(ORG|KEY)-/.test(r.id)).map((r) => [r.id, pick(r)]))).toEqual({
      'ORG-1': ['GET', '/api/organizations', 'B+K', R, 'default', 200, null],
      'ORG-2': ['POST', '/api/organizations', 'B+K', W, 'default', 201, null],
      'ORG-3': ['GET', org, 'B+K', R, 'default', 200, 'Organization'],
      'ORG-4': ['PATCH', org, 'B+K', W, 'default', 200, 'Organization'],
      'ORG-5': ['DELETE', org, 'B+K', W, 'default', 204, 'Organization'],
      'ORG-6': ['GET', `${org}/members`, 'B+K', R, 'default', 200, 'Organization'],
      'ORG-7': ['POST', `${org}/members`, 'B+K', W, 'default', 201, 'Organization'],
      'ORG-8': ['PATCH', member, 'B+K', W, 'default', 200, 'Organization'],
      'ORG-9': ['PUT', member, 'B+K', W, 'default', 200, 'Organization'],
      'ORG-10': ['DELETE', member, 'B+K', W, 'default', 204, 'Organization'],
      'KEY-1': ['GET', '/api/api-keys', 'B', null, 'default', 200, null],
      'KEY-2': ['POST', '/api/api-keys', 'B', null, 'default', 201, null],
      'KEY-3': ['DELETE', '/api/api-keys/:key_id', 'B', null, 'default', 204, 'API key'],
      'KEY-4': ['GET', '/api/tenants', 'B', null, 'default', 200, null],
    });
  });
});

describe('organization requests', () => {
  it('ORG-2 rejects a slug that breaks the pattern', () => {
    const pattern = '^[a-z0-9]+(-[a-z0-9]+)*$';
    expect(itemsOf(route('ORG-2'), { body: { name: 'Acme', slug: 'acme--learning' } })).toEqual([
      { type: 'string_pattern_mismatch', loc: ['body', 'slug'], msg: `String should match pattern '${pattern}'`, input: 'acme--learning', ctx: { pattern } },
    ]);
  });

  it('ORG-2 checks lengths and sends omitted slug/description as null', () => {
    expect(itemsOf(route('ORG-2'), { body: { name: '', slug: 'ab', description: 'x'.repeat(501) } }).map((i) => [i.type, i.loc])).toEqual([
      ['string_too_short', ['body', 'name']],
      ['string_too_short', ['body', 'slug']],
      ['string_too_long', ['body', 'description']],
    ]);
    expect(variablesOf(route('ORG-2'), { body: { name: 'Acme Learning' } })).toEqual({ input: { name: 'Acme Learning', slug: null, description: null } });
  });

  it('ORG-4 keeps an absent field out of the input and an explicit null description in it', () => {
    expect(variablesOf(route('ORG-4'), { path: { org_id: ORG_ID }, body: { description: null } })).toEqual({ id: ORG_ID, input: { description: null } });
    expect(variablesOf(route('ORG-4'), { path: { org_id: ORG_ID }, body: {} })).toEqual({ id: ORG_ID, input: {} });
    expect(itemsOf(route('ORG-4'), { path: { org_id: ORG_ID }, body: { name: null } }).map((i) => [i.type, i.loc])).toEqual([['string_type', ['body', 'name']]]);
  });

  it('ORG-3 rejects a malformed org_id with uuid_parsing', () => {
    expect(itemsOf(route('ORG-3'), { path: { org_id: 'nope' } }).map((i) => [i.type, i.loc])).toEqual([['uuid_parsing', ['path', 'org_id']]]);
  });

  it('ORG-6 applies the pagination defaults and bounds and maps the role filter to the enum', () => {
    expect(variablesOf(route('ORG-6'), { path: { org_id: ORG_ID }, query: {} })).toEqual({ id: ORG_ID, limit: 20, offset: 0 });
    expect(variablesOf(route('ORG-6'), { path: { org_id: ORG_ID }, query: { limit: '5', offset: '10', role: 'admin', team_id: USER_ID } }))
      .toEqual({ id: ORG_ID, limit: 5, offset: 10, role: 'ADMIN', teamId: USER_ID });
    expect(itemsOf(route('ORG-6'), { path: { org_id: ORG_ID }, query: { limit: '101', offset: '-1', role: 'OWNER' } }).map((i) => [i.type, i.loc])).toEqual([
      ['less_than_equal', ['query', 'limit']],
      ['greater_than_equal', ['query', 'offset']],
      ['enum', ['query', 'role']],
    ]);
  });

  it('ORG-7 needs exactly one of user_id and email (value_error at ["body"])', () => {
    const both = { user_id: USER_ID, email: 'a@example.com' };
    const item = (input: unknown) => ({
      type: 'value_error', loc: ['body'], msg: 'Value error, Exactly one of user_id or email must be provided', input, ctx: { error: {} },
    });
    expect(itemsOf(route('ORG-7'), { path: { org_id: ORG_ID }, body: both })).toEqual([item(both)]);
    expect(itemsOf(route('ORG-7'), { path: { org_id: ORG_ID }, body: { role: 'admin' } })).toEqual([item({ role: 'admin' })]);
    expect(itemsOf(route('ORG-7'), { path: { org_id: ORG_ID }, body: { user_id: null, email: 'a@example.com' } })).toEqual([]);
  });

  it('ORG-7 sends only the identifier given, defaults the role to member and upper-cases it', () => {
    expect(variablesOf(route('ORG-7'), { path: { org_id: ORG_ID }, body: { email: 'a@example.com', team_name: 'Sales' } })).toEqual({
      organizationId: ORG_ID,
      input: { email: 'a@example.com', role: 'MEMBER', teamName: 'Sales' },
    });
    expect(variablesOf(route('ORG-7'), { path: { org_id: ORG_ID }, body: { user_id: USER_ID, email: null, role: 'owner' } })).toEqual({
      organizationId: ORG_ID,
      input: { userId: USER_ID, role: 'OWNER', teamName: null },
    });
  });

  it('ORG-8 requires a lowercase role', () => {
    expect(itemsOf(route('ORG-8'), { path: { org_id: ORG_ID, target_user_id: USER_ID }, body: { role: 'Owner' } })).toEqual([
      { type: 'enum', loc: ['body', 'role'], msg: "Input should be 'owner', 'admin' or 'member'", input: 'Owner', ctx: { expected: "'owner', 'admin' or 'member'" } },
    ]);
  });

  it('ORG-9 sends only the fields given, with team_name null clearing the team', () => {
    const path = { org_id: ORG_ID, target_user_id: USER_ID };
    expect(variablesOf(route('ORG-9'), { path, body: { team_name: null } })).toEqual({ organizationId: ORG_ID, userId: USER_ID, input: { teamName: null } });
    expect(variablesOf(route('ORG-9'), { path, body: { role: 'owner', organization_id: USER_ID } }))
      .toEqual({ organizationId: ORG_ID, userId: USER_ID, input: { role: 'OWNER', organizationId: USER_ID } });
  });
});

describe('API key requests', () => {
  const body = { name: 'CI', organization_id: ORG_ID, scopes: ['organizations:read'] };

  it('KEY-2 reports an unknown scope as enum at its index', () => {
    const quoted = API_SCOPES.map((s) => `'${s}'`);
    const expected = `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
    expect(itemsOf(route('KEY-2'), { body: { ...body, scopes: ['rag:read', 'rag:delete'] } })).toEqual([
      { type: 'enum', loc: ['body', 'scopes', 1], msg: `Input should be ${expected}`, input: 'rag:delete', ctx: { expected } },
    ]);
  });

  it('KEY-2 rejects duplicate and missing scopes', () => {
    expect(itemsOf(route('KEY-2'), { body: { ...body, scopes: ['rag:read', 'rag:read'] } }).map((i) => [i.type, i.loc])).toEqual([['value_error', ['body', 'scopes']]]);
    expect(itemsOf(route('KEY-2'), { body: { ...body, scopes: [] } }).map((i) => [i.type, i.loc])).toEqual([['too_short', ['body', 'scopes']]]);
  });

  it('KEY-2 rejects a CIDR prefix out of range as value_error at its index', () => {
    expect(itemsOf(route('KEY-2'), { body: { ...body, allowed_ips: ['192.168.1.7', '10.0.0.0/33'] } })).toEqual([
      {
        type: 'value_error',
        loc: ['body', 'allowed_ips', 1],
        msg: 'Value error, value is not a valid IPv4 or IPv6 address or CIDR block',
        input: '10.0.0.0/33',
        ctx: { error: {} },
      },
    ]);
    expect(itemsOf(route('KEY-2'), { body: { ...body, allowed_ips: Array.from({ length: 51 }, () => '10.0.0.1') } }).map((i) => [i.type, i.loc]))
      .toEqual([['too_long', ['body', 'allowed_ips']]]);
  });

  it('accepts IPv4/IPv6 addresses and blocks only', () => {
    for (const ok of ['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '2001:db8::/32', '::1', '::ffff:10.0.0.1/128']) expect(isIpOrCidr(ok), ok).toBe(true);
    for (const bad of ['10.0.0.256', '10.0.0.0/33', '2001:db8::/129', '10.0.0.0/', '10.0.0.0/+8', 'fe80::1%eth0', 'localhost', ' 10.0.0.1'])
      expect(isIpOrCidr(bad), bad).toBe(false);
  });

  it('KEY-2 wants an offset on expires_at and sends it as UTC text, allowed_ips defaulting to []', () => {
    expect(itemsOf(route('KEY-2'), { body: { ...body, expires_at: '2030-01-01T00:00:00' } }).map((i) => [i.type, i.loc])).toEqual([['timezone_aware', ['body', 'expires_at']]]);
    expect(variablesOf(route('KEY-2'), { body: { ...body, expires_at: '2030-01-01T02:00:00+02:00' } })).toEqual({
      input: { name: 'CI', organizationId: ORG_ID, scopes: ['organizations:read'], allowedIps: [], expiresAt: '2030-01-01T00:00:00.000Z' },
    });
  });

  it('KEY-1 sends the organization filter only when given', () => {
    expect(variablesOf(route('KEY-1'), { query: {} })).toEqual({});
    expect(variablesOf(route('KEY-1'), { query: { organization_id: ORG_ID.toUpperCase() } })).toEqual({ organizationId: ORG_ID });
  });
});

describe('result mappers', () => {
  const gqlOrg = {
    id: ORG_ID,
    name: 'Acme Learning',
    slug: 'acme-learning',
    description: null,
    myRole: 'OWNER',
    memberCount: 3,
    teams: [
      { id: 't1', name: 'Design', memberCount: 1 },
      { id: 't2', name: 'Sales', memberCount: 0 },
    ],
    createdAt: '2026-04-22T17:35:24.000Z',
    updatedAt: '2026-04-23T08:00:00.000Z',
  };
  const rest = {
    id: ORG_ID,
    name: 'Acme Learning',
    slug: 'acme-learning',
    description: null,
    my_role: 'owner',
    member_count: 3,
    teams: [
      { id: 't1', name: 'Design', member_count: 1 },
      { id: 't2', name: 'Sales', member_count: 0 },
    ],
    created_at: '2026-04-22T17:35:24.000Z',
    updated_at: '2026-04-23T08:00:00.000Z',
  };

  it('shapes OrganizationResponse with its teams (ORG-1, ORG-2, ORG-3)', () => {
    expect(route('ORG-3').result({ organization: gqlOrg })).toEqual(rest);
    expect(route('ORG-2').result({ createOrganization: { organization: gqlOrg } })).toEqual(rest);
    expect(route('ORG-1').result({ organizations: [gqlOrg] })).toEqual([rest]);
    expect(route('ORG-3').result({ organization: { ...gqlOrg, myRole: null } })).toEqual({ ...rest, my_role: null });
  });

  it('turns an invisible organization into a 404 (null)', () => {
    expect(route('ORG-3').result({ organization: null })).toBeNull();
    expect(route('ORG-6').result({ organization: null })).toBeNull();
  });

  it('shapes the ORG-6 envelope of MemberResponse', () => {
    const gqlMember = {
      userId: USER_ID, organizationId: ORG_ID, username: 'ana', fullName: null, email: 'ana@example.com',
      role: 'ADMIN', teamId: null, teamName: null, joinedAt: '2026-04-22T17:35:24.000Z',
    };
    expect(route('ORG-6').result({ organization: { members: { items: [gqlMember], total: 7, limit: 1, offset: 2 } } })).toEqual({
      items: [{
        user_id: USER_ID, organization_id: ORG_ID, username: 'ana', full_name: null, email: 'ana@example.com',
        role: 'admin', team_id: null, team_name: null, joined_at: '2026-04-22T17:35:24.000Z',
      }],
      total: 7,
      limit: 1,
      offset: 2,
    });
  });

  it('shapes APIKeyCreateResponse and KEY-4 tenants', () => {
    const apiKey = {
      id: 'k1', name: 'CI', organizationId: ORG_ID, keyPrefix: 'xntr-AbC1dE2', scopes: ['rag:read'], allowedIps: [],
      expiresAt: null, expired: false, createdBy: USER_ID, createdAt: '2026-04-22T17:35:24.000Z', lastUsedAt: null,
    };
    expect(route('KEY-2').result({ createApiKey: { apiKey, key: 'xntr-secret' } })).toEqual({
      id: 'k1', name: 'CI', organization_id: ORG_ID, key_prefix: 'xntr-AbC1dE2', scopes: ['rag:read'], allowed_ips: [],
      expires_at: null, expired: false, created_by: USER_ID, created_at: '2026-04-22T17:35:24.000Z', last_used_at: null, key: 'xntr-secret',
    });
    expect(route('KEY-4').result({ tenants: [{ id: ORG_ID, name: 'Acme', slug: 'acme', role: null, canViewAllKeys: true }] }))
      .toEqual([{ id: ORG_ID, name: 'Acme', slug: 'acme', role: null, can_view_all_keys: true }]);
  });

  it('gives 204 routes a non-null result when the payload arrived', () => {
    expect(route('ORG-5').result({ deleteOrganization: { id: ORG_ID } })).toEqual({});
    expect(route('ORG-10').result({ removeMember: { organizationId: ORG_ID, userId: USER_ID } })).toEqual({});
    expect(route('KEY-3').result({ deleteApiKey: { id: 'k1' } })).toEqual({});
    expect(route('KEY-3').result({ deleteApiKey: null })).toBeNull();
  });
});
