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

/** camelCase → snake_case (for mapping service field errors back to REST field names). */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
