/**
 * pino JSON logger; one root per process, children per service and per request. Logged errors
 * never carry the values of a failed SQL statement: knex prefixes a database error's message with
 * the statement as sent, values inlined, and PostgreSQL's `detail` repeats the failing row, so
 * the `err` serializer logs the statement with each literal replaced by `?` and drops the fields
 * that quote values (issue 11: user input never appears in error logs).
 */
import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import { prettyDestination } from './log-pretty.ts';

export type { Logger };

/**
 * Writes each log line to `destination` when given (tests read them), else to stdout: JSON lines,
 * or readable ones when stdout is a terminal.
 */
export function createLogger(level: string, name = 'xentree', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.password', '*.refreshToken'], remove: true },
    serializers: { err: (err: unknown) => stdSerializers.err(errorWithoutValues(err) as Error) },
  };
  if (destination) return pino(options, destination);
  return process.stdout.isTTY ? pino(options, prettyDestination(process.stdout)) : pino(options);
}

/** Properties of a PostgreSQL error (and of MikroORM's copy of it) that quote row or parameter values. */
const VALUE_FIELDS = new Set(['detail', 'where', 'internalQuery', 'parameters', 'params', 'bindings']);
/** Properties holding a statement. */
const SQL_FIELDS = new Set(['sql', 'query']);

const SQL_START = /^\s*(?:select|insert|update|delete|with|create|alter|drop|truncate|begin|commit|rollback|savepoint|release|set|lock|copy|values|explain|vacuum|analyze|refresh|reindex|grant|revoke|notify|listen)\s/i;

/**
 * A copy of `err` (and of its `cause` chain) whose message and stack hold no SQL values; anything
 * that is not an error is returned as it is.
 */
export function errorWithoutValues(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 8) return err;
  const database = isDatabaseError(err);
  const message = messageWithoutValues(err.message, database);
  const copy: Record<string, unknown> = Object.create(Object.getPrototypeOf(err) as object | null) as Record<string, unknown>;
  for (const key of Object.keys(err)) {
    const value: unknown = Reflect.get(err, key);
    if (VALUE_FIELDS.has(key)) continue;
    copy[key] = SQL_FIELDS.has(key) && typeof value === 'string' ? sqlWithoutValues(value) : key === 'errors' && Array.isArray(value) ? value.map((e) => errorWithoutValues(e, depth + 1)) : value;
  }
  Object.defineProperty(copy, 'message', { value: message, enumerable: false, writable: true, configurable: true });
  // The stack starts with "<name>: <message>", whose message may span lines; keep only the frames.
  const frames = (err.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  Object.defineProperty(copy, 'stack', { value: [`${err.name}: ${message}`, ...frames].join('\n'), enumerable: false, writable: true, configurable: true });
  if (err.cause !== undefined) Object.defineProperty(copy, 'cause', { value: errorWithoutValues(err.cause, depth + 1), enumerable: false, writable: true, configurable: true });
  return copy;
}

function isDatabaseError(err: Error): boolean {
  return ['severity', 'sqlState', 'routine'].some((key) => Object.hasOwn(err, key));
}

/**
 * knex's "<statement> - <database message>": the statement without its literals, and the database
 * message without the values it quotes. MikroORM appends PostgreSQL's `detail` (the failing row)
 * and `hint` on lines of their own; they are cut (the hint stays a field of its own). A message
 * that is none of these is returned as it is.
 */
function messageWithoutValues(full: string, database: boolean): string {
  const notes = /\n - (?:detail|hint): /.exec(full);
  const message = notes ? full.slice(0, notes.index) : full;
  if (SQL_START.test(message)) {
    const split = message.lastIndexOf(' - ');
    if (split < 0) return sqlWithoutValues(message);
    return `${sqlWithoutValues(message.slice(0, split))} - ${databaseMessageWithoutValues(message.slice(split + 3))}`;
  }
  return database ? databaseMessageWithoutValues(message) : message;
}

/** Object kinds PostgreSQL names in double quotes; any other quoted text in a message is a value. */
const NAMED = /(?:constraint|relation|column|table|schema|index|type|function|database|role|extension|sequence|view|trigger|domain|operator|collation|policy|procedure|savepoint|cursor|statement|portal)\s+$/i;

/** PostgreSQL's message with quoted values (`invalid input syntax for type uuid: "…"`) as `?`. */
export function databaseMessageWithoutValues(message: string): string {
  return message.replace(/"(?:[^"]|"")*"/g, (quoted, offset: number) => (NAMED.test(message.slice(Math.max(0, offset - 24), offset)) ? quoted : '?'));
}

const IDENT = /[A-Za-z0-9_$]/;

/**
 * A SQL statement with every literal (strings, E'' strings, dollar-quoted strings, numbers) as `?`.
 * Quoted identifiers, keywords and `$n` placeholders stay.
 */
export function sqlWithoutValues(sql: string): string {
  let out = '';
  let i = 0;
  const prevIsIdent = (): boolean => i > 0 && IDENT.test(sql.charAt(i - 1));
  while (i < sql.length) {
    const c = sql.charAt(i);
    if (c === '"') {
      const end = closing(sql, i, '"', false);
      out += sql.slice(i, end);
      i = end;
    } else if (c === "'" || ((c === 'E' || c === 'e') && sql.charAt(i + 1) === "'" && !prevIsIdent())) {
      const escapes = c !== "'";
      i = closing(sql, escapes ? i + 1 : i, "'", escapes);
      out += '?';
    } else if (c === '$' && !prevIsIdent()) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? sql.length : end + tag[0].length;
        out += '?';
      } else {
        const placeholder = /^\$\d+/.exec(sql.slice(i))?.[0] ?? '$';
        out += placeholder;
        i += placeholder.length;
      }
    } else if (/[0-9]/.test(c) && !prevIsIdent()) {
      const number = /^\d+(?:\.\d*)?(?:[eE][-+]?\d+)?/.exec(sql.slice(i))?.[0] ?? c;
      out += '?';
      i += number.length;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** Index just past the quote closing the one at `start` (doubled quotes, and backslashes when `escapes`, do not close). */
function closing(sql: string, start: number, quote: string, escapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql.charAt(i);
    if (escapes && c === '\\') i += 2;
    else if (c === quote && sql.charAt(i + 1) === quote) i += 2;
    else if (c === quote) return i + 1;
    else i += 1;
  }
  return sql.length;
}
