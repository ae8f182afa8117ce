/**
 * JSON request bodies read as FastAPI reads them: a syntax error, or nesting too deep to echo, is
 * one `json_invalid` 422 item at the position and in the wording of Python's `json` module.
 */
import { RequestValidationError } from './validation.ts';

class JsonSyntax { constructor(readonly msg: string, readonly pos: number) {} }
/** Re-scans text JSON.parse rejected, to report the position and wording Python's `json` gives. */
function findJsonError(s: string): JsonSyntax | null {
  let i = 0;
  const stop = (msg: string, at: number): never => { throw new JsonSyntax(msg, at); };
  const ws = (): void => { while (i < s.length && ' \t\n\r'.includes(s.charAt(i))) i++; };
  const step = (): void => { i++; ws(); };
  const str = (): void => {
    const begin = i++;
    for (;;) {
      const c = s.charAt(i);
      if (c === '') stop('Unterminated string starting at', begin);
      if (c === '"') return void i++;
      if (c < ' ') stop('Invalid control character at', i);
      if (c !== '\\') { i++; continue; }
      const e = s.charAt(i + 1); // '' (end of text) passes both checks and ends as unterminated
      // `>=` copies CPython: four hex digits ending the text count as a bad escape, not unterminated.
      if (e === 'u' && (i + 6 >= s.length || !/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6)))) stop('Invalid \\uXXXX escape', i + 1);
      if (!'u"\\/bfnrt'.includes(e)) stop('Invalid \\escape', i);
      i += e === 'u' ? 6 : 2;
    }
  };
  const container = (close: string, isObject: boolean): void => {
    step();
    if (s.charAt(i) === close) return void i++;
    for (;;) {
      if (isObject && s.charAt(i) !== '"') stop('Expecting property name enclosed in double quotes', i);
      if (isObject) { str(); ws(); if (s.charAt(i) !== ':') stop("Expecting ':' delimiter", i); step(); }
      value(); ws();
      if (s.charAt(i) === close) return void i++;
      if (s.charAt(i) !== ',') stop("Expecting ',' delimiter", i);
      step();
    }
  };
  const value = (): void => {
    const c = s.charAt(i);
    if (c === '"') return str();
    if (c === '{' || c === '[') return container(c === '{' ? '}' : ']', c === '{');
    const lit = ['true', 'false', 'null'].find((l) => s.startsWith(l, i));
    if (lit) return void (i += lit.length);
    const num = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
    num.lastIndex = i;
    if (!num.test(s)) stop('Expecting value', i);
    i = num.lastIndex;
  };
  try {
    ws(); value(); ws();
    if (i < s.length) stop('Extra data', i);
    return null;
  } catch (e) {
    if (e instanceof JsonSyntax) return e;
    if (e instanceof RangeError) return null; // absurd nesting: fall back to JSON.parse's report
    throw e;
  }
}

/**
 * How deep a JSON body may nest. No request schema goes past a few levels; a deeper body is
 * refused before parsing, since echoing it as a 422's `input` would overflow the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** Index of the bracket that opens level `max + 1` of `s` (strings skipped), or -1. */
function tooDeepAt(s: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (++depth > max) return i;
    } else if (c === ']' || c === '}') depth--;
  }
  return -1;
}

/** One `json_invalid` item at `at` (a UTF-16 index; Python positions count code points). */
function jsonInvalid(s: string, at: number, error: string): RequestValidationError {
  return new RequestValidationError([{ type: 'json_invalid', loc: ['body', [...s.slice(0, at)].length], msg: 'JSON decode error', input: {}, ctx: { error } }]);
}

/**
 * Parses a JSON request body. Empty/absent text returns undefined (which `validate` reports as a
 * missing body). On a syntax error throws one `json_invalid` item at ["body", <char position>],
 * with Python's `json` message as `ctx.error`; so does nesting deeper than MAX_JSON_DEPTH.
 */
export function parseJsonBody(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  // Python decodes a UTF-8 BOM away before parsing, so positions are counted after it.
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const deep = tooDeepAt(s, MAX_JSON_DEPTH);
  if (deep >= 0) throw jsonInvalid(s, deep, `Nesting deeper than ${MAX_JSON_DEPTH} levels`);
  try { return JSON.parse(s) as unknown; } catch (e) {
    const found = findJsonError(s) ?? new JsonSyntax(e instanceof Error ? e.message : 'Invalid JSON', 0);
    throw jsonInvalid(s, found.pos, found.msg);
  }
}
