/** Literals leave SQL text before it becomes a span attribute; the statement's shape stays. */
import { describe, expect, it } from 'vitest';
import { sanitizeSql } from './sql-text.ts';

describe('sanitizeSql', () => {
  it('replaces quoted strings, escaped quotes, prefixed and dollar-quoted strings and numbers', () => {
    expect(sanitizeSql(`select "u0".* from "identity"."users" as "u0" where "u0"."email" = 'o''brien@x.test' and "u0"."age" > 42 limit 1`)).toBe(
      `select "u0".* from "identity"."users" as "u0" where "u0"."email" = ? and "u0"."age" > ? limit ?`,
    );
    expect(sanitizeSql(`insert into "t" ("a", "b", "c") values (E'line\\n', -3.5e2, $tag$ secret $tag$)`)).toBe(`insert into "t" ("a", "b", "c") values (?, ?, ?)`);
    expect(sanitizeSql(`select * from "t" where "id" in ('a', 'b') and "x" = $$raw$$`)).toBe(`select * from "t" where "id" in (?, ?) and "x" = ?`);
  });

  it('keeps identifiers with digits, casts and placeholders', () => {
    expect(sanitizeSql(`select "o0"."id"::int4, "2fa" from "t1" where "v" = $1 and "w" = $2`)).toBe(`select "o0"."id"::int4, "2fa" from "t1" where "v" = $1 and "w" = $2`);
  });
});
