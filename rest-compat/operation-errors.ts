/**
 * The error statuses and codes each REST operation documents beyond the ones every operation of
 * its kind has (401/403 with credentials, 404 with a path id, 422 with input, 429 when limited,
 * 500), so the OpenAPI document lists every status a client must handle. A `null` code is a
 * status answered with its usual body (404 `not_found`, 422 validation errors).
 */
import type { JsonObject } from './json-schema.ts';

type Documented = readonly (readonly [status: number, code: string | null])[];

export const OPERATION_ERRORS: Readonly<Record<string, Documented>> = {
  'AUTH-1': [[409, "email_taken"], [409, "username_taken"], [422, null]],
  'AUTH-2': [[401, "invalid_credentials"], [422, null]],
  'AUTH-3': [[401, "invalid_refresh_token"], [401, "refresh_token_reused"]],
  'AUTH-6': [[409, "username_taken"], [422, null]],
  'CONV-2': [[404, "not_found"], [400, "unknown_provider"], [502, "provider_error"]],
  'CONV-4': [[400, "unknown_provider"]],
  'CONV-11': [[422, null]],
  'CONV-12': [[403, "admin_required"]],
  'CONV-13': [[403, "admin_required"], [404, "not_found"], [409, "reindex_in_progress"]],
  'CONV-14': [[404, "not_found"]],
  'CONV-17': [[404, "not_found"]],
  'KB-1': [[404, "not_found"]],
  'KB-2': [[404, "not_found"]],
  'KB-3': [[400, "conversation_required"], [400, "invalid_share_scope"], [400, "organization_required"], [400, "empty_file"], [400, "document_unreadable"], [403, "tenant_mismatch"], [404, "not_found"], [413, "file_too_large"], [413, "document_too_large"], [415, "unsupported_media_type"]],
  'KB-4': [[404, "not_found"], [400, "unknown_provider"], [502, "provider_error"]],
  'ORG-2': [[409, "slug_taken"]],
  'ORG-4': [[403, "tenant_mismatch"], [403, "insufficient_role"], [409, "slug_taken"], [404, null]],
  'ORG-5': [[403, "tenant_mismatch"], [403, "insufficient_role"], [404, null]],
  'ORG-7': [[403, "tenant_mismatch"], [403, "insufficient_role"], [409, "already_member"], [404, null]],
  'ORG-8': [[403, "tenant_mismatch"], [403, "insufficient_role"], [409, "last_owner"], [404, null]],
  'ORG-9': [[403, "tenant_mismatch"], [409, "already_member"], [404, null]],
  'ORG-10': [[403, "tenant_mismatch"], [403, "insufficient_role"], [409, "last_owner"], [404, null]],
  'XP-2': [[404, "not_found"]],
  'XP-7': [[400, "invalid_date_range"], [400, "date_range_too_large"], [422, null]],
  'XEL-4': [[409, "module_incomplete"], [404, null]],
  'XEL-5': [[400, "invalid_option"], [409, "session_already_ended"], [502, "provider_error"], [404, null]],
  'XEL-6': [[429, "regenerate_limit_reached"], [502, "provider_error"], [404, null]],
  'XEL-7': [[409, "session_already_ended"], [502, "provider_error"], [404, null]],
  'XEL-9': [[422, null]],
  'XEL-10': [[404, null]],
  'XEL-11': [[409, "session_already_ended"], [404, null]],
  'XEL-12': [[409, "session_already_ended"], [400, "transcript_limit_reached"], [404, null]],
  'LIVE-2': [[409, "live_session_active"], [429, "live_quota_exceeded"]],
  'LIVE-3': [[404, "not_found"], [409, "session_already_ended"], [429, "live_quota_exceeded"]],
  'LIVE-4': [[404, "not_found"]],
  'LIVE-7': [[401, "invalid_service_key"], [400, "invalid_time_range"], [404, null]],
  'LIVE-8': [[404, "not_found"]],
  'SKL-2': [[503, "integration_not_configured"]],
  'SKL-3': [[400, "invalid_oauth_state"], [400, "oauth_denied"], [502, "oauth_exchange_failed"], [503, "integration_not_configured"]],
  'INT-1': [[400, "tenant_required"], [403, "tenant_mismatch"], [403, "insufficient_role"], [422, null]],
  'INT-2': [[403, "tenant_mismatch"]],
  'INT-3': [[400, "invalid_integration_token"], [403, "tenant_mismatch"], [403, "insufficient_role"], [404, "not_found"], [422, null]],
  'INT-4': [[400, "invalid_integration_token"], [400, "integration_token_revoked"], [400, "scope_escalation"], [403, "tenant_mismatch"], [403, "insufficient_role"], [422, null]],
  'INT-7': [[403, "admin_required"]],
  'KEY-1': [[404, "not_found"]],
  'KEY-2': [[404, "not_found"], [400, "invalid_expiry"], [422, null]],
  'KEY-3': [[404, "not_found"]],
};

const ref = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` });

/** Statuses with a shared response component; others are described by their codes. */
const SHARED: Readonly<Record<number, string>> = { 401: 'Unauthorized', 404: 'NotFound', 422: 'ValidationFailed', 429: 'RateLimited' };

/** The responses `id` documents that `present` (the generated ones) does not have yet. */
export function documentedErrorResponses(id: string, present: JsonObject): JsonObject {
  const byStatus = new Map<number, string[]>();
  for (const [status, code] of OPERATION_ERRORS[id] ?? []) {
    const codes = byStatus.get(status) ?? [];
    if (code) codes.push(code);
    byStatus.set(status, codes);
  }
  const out: JsonObject = {};
  for (const [status, codes] of byStatus) {
    if (present[String(status)] !== undefined) continue;
    const shared = SHARED[status];
    out[String(status)] =
      shared && (codes.length === 0 || status === 401 || status === 429)
        ? ref(shared)
        : {
            description: codes.length > 0 ? codes.map((c) => `\`${c}\``).join(', ') : 'See the error body.',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          };
  }
  return out;
}
