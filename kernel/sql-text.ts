/**
 * SQL text fit for a span attribute. MikroORM writes values into the statement text itself (knex
 * receives `… where "id" = '5f0c…'`, not `$1` and a parameter list), so the pg instrumentation's
 * `db.query.text` would carry users' data. As OpenTelemetry's database conventions ask for
 * non-parameterised text, every literal becomes `?`: quoted strings (with `''` escapes and the
 * E/B/X/N prefixes), dollar-quoted strings and numbers. Identifiers, keywords and `$n` placeholders stay.
 */
const LITERALS = /\b[EeBbXxNnUu]&?'(?:[^']|'')*'|'(?:[^']|'')*'|\$([A-Za-z_][A-Za-z_0-9]*)?\$[\s\S]*?\$\1\$|(?<![\w$."])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b/g;

/** `sql` with every literal replaced by `?`. */
export function sanitizeSql(sql: string): string {
  return sql.replace(LITERALS, '?');
}
