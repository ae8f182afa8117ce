/**
 * The one error registry: every code a service may throw, with its HTTP status, tRPC code and the
 * REST body of §1.7. Services throw `AppError`s only; GraphQL, tRPC and REST each render
 * them once (see `toGraphQLExtensions`, `trpcCodeOf`, `restBodyOf`).
 */

/** tRPC error codes used by the registry. */
export type TrpcCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_SUPPORTED'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNPROCESSABLE_CONTENT'
  | 'TOO_MANY_REQUESTS'
  | 'INTERNAL_SERVER_ERROR'
  | 'BAD_GATEWAY'
  | 'SERVICE_UNAVAILABLE'
  | 'TIMEOUT';

interface ErrorDef {
  status: number;
  trpc: TrpcCode;
  /** The REST `error` value; null for the three simple `{"detail": "..."}` bodies and for 422. */
  rest: string | null;
  message: string;
}

const def = (status: number, trpc: TrpcCode, rest: string | null, message: string): ErrorDef => ({ status, trpc, rest, message });

/** Code → definition. GraphQL's `extensions.code` is the key; REST's `error` is `rest`. */
export const ERROR_REGISTRY = {
  // Generic codes, shared by every area.
  UNAUTHENTICATED: def(401, 'UNAUTHORIZED', null, 'Not authenticated'),
  NOT_FOUND: def(404, 'NOT_FOUND', 'not_found', 'Not found'),
  ROUTE_NOT_FOUND: def(404, 'NOT_FOUND', null, 'Not Found'),
  METHOD_NOT_ALLOWED: def(405, 'METHOD_NOT_SUPPORTED', null, 'Method Not Allowed'),
  BAD_USER_INPUT: def(422, 'UNPROCESSABLE_CONTENT', null, 'Request validation failed'),
  RATE_LIMITED: def(429, 'TOO_MANY_REQUESTS', 'rate_limited', 'Too many requests'),
  INTERNAL: def(500, 'INTERNAL_SERVER_ERROR', 'internal_error', 'Internal server error'),
  SERVICE_UNAVAILABLE: def(503, 'SERVICE_UNAVAILABLE', 'service_unavailable', 'Service unavailable'),
  // 400
  INVALID_DATE_RANGE: def(400, 'BAD_REQUEST', 'invalid_date_range', 'start_date must not be after end_date'),
  DATE_RANGE_TOO_LARGE: def(400, 'BAD_REQUEST', 'date_range_too_large', 'Date range must not exceed 366 days'),
  UNKNOWN_PROVIDER: def(400, 'BAD_REQUEST', 'unknown_provider', 'Unknown or unavailable AI provider'),
  CONVERSATION_REQUIRED: def(400, 'BAD_REQUEST', 'conversation_required', 'conversation_id is required for conversation-scoped documents'),
  INVALID_SHARE_SCOPE: def(400, 'BAD_REQUEST', 'invalid_share_scope', 'Only user-scoped documents can be shared'),
  ORGANIZATION_REQUIRED: def(400, 'BAD_REQUEST', 'organization_required', 'organization_id is required for shared documents'),
  EMPTY_FILE: def(400, 'BAD_REQUEST', 'empty_file', 'Uploaded file is empty'),
  DOCUMENT_UNREADABLE: def(400, 'BAD_REQUEST', 'document_unreadable', 'Text could not be extracted from the document'),
  INVALID_OPTION: def(400, 'BAD_REQUEST', 'invalid_option', 'Answer is not one of the task options'),
  INVALID_TIME_RANGE: def(400, 'BAD_REQUEST', 'invalid_time_range', 'session_ended_at must not be before session_started_at'),
  INVALID_EXPIRY: def(400, 'BAD_REQUEST', 'invalid_expiry', 'expires_at must be in the future'),
  TENANT_REQUIRED: def(400, 'BAD_REQUEST', 'tenant_required', 'tenantId is required'),
  INVALID_INTEGRATION_TOKEN: def(400, 'BAD_REQUEST', 'invalid_integration_token', 'Integration token is malformed or its signature is invalid'),
  INTEGRATION_TOKEN_REVOKED: def(400, 'BAD_REQUEST', 'integration_token_revoked', 'Integration token has been revoked'),
  SCOPE_ESCALATION: def(400, 'BAD_REQUEST', 'scope_escalation', 'Rotated token cannot gain scopes'),
  INVALID_OAUTH_STATE: def(400, 'BAD_REQUEST', 'invalid_oauth_state', 'OAuth state is invalid, expired or already used'),
  OAUTH_DENIED: def(400, 'BAD_REQUEST', 'oauth_denied', 'Authorization was denied or no code was returned'),
  TRANSCRIPT_LIMIT_REACHED: def(400, 'BAD_REQUEST', 'transcript_limit_reached', 'Session transcript limit reached'),
  // 401
  INVALID_TOKEN: def(401, 'UNAUTHORIZED', 'invalid_token', 'Could not validate credentials'),
  TOKEN_EXPIRED: def(401, 'UNAUTHORIZED', 'token_expired', 'Access token has expired'),
  TOKEN_REVOKED: def(401, 'UNAUTHORIZED', 'token_revoked', 'Session has been revoked'),
  INVALID_CREDENTIALS: def(401, 'UNAUTHORIZED', 'invalid_credentials', 'Incorrect username or password'),
  INVALID_REFRESH_TOKEN: def(401, 'UNAUTHORIZED', 'invalid_refresh_token', 'Refresh token is invalid or expired'),
  REFRESH_TOKEN_REUSED: def(401, 'UNAUTHORIZED', 'refresh_token_reused', 'Refresh token reuse detected; session revoked'),
  INVALID_API_KEY: def(401, 'UNAUTHORIZED', 'invalid_api_key', 'Invalid API key'),
  API_KEY_EXPIRED: def(401, 'UNAUTHORIZED', 'api_key_expired', 'API key has expired'),
  BEARER_REQUIRED: def(401, 'UNAUTHORIZED', 'bearer_required', 'This endpoint requires a bearer token'),
  INVALID_SERVICE_KEY: def(401, 'UNAUTHORIZED', 'invalid_service_key', 'Invalid internal service credentials'),
  // 403
  INSUFFICIENT_API_KEY_SCOPE: def(403, 'FORBIDDEN', 'INSUFFICIENT_API_KEY_SCOPE', 'API key lacks required scope for this endpoint'),
  API_KEY_IP_NOT_ALLOWED: def(403, 'FORBIDDEN', 'api_key_ip_not_allowed', 'Client IP is not allowed for this API key'),
  TENANT_MISMATCH: def(403, 'FORBIDDEN', 'tenant_mismatch', 'Credential is not valid for this organization'),
  INSUFFICIENT_ROLE: def(403, 'FORBIDDEN', 'insufficient_role', 'Insufficient organization role'),
  ADMIN_REQUIRED: def(403, 'FORBIDDEN', 'admin_required', 'Administrator role required'),
  // 409
  EMAIL_TAKEN: def(409, 'CONFLICT', 'email_taken', 'Email is already registered'),
  USERNAME_TAKEN: def(409, 'CONFLICT', 'username_taken', 'Username is already taken'),
  SLUG_TAKEN: def(409, 'CONFLICT', 'slug_taken', 'Organization slug is already taken'),
  ALREADY_MEMBER: def(409, 'CONFLICT', 'already_member', 'User is already a member of this organization'),
  LAST_OWNER: def(409, 'CONFLICT', 'last_owner', 'An organization must keep at least one owner'),
  NO_ACTIVE_SESSION: def(409, 'CONFLICT', 'no_active_session', 'No active session for this conversation'),
  SESSION_ALREADY_ENDED: def(409, 'CONFLICT', 'session_already_ended', 'Session has already ended'),
  LIVE_SESSION_ACTIVE: def(409, 'CONFLICT', 'live_session_active', 'A live session is already active'),
  MODULE_INCOMPLETE: def(409, 'CONFLICT', 'module_incomplete', 'Module has tasks without a passing submission'),
  REINDEX_IN_PROGRESS: def(409, 'CONFLICT', 'reindex_in_progress', 'A reindex is already running'),
  // Idempotency-Key (decided; README "Idempotent retries"): the key names another request, or its first use is still running.
  IDEMPOTENCY_KEY_REUSED: def(409, 'CONFLICT', 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request'),
  IDEMPOTENCY_KEY_IN_PROGRESS: def(409, 'CONFLICT', 'idempotency_key_in_progress', 'A request with this Idempotency-Key is still in progress'),
  // GraphQL operation limits (gateway/limits.ts). Rejected before execution, on GraphQL over HTTP
  // only; REST routes run fixed operations, so their REST bodies exist for completeness.
  QUERY_TOO_DEEP: def(400, 'BAD_REQUEST', 'query_too_deep', 'Query is nested too deeply'),
  TOO_MANY_ALIASES: def(400, 'BAD_REQUEST', 'too_many_aliases', 'Query uses too many aliases'),
  TOO_MANY_ROOT_FIELDS: def(400, 'BAD_REQUEST', 'too_many_root_fields', 'Query selects too many root fields'),
  TOO_MANY_DIRECTIVES: def(400, 'BAD_REQUEST', 'too_many_directives', 'Too many or repeated directives'),
  TOO_MANY_DUPLICATE_FIELDS: def(400, 'BAD_REQUEST', 'too_many_duplicate_fields', 'A field is repeated too often in one selection set'),
  QUERY_TOO_COMPLEX: def(400, 'BAD_REQUEST', 'query_too_complex', 'Query is too complex'),
  TOO_MANY_TOKENS: def(400, 'BAD_REQUEST', 'too_many_tokens', 'Query document is too large'),
  REQUEST_TOO_LARGE: def(413, 'PAYLOAD_TOO_LARGE', 'request_too_large', 'Request body is too large'),
  // 413 / 415 / 429 / 502 / 503
  FILE_TOO_LARGE: def(413, 'PAYLOAD_TOO_LARGE', 'file_too_large', 'File exceeds the 10 MB limit'),
  DOCUMENT_TOO_LARGE: def(413, 'PAYLOAD_TOO_LARGE', 'document_too_large', "The document's text exceeds the limit"),
  UNSUPPORTED_MEDIA_TYPE: def(415, 'UNSUPPORTED_MEDIA_TYPE', 'unsupported_media_type', 'Unsupported file type'),
  LIVE_QUOTA_EXCEEDED: def(429, 'TOO_MANY_REQUESTS', 'live_quota_exceeded', 'Monthly Live session quota exceeded'),
  REGENERATE_LIMIT_REACHED: def(429, 'TOO_MANY_REQUESTS', 'regenerate_limit_reached', 'Daily regeneration limit reached for this task'),
  PROVIDER_ERROR: def(502, 'BAD_GATEWAY', 'provider_error', 'AI provider request failed'),
  OAUTH_EXCHANGE_FAILED: def(502, 'BAD_GATEWAY', 'oauth_exchange_failed', 'Token exchange with the provider failed'),
  INTEGRATION_NOT_CONFIGURED: def(503, 'SERVICE_UNAVAILABLE', 'integration_not_configured', 'Integration is not configured'),
  // (decided) The operation's own time budget ran out (kernel/deadline.ts); nothing was stored.
  DEADLINE_EXCEEDED: def(504, 'TIMEOUT', 'deadline_exceeded', 'The request did not finish within its time budget; nothing was stored'),
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERROR_REGISTRY;

/** One item of a 422 body (FastAPI / Pydantic v2 shape, §1.8). */
export interface FieldError {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

/** Extra keys carried next to `error`/`message` (e.g. `required_scope`), already in wire casing. */
export type ErrorExtras = Record<string, unknown>;

/**
 * The only error type services throw. `extras` are rendered into the REST body and GraphQL
 * extensions; `fields` carries 422 items for `BAD_USER_INPUT`.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly extras: ErrorExtras;
  readonly fields: FieldError[] | undefined;

  constructor(code: ErrorCode, opts: { message?: string; extras?: ErrorExtras; fields?: FieldError[]; cause?: unknown } = {}) {
    super(opts.message ?? ERROR_REGISTRY[code].message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.extras = opts.extras ?? {};
    this.fields = opts.fields;
  }

  get status(): number {
    return ERROR_REGISTRY[this.code].status;
  }
}

/** The largest accepted upload (§3.3, §4.10). */
export const MAX_UPLOAD_BYTES = 10_485_760;

/** 413 `file_too_large` with the limit (§1.7's `max_bytes`). */
export function fileTooLarge(): AppError {
  return new AppError('FILE_TOO_LARGE', { extras: { max_bytes: MAX_UPLOAD_BYTES } });
}

/** `NOT_FOUND` with the API's message pattern `"<Resource> not found"`. */
export function notFound(resource: string): AppError {
  return new AppError('NOT_FOUND', { message: `${resource} not found` });
}

/**
 * The value that was found, for a non-null field whose target may have gone since its parent was
 * read (deleted in between).
 * @throws AppError NOT_FOUND (`"<Resource> not found"`) when it is null.
 */
export function requireFound<T>(value: T | null | undefined, resource: string): T {
  if (value === null || value === undefined) throw notFound(resource);
  return value;
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_REGISTRY, code);
}

/** GraphQL rendering: `extensions` of a GraphQL error for this AppError. */
export function toGraphQLExtensions(err: AppError): Record<string, unknown> {
  const out: Record<string, unknown> = { code: err.code, status: err.status, ...err.extras };
  if (err.fields) out.fields = err.fields;
  return out;
}

/** tRPC rendering: the tRPC code for this AppError. */
export function trpcCodeOf(code: ErrorCode): TrpcCode {
  return ERROR_REGISTRY[code].trpc;
}

/** REST rendering: status and JSON body exactly as §1.7/§1.8. */
export function restBodyOf(code: ErrorCode, message: string, extras: ErrorExtras = {}, fields?: FieldError[]): { status: number; body: unknown } {
  const d = ERROR_REGISTRY[code];
  if (code === 'BAD_USER_INPUT') return { status: 422, body: { detail: fields ?? [] } };
  if (d.rest === null) return { status: d.status, body: { detail: d.message } };
  return { status: d.status, body: { detail: { error: d.rest, message, ...extras } } };
}
