import { describe, expect, it } from 'vitest';
import { AppError, ERROR_REGISTRY, isErrorCode, notFound, requireFound, restBodyOf, toGraphQLExtensions, trpcCodeOf, type ErrorCode, type FieldError } from './errors.ts';

const FIELD: FieldError = { type: 'string_too_short', loc: ['body', 'password'], msg: 'String should have at least 8 characters', input: 'abc', ctx: { min_length: 8 } };

describe('restBodyOf (§1.7)', () => {
  it('renders a coded error as {"detail":{"error","message"}}', () => {
    expect(restBodyOf('EMAIL_TAKEN', 'Email is already registered')).toEqual({
      status: 409,
      body: { detail: { error: 'email_taken', message: 'Email is already registered' } },
    });
    expect(restBodyOf('TOKEN_REVOKED', 'Session has been revoked')).toEqual({
      status: 401,
      body: { detail: { error: 'token_revoked', message: 'Session has been revoked' } },
    });
  });

  it('renders the three simple bodies with their fixed text, whatever message is passed', () => {
    expect(restBodyOf('UNAUTHENTICATED', 'Missing internal context')).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
    expect(restBodyOf('ROUTE_NOT_FOUND', '')).toEqual({ status: 404, body: { detail: 'Not Found' } });
    expect(restBodyOf('METHOD_NOT_ALLOWED', '')).toEqual({ status: 405, body: { detail: 'Method Not Allowed' } });
  });

  it('renders BAD_USER_INPUT as 422 {"detail": [items]}', () => {
    expect(restBodyOf('BAD_USER_INPUT', 'ignored', {}, [FIELD])).toEqual({ status: 422, body: { detail: [FIELD] } });
    expect(restBodyOf('BAD_USER_INPUT', 'ignored')).toEqual({ status: 422, body: { detail: [] } });
  });

  it('puts extras next to error and message (INSUFFICIENT_API_KEY_SCOPE keeps its documented casing)', () => {
    expect(restBodyOf('INSUFFICIENT_API_KEY_SCOPE', 'API key lacks required scope for this endpoint', { required_scope: 'api:write', granted_scopes: ['api:read'] })).toEqual({
      status: 403,
      body: {
        detail: {
          error: 'INSUFFICIENT_API_KEY_SCOPE',
          message: 'API key lacks required scope for this endpoint',
          required_scope: 'api:write',
          granted_scopes: ['api:read'],
        },
      },
    });
    expect(restBodyOf('INTERNAL', 'Internal server error', { request_id: 'req-1' })).toEqual({
      status: 500,
      body: { detail: { error: 'internal_error', message: 'Internal server error', request_id: 'req-1' } },
    });
  });
});

describe('AppError', () => {
  it('defaults to the registry message and status', () => {
    const err = new AppError('RATE_LIMITED', { extras: { retry_after: 30 } });
    expect(err).toBeInstanceOf(Error);
    expect({ name: err.name, code: err.code, message: err.message, status: err.status, extras: err.extras, fields: err.fields }).toEqual({
      name: 'AppError',
      code: 'RATE_LIMITED',
      message: 'Too many requests',
      status: 429,
      extras: { retry_after: 30 },
      fields: undefined,
    });
  });

  it('keeps its cause', () => {
    const cause = new Error('db down');
    expect(new AppError('INTERNAL', { cause }).cause).toBe(cause);
  });

  it('notFound(resource) uses the "<Resource> not found" message', () => {
    const err = notFound('Conversation');
    expect({ code: err.code, message: err.message, status: err.status }).toEqual({ code: 'NOT_FOUND', message: 'Conversation not found', status: 404 });
    expect(restBodyOf(err.code, err.message)).toEqual({ status: 404, body: { detail: { error: 'not_found', message: 'Conversation not found' } } });
    expect(notFound('Live session').message).toBe('Live session not found');
  });

  it('requireFound(value, resource) passes a found value through and makes a missing one NOT_FOUND', () => {
    const doc = { id: 'd1' };
    expect(requireFound(doc, 'Document')).toBe(doc);
    expect(requireFound(0, 'Count')).toBe(0);
    for (const missing of [null, undefined]) {
      const err = (() => {
        try {
          requireFound(missing, 'Document');
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(AppError);
      expect(err instanceof AppError && { code: err.code, message: err.message }).toEqual({ code: 'NOT_FOUND', message: 'Document not found' });
    }
  });
});

describe('the other renderings', () => {
  it('toGraphQLExtensions carries code, status, extras and fields', () => {
    expect(toGraphQLExtensions(new AppError('INSUFFICIENT_ROLE', { extras: { required_role: 'admin' } }))).toEqual({ code: 'INSUFFICIENT_ROLE', status: 403, required_role: 'admin' });
    expect(toGraphQLExtensions(new AppError('BAD_USER_INPUT', { fields: [FIELD] }))).toEqual({ code: 'BAD_USER_INPUT', status: 422, fields: [FIELD] });
  });

  it('trpcCodeOf maps statuses to tRPC codes', () => {
    const cases: [ErrorCode, string][] = [
      ['UNAUTHENTICATED', 'UNAUTHORIZED'],
      ['ADMIN_REQUIRED', 'FORBIDDEN'],
      ['NOT_FOUND', 'NOT_FOUND'],
      ['EMAIL_TAKEN', 'CONFLICT'],
      ['BAD_USER_INPUT', 'UNPROCESSABLE_CONTENT'],
      ['LIVE_QUOTA_EXCEEDED', 'TOO_MANY_REQUESTS'],
      ['PROVIDER_ERROR', 'BAD_GATEWAY'],
      ['INTERNAL', 'INTERNAL_SERVER_ERROR'],
    ];
    expect(cases.map(([code]) => [code, trpcCodeOf(code)])).toEqual(cases);
  });

  it('isErrorCode accepts registry keys only', () => {
    expect(isErrorCode('TOKEN_EXPIRED')).toBe(true);
    expect(isErrorCode('token_expired')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(404)).toBe(false);
  });
});

describe('the registry', () => {
  it('uses lower snake case REST codes, except the documented INSUFFICIENT_API_KEY_SCOPE', () => {
    for (const [code, def] of Object.entries(ERROR_REGISTRY)) {
      if (def.rest === null || code === 'INSUFFICIENT_API_KEY_SCOPE') continue;
      expect(def.rest, code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    }
  });

  it('has a simple body only for 401 Not authenticated, 404 Not Found, 405 and 422', () => {
    const simple = Object.entries(ERROR_REGISTRY).filter(([, d]) => d.rest === null).map(([code]) => code);
    expect(simple.sort()).toEqual(['BAD_USER_INPUT', 'METHOD_NOT_ALLOWED', 'ROUTE_NOT_FOUND', 'UNAUTHENTICATED']);
  });
});
