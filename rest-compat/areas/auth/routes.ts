/** Authentication, AUTH-1..6 (§3.1). */
import { v, isEmail, isIanaZone, isHttpsUrl } from '../../validation.ts';
import { defineRoute, type RouteDecl } from '../../route.ts';
import { field, present } from '../../shape.ts';
import { LogoutResponse, TokenResponse, UserProfile } from './responses.ts';

const USERNAME = /^[a-z0-9_]{3,30}$/;
const LANGUAGE = /^[a-z]{2}(-[A-Z]{2})?$/;

const username = () => v.str({ lower: true, pattern: USERNAME });
const timezone = () => v.custom(v.str(), (s) => (isIanaZone(s) ? null : 'Unknown time zone'));
const language = () => v.str({ pattern: LANGUAGE });

const registerBody = v.object({
  email: v.custom(v.str({ max: 254 }), (s) => (isEmail(s) ? null : 'value is not a valid email address')),
  username: username(),
  password: v.str({ min: 8, max: 128 }),
  full_name: v.optional(v.nullable(v.str({ min: 1, max: 100 }))),
  timezone: v.optional(timezone()),
  preferred_language: v.optional(language()),
});

const loginForm = v.object({
  username: v.str(),
  password: v.str(),
  grant_type: v.optional(v.str({ pattern: /^password$/ })),
  scope: v.optional(v.str()),
  client_id: v.optional(v.str()),
  client_secret: v.optional(v.str()),
});

const refreshBody = v.object({ refresh_token: v.str({ min: 1, max: 512 }) });
const logoutBody = v.object({ refresh_token: v.optional(v.nullable(v.str())) });

const updateBody = v.object({
  full_name: v.optional(v.nullable(v.str({ min: 1, max: 100 }))),
  username: v.optional(username()),
  timezone: v.optional(timezone()),
  preferred_language: v.optional(language()),
  avatar_url: v.optional(v.nullable(v.custom(v.str({ max: 2048 }), (s) => (isHttpsUrl(s) ? null : 'URL must be an absolute https:// URL')))),
  public_profile_enabled: v.optional(v.bool()),
});

export const authRoutes: RouteDecl[] = [
  defineRoute({
    id: 'AUTH-1',
    degradable: true,
    method: 'POST',
    path: '/api/auth/register',
    summary: 'Register a new user',
    tag: 'Authentication',
    body: { kind: 'json', spec: registerBody },
    operation: 'Register',
    variables: ({ body }) => ({
      input: {
        email: body.email,
        username: body.username,
        password: body.password,
        ...present(body, { full_name: 'fullName', timezone: 'timezone', preferred_language: 'preferredLanguage' }),
      },
    }),
    response: UserProfile,
    select: (data) => field(data, 'register', 'user'),
    status: 201,
  }),
  defineRoute({
    id: 'AUTH-2',
    method: 'POST',
    path: '/api/auth/login',
    summary: 'Log in and get an access token',
    tag: 'Authentication',
    body: { kind: 'form', spec: loginForm },
    operation: 'Login',
    variables: ({ body }) => ({ input: { username: body.username, password: body.password, grantType: body.grant_type ?? null } }),
    response: TokenResponse,
    select: (data) => data.login,
    status: 200,
  }),
  defineRoute({
    id: 'AUTH-3',
    method: 'POST',
    path: '/api/auth/refresh',
    summary: 'Refresh an access token',
    tag: 'Authentication',
    body: { kind: 'json', spec: refreshBody },
    operation: 'RefreshToken',
    variables: ({ body }) => ({ input: { refreshToken: body.refresh_token } }),
    response: TokenResponse,
    select: (data) => data.refreshToken,
    status: 200,
  }),
  defineRoute({
    id: 'AUTH-4',
    method: 'POST',
    path: '/api/auth/logout',
    summary: 'Log out the current user',
    tag: 'Authentication',
    body: { kind: 'json', spec: logoutBody, optional: true },
    operation: 'Logout',
    variables: ({ body }) => ({ input: { refreshToken: body?.refresh_token ?? null } }),
    response: LogoutResponse,
    select: (data) => data.logout,
    status: 200,
  }),
  defineRoute({
    id: 'AUTH-5',
    degradable: true,
    method: 'GET',
    path: '/api/auth/me',
    summary: 'Get the current authenticated user',
    tag: 'Authentication',
    operation: 'Me',
    variables: () => ({}),
    response: UserProfile,
    select: (data) => data.me,
    status: 200,
    notFound: 'User',
  }),
  defineRoute({
    id: 'AUTH-6',
    degradable: true,
    method: 'PATCH',
    path: '/api/auth/me',
    summary: 'Update the current authenticated user',
    tag: 'Authentication',
    body: { kind: 'json', spec: updateBody },
    operation: 'UpdateMe',
    variables: ({ body }) => ({
      input: present(body, {
        full_name: 'fullName',
        username: 'username',
        timezone: 'timezone',
        preferred_language: 'preferredLanguage',
        avatar_url: 'avatarUrl',
        public_profile_enabled: 'publicProfileEnabled',
      }),
    }),
    response: UserProfile,
    select: (data) => field(data, 'updateMe', 'user'),
    status: 200,
  }),
];
