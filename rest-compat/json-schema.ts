/**
 * JSON Schema building blocks (OpenAPI 3.1 dialect) shared by the response and error schemas, in
 * a file of their own so the schema tables depend on it rather than on each other.
 */

/** A JSON value, as the OpenAPI document is plain JSON. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const str: JsonObject = { type: 'string' };
export const strOrNull: JsonObject = { type: ['string', 'null'] };
export const uuid: JsonObject = { type: 'string', format: 'uuid' };

/** Every documented field is always present (§1.1), so every property is required. */
export function record(properties: Record<string, JsonObject>, description?: string): JsonObject {
  return { type: 'object', ...(description ? { description } : {}), required: Object.keys(properties), properties };
}
