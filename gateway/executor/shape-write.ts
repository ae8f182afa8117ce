/**
 * The final shaping written straight as JSON bytes: what `shapeResult` (shape-apply.ts) builds as
 * objects and `JSON.stringify` then turns into text, done in one walk into one reused buffer.
 * GraphQL over HTTP answers with it (gateway/http-pipeline.ts): an answer of 100 KB no longer
 * becomes a shaped copy of the merged data, a string built in parts, its flattened copy and then
 * bytes; that was a third of what the gateway allocated per request under the heavy query.
 *
 * Only for operations where no response name occurs twice in one object (`writable`, decided at
 * compile time): there a field's value is written once, in the order the object walk would insert
 * it, so the bytes are `JSON.stringify` of `shapeResult`'s data, exactly. Elsewhere (the same
 * name selected twice, whose values the object walk merges) callers use `shapeResult`.
 *
 * A null in a non-null position nulls its nearest nullable parent: the writer goes back to where
 * that parent's value began and writes `null` there. Errors are the object walk's, in its order.
 */
import { ERRORS } from '@apollo/federation-internals';
import { isObjectType, type GraphQLCompositeType, type GraphQLError } from 'graphql';
import type { ResponsePath } from '@apollo/query-planner';
import { describePath, objectTypeOf, selected, type Obj, type WalkBase } from './shape-apply.ts';
import type { FieldShape, OperationShape, OutType, Shape } from './shape-compile.ts';
import { AnswerBuffers } from './answer-buffers.ts';

/** The bytes of a JSON text being written, in a buffer every call reuses (a walk is synchronous). */
class Out {
  buf: Buffer = answers.get();
  pos = 0;

  /** Room for `n` more bytes. */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next: Buffer = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  /** Text that needs no escaping and is ASCII (`null`, a number, a key). */
  ascii(s: string): void {
    this.room(s.length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
    this.pos = pos;
  }

  /** A string value as `JSON.stringify` writes it, in UTF-8. */
  string(s: string): void {
    const n = s.length;
    this.room(n + 2);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = QUOTE;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      // Control characters, `"`, `\` and anything beyond ASCII: JSON.stringify's own escaping and UTF-8.
      if (c < 0x20 || c === QUOTE || c === BACKSLASH || c > 0x7e) return this.text(JSON.stringify(s));
      buf[pos++] = c;
    }
    buf[pos++] = QUOTE;
    this.pos = pos;
  }

