import { describe, expect, it } from 'vitest';
import { createLogger, databaseMessageWithoutValues, errorWithoutValues, sqlWithoutValues } from './logger.ts';

describe('sqlWithoutValues', () => {
  it('replaces every literal with ? and keeps identifiers, keywords and placeholders', () => {
    expect(sqlWithoutValues(`insert into "chat"."notes" ("id", "title", "tags", "n") values ('6ef3', 'it''s', E'[\\"a\\\\u0000b\\"]', 42) returning "id"`)).toBe(
      'insert into "chat"."notes" ("id", "title", "tags", "n") values (?, ?, ?, ?) returning "id"',
    );
    expect(sqlWithoutValues(`select "u0".* from "identity"."users" as "u0" where "u0"."username" = 'bob' and "u0"."n" > -1.5e3 limit 1 offset $1`)).toBe(
      'select "u0".* from "identity"."users" as "u0" where "u0"."username" = ? and "u0"."n" > -? limit ? offset $1',
    );
    expect(sqlWithoutValues(`select $tag$secret$tag$, $$x$$, "weird""name" from t2`)).toBe('select ?, ?, "weird""name" from t2');
    expect(sqlWithoutValues(`select 'unterminated`)).toBe('select ?');
  });
});

describe('databaseMessageWithoutValues', () => {
  it('keeps the names of database objects and drops quoted values', () => {
    expect(databaseMessageWithoutValues('new row for relation "conversations" violates check constraint "no_secret"')).toBe(
      'new row for relation "conversations" violates check constraint "no_secret"',
    );
    expect(databaseMessageWithoutValues('invalid input syntax for type uuid: "secret"')).toBe('invalid input syntax for type uuid: ?');
    expect(databaseMessageWithoutValues('value "2147483648" is out of range for type integer')).toBe('value ? is out of range for type integer');
  });
});

describe('errorWithoutValues', () => {
  /** A MikroORM DriverException as it arrives: knex's prefix, PostgreSQL's fields, the detail line. */
  function driverError(): Error {
    const err = new Error(`insert into "t" ("a") values ('Secret') - new row for relation "t" violates check constraint "c"\n - detail: Failing row contains (Secret).`);
    Object.assign(err, { severity: 'ERROR', code: '23514', detail: 'Failing row contains (Secret).', constraint: 'c', where: 'near Secret' });
    return err;
  }

  it('scrubs message, stack and the value fields, down the cause chain', () => {
    const outer = new Error(driverError().message, { cause: driverError() });
    const clean = errorWithoutValues(outer) as Error & { cause: Error & Record<string, unknown> };
    expect(clean.message).toBe('insert into "t" ("a") values (?) - new row for relation "t" violates check constraint "c"');
    expect(clean.stack?.split('\n')[0]).toBe(`Error: ${clean.message}`);
    expect(clean.cause.message).toBe(clean.message);
    expect(clean.cause).toMatchObject({ severity: 'ERROR', code: '23514', constraint: 'c' });
    expect(clean.cause.detail).toBeUndefined();
    expect(clean.cause.where).toBeUndefined();
    expect(JSON.stringify({ m: clean.message, s: clean.stack, c: clean.cause.stack })).not.toContain('Secret');
  });

  it('leaves other errors and non-errors alone', () => {
    const plain = new Error('Cannot read properties of undefined');
    expect((errorWithoutValues(plain) as Error).message).toBe(plain.message);
    expect(errorWithoutValues('text')).toBe('text');
  });

  it('is the logger’s err serializer', () => {
    const lines: string[] = [];
    createLogger('error', 'test', { write: (line: string) => void lines.push(line) }).error({ err: driverError() }, 'failed');
    const logged = JSON.parse(lines[0] ?? '{}') as { err: Record<string, unknown> };
    expect(logged.err).toMatchObject({ type: 'Error', code: '23514', message: 'insert into "t" ("a") values (?) - new row for relation "t" violates check constraint "c"' });
    expect(lines.join('')).not.toContain('Secret');
  });
});
