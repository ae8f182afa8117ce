/** Small readers for GraphQL `data` when shaping REST responses. */

export function object(x: unknown): Record<string, unknown> | null {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : null;
}

/** Reads `data.a.b...`; undefined when any step is missing. */
export function field(data: unknown, ...path: string[]): unknown {
  let cur: unknown = data;
  for (const key of path) {
    const o = object(cur);
    if (!o) return undefined;
    cur = o[key];
  }
  return cur;
}

/** `x` when it is an array, else `[]` (a list field of a missing parent). */
export function array(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}

/** A GraphQL enum value in REST's lowercase (`OWNER` → `"owner"`); null when absent. */
export function lowerEnum(x: unknown): string | null {
  return typeof x === 'string' ? x.toLowerCase() : null;
}

/**
 * Copies only the keys present in `body`, renamed, so PATCH/PUT keep "absent" (unchanged)
 * distinct from an explicit null (clear) when building a GraphQL input.
 */
export function present(body: Record<string, unknown>, names: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [from, to] of Object.entries(names)) if (Object.hasOwn(body, from) && body[from] !== undefined) out[to] = body[from];
  return out;
}

/**
 * A 204 route's `result`: a non-null placeholder when the mutation's payload arrived (the engine
 * sends no body), null (→ 404) when it did not.
 */
export function noContent(payload: unknown): Record<string, never> | null {
  return object(payload) ? {} : null;
}

/** camelCase → snake_case (for mapping service field errors back to REST field names). */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
