/**
 * JSON Schemas (OpenAPI 3.1 dialect) of the error bodies (§1.7, §1.8) and of the response bodies
 * by name: each area's response definitions (`areas/<area>/*responses.ts`) and the gateway's own
 * endpoints (health). A `responseName` with no schema is still published as a named component,
 * with a generic object schema, so the reference stays stable when its definition is added.
 */

import { AREA_ROUTES } from './areas/index.ts';
import { record, str, type JsonObject } from './json-schema.ts';

const dateTime: JsonObject = { type: 'string', format: 'date-time', description: 'UTC, ISO 8601 with exactly 3 fractional digits and `Z`.' };

const healthCheck = record({ status: { type: 'string', enum: ['ok', 'down'] }, latency_ms: { type: 'integer', minimum: 0, maximum: 2000 } });

/** Every response definition of the areas' routes (and those they refer to), by name. */
const DEFINED_SCHEMAS: Record<string, JsonObject> = Object.fromEntries(
  AREA_ROUTES.flat().flatMap((route) => route.response?.def.components() ?? []).map((def) => [def.name, def.schema]),
);

/** Response schemas by their documented name. */
export const RESPONSE_SCHEMAS: Record<string, JsonObject> = {
  ...DEFINED_SCHEMAS,
  HealthResponse: record({ status: { type: 'string', const: 'ok' } }),
  HealthCheck: healthCheck,
  HealthDetailedResponse: record({
    status: { type: 'string', enum: ['ok', 'degraded'] },
    checks: record({
      database: { $ref: '#/components/schemas/HealthCheck' },
      pubsub: { $ref: '#/components/schemas/HealthCheck' },
      subgraphs: { type: 'object', description: 'One check per composed subgraph, by name.', additionalProperties: { $ref: '#/components/schemas/HealthCheck' } },
    }),
    checked_at: dateTime,
    supergraph: record(
      { hash: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'sha256 of the supergraph SDL served, hex.' }, loaded_at: dateTime },
      'The supergraph this gateway serves and when it loaded it (README "Reloading the supergraph").',
    ),
  }),
};

/** The error bodies every route may answer with (§1.7, §1.8). */
export const ERROR_SCHEMAS: Record<string, JsonObject> = {
  Error: record(
    {
      detail: {
        type: 'object',
        required: ['error', 'message'],
        properties: {
          error: { type: 'string', description: 'Stable error code; branch on this, never on `message`.' },
          message: str,
        },
        additionalProperties: true,
        description: 'Some codes carry extra keys, e.g. `required_scope` and `granted_scopes`, or `retry_after`.',
      },
    },
    'A coded error (§1.7).',
  ),
  SimpleDetail: record({ detail: str }, 'Only for 401 without credentials, 404 unknown route and 405.'),
  ValidationErrorItem: {
    type: 'object',
    required: ['type', 'loc', 'msg', 'input'],
    properties: {
      type: { type: 'string', description: 'Pydantic v2 error type, e.g. `missing`, `string_too_short`.' },
      loc: { type: 'array', items: { type: ['string', 'integer'] }, description: 'Starts with `body`, `query`, `path` or `header`.' },
      msg: str,
      input: { description: 'The offending value.' },
      ctx: { type: 'object', description: 'Present only for constraint errors, e.g. `{"min_length": 8}`.' },
    },
  },
  ValidationError: record({ detail: { type: 'array', items: { $ref: '#/components/schemas/ValidationErrorItem' } } }, 'FastAPI / Pydantic v2 validation errors (§1.8).'),
};

/** A placeholder for a documented schema whose fields are not described here yet. */
export function genericSchema(name: string): JsonObject {
  return { type: 'object', description: `\`${name}\` as documented in the API contract.`, additionalProperties: true };
}