  /** Any text, as UTF-8 (well formed: `JSON.stringify` escapes lone surrogates). */
  text(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** What was written, lent out (answer-buffers.ts): the next walk writes into another buffer. */
  take(): Buffer {
    const bytes = answers.lend(this.buf, this.pos);
    this.buf = answers.get();
    return bytes;
  }

  /** Ready for the next walk, whatever this one did; a large buffer is let go. */
  reset(): void {
    this.pos = 0;
    if (this.buf.length > KEPT) this.buf = answers.get();
  }
}

const INITIAL = 64 * 1024;
/** The largest buffer kept between walks; a larger answer's buffer is left to the collector. */
const KEPT = 1024 * 1024;
const answers = new AnswerBuffers(INITIAL, KEPT);

/** Gives an answer's buffer back once it has been sent (`WrittenData.answer`); any other buffer is ignored. */
export function answerSent(answer: Buffer): void {
  answers.giveBack(answer);
}
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const out = new Out();

interface Walk extends WalkBase {
  /** Set by every `value` call, read by its caller before the next: whether it wrote `null`, must null its parent, had its error reported. */
  isNull: boolean;
  invalid: boolean;
  reported: boolean;
}

/**
 * The data's JSON, inside the answer GraphQL over HTTP gives a result that has only data
 * (`{"data":…}` and Apollo Server's newline), so that such an answer is these bytes as they are.
 */
export interface WrittenData {
  /** Lent until `answerSent(answer)`: nothing writes into it before, and the caller must not use it after. */
  answer: Buffer;
  /** Where the data's JSON starts and ends in `answer`. */
  start: number;
  end: number;
}

/** What writing produced: the data's JSON (null when a null reached the root) and the value-completion errors. */
export interface Written {
  json: WrittenData | null;
  errors: GraphQLError[];
}

const HEAD = '{"data":';
const TAIL = '}\n';

/** `JSON.stringify(shapeResult(…).data)` as UTF-8 bytes, for a `writable` shape. */
export function writeResult(shape: OperationShape, input: Obj, variables: Obj, introspect: (field: FieldShape) => unknown): Written {
  if (!shape.writable) throw new Error('This operation selects a response name twice in one object: shape it with shapeResult');
  const walk: Walk = { shape, variables, errors: [], introspect, isNull: false, invalid: false, reported: false };
  out.pos = 0;
  try {
    out.ascii(HEAD);
    out.byte(OPEN_BRACE);
    const ok = fields(walk, input, shape.selections, [], shape.rootType, true) !== FAILED;
    out.byte(CLOSE_BRACE);
    if (!ok) return { json: null, errors: walk.errors };
    const end = out.pos;
    out.ascii(TAIL);
    return { json: { answer: out.take(), start: HEAD.length, end }, errors: walk.errors };
  } finally {
    out.reset();
  }
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
/** What `fields` returns when a null must bubble up to the parent. */
const FAILED = -1;

/** Writes the fields of `selections` from `input` (the braces are the caller's); how many were written, or FAILED. */
function fields(walk: Walk, input: Obj, selections: Shape[], path: ResponsePath, parentType: GraphQLCompositeType, first: boolean): number {
  let written = first ? 0 : 1;
  for (const selection of selections) {
    if (!selected(walk, input, selection, parentType)) continue;
    if (selection.kind === 'fragment') {
      const inner = fields(walk, input, selection.selections, path, selection.typeCondition ?? parentType, written === 0);
      if (inner === FAILED) return FAILED;
      written += inner;
      continue;
    }
    const name = selection.responseName;
    if (written > 0) out.byte(COMMA);
    written++;
    out.ascii(selection.key);
    if (selection.introspection) {
      json(walk.introspect(selection));
      continue;
    }
    let inputValue = Object.hasOwn(input, name) ? (input[name] ?? null) : null;
    if (selection.typename) {
      if (inputValue === null && name !== '__typename') inputValue = input.__typename ?? null;
      const type = typeof inputValue === 'string' ? (walk.shape.schema.getType(inputValue) ?? parentType) : parentType;
      if (!isObjectType(type)) return FAILED;
      out.string(type.name);
      continue;
    }
    if (!selection.type) throw new Error(`No type for field "${name}"`);
    path.push(name);
    value(walk, selection.type, inputValue, selection.selections, path, parentType);
    path.pop();
    if (walk.invalid) return FAILED;
  }
  return first ? written : written - 1;
}

function result(walk: Walk, isNull: boolean, invalid = false, reported = false): void {
  walk.isNull = isNull;
  walk.invalid = invalid;
  walk.reported = reported;
}

/** Writes `null` in place of whatever the value starting at `start` had written. */
function nullAt(start: number): void {
  out.pos = start;
  out.ascii('null');
}

function value(walk: Walk, type: OutType, inputValue: unknown, selections: Shape[] | null, path: ResponsePath, parentType: GraphQLCompositeType): void {
  const start = out.pos;
  switch (type.kind) {
    case 'nonNull': {
      value(walk, type.of, inputValue, selections, path, parentType);
      if (!walk.isNull) return result(walk, false);
      if (!walk.reported) walk.errors.push(ERRORS.INVALID_GRAPHQL.err(`Cannot return null for non-nullable ${describePath(path, type.of.gql, parentType)}.`, { path: [...path] }));
      return result(walk, true, true, true);
    }
    case 'list': {
      if (inputValue === null) return nullAt(start), result(walk, true);
      if (!Array.isArray(inputValue)) throw new Error(`Invalid non-list value ${String(inputValue)} returned by subgraph for list type ${type.gql.toString()}`);
      let nullify = false;
      let reported = false;
      out.byte(OPEN_BRACKET);
      for (let i = 0; i < inputValue.length; i++) {
        if (i > 0) out.byte(COMMA);
        path.push(i);
        value(walk, type.of, inputValue[i] ?? null, selections, path, parentType);
        path.pop();
        nullify ||= walk.invalid;
        reported ||= walk.reported;
      }
      out.byte(CLOSE_BRACKET);
      if (nullify) nullAt(start);
      return result(walk, nullify, false, reported);
    }
    case 'composite':
      if (inputValue === null) return nullAt(start), result(walk, true);
      return composite(walk, type.gql, inputValue, selections, path, parentType, start);
    case 'leaf': {
      if (inputValue === null) return nullAt(start), result(walk, true);
      if (type.valid(inputValue)) return leaf(inputValue), result(walk, false);
      walk.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${describePath(path, type.gql, parentType)}.`, { path: [...path] }));
      return nullAt(start), result(walk, true, false, true);
    }
  }
}

function composite(walk: Walk, type: GraphQLCompositeType, inputValue: unknown, selections: Shape[] | null, path: ResponsePath, parentType: GraphQLCompositeType, start: number): void {
  const objType = objectTypeOf(walk, type, inputValue, selections, path, parentType);
  if (!objType) return nullAt(start), result(walk, true, false, true);
  out.byte(OPEN_BRACE);
  const ok = fields(walk, inputValue as Obj, selections as Shape[], path, objType, true) !== FAILED;
  out.byte(CLOSE_BRACE);
  if (!ok) return nullAt(start), result(walk, true, false, true);
  return result(walk, false);
}

/** A leaf value (valid for its type) as `JSON.stringify` writes it. */
function leaf(v: unknown): void {
  if (typeof v === 'string') out.string(v);
  else if (typeof v === 'boolean') out.ascii(v ? 'true' : 'false');
  else if (typeof v === 'number') out.ascii(Number.isFinite(v) ? String(v) : 'null');
  else json(v);
}

/** Any JSON value (a custom scalar's object, an introspection answer); `undefined` as `null`, as in an array. */
function json(v: unknown): void {
  const text = JSON.stringify(v) as string | undefined;
  if (text === undefined) out.ascii('null');
  else out.text(text);
}
