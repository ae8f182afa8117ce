/**
 * Response definitions: one per documented REST response body. Each names its fields in REST's
 * snake_case, with each field's JSON Schema and where it comes from in the operation's result
 * (by default the camelCase of its name), so the body a route sends and the schema OpenAPI
 * publishes are one declaration and cannot drift. Every documented field is always present
 * (§1.1): a missing value is sent as null.
 */
import { record, type Json, type JsonObject } from './json-schema.ts';
import { array, lowerEnum, object } from './shape.ts';

type Convert = (x: unknown) => unknown;

const orNull: Convert = (x) => x ?? null;
const camelCase = (name: string): string => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const refTo = (def: ResponseDef): JsonObject => ({ $ref: `#/components/schemas/${def.name}` });

/** One documented field: its schema, and how its value is read from the GraphQL object. */
export class Field {
  constructor(
    readonly schema: JsonObject,
    private readonly convert: Convert = orNull,
    /** The definitions this field refers to (documented as components of their own). */
    readonly refs: readonly ResponseDef[] = [],
    private readonly path: readonly string[] | null = null,
    private readonly prefix: readonly string[] = [],
  ) {}

  /** Reads the value at `path` of the GraphQL object instead of the camelCase of the REST name. */
  from(...path: string[]): Field {
    return new Field(this.schema, this.convert, this.refs, path, this.prefix);
  }

  /** Reads the value from the object at `prefix` of the GraphQL object (`payload.session.id`). */
  within(...prefix: string[]): Field {
    return new Field(this.schema, this.convert, this.refs, this.path, [...prefix, ...this.prefix]);
  }

  /** The field's REST value, read from the GraphQL object that carries it under `key`'s name. */
  read(source: Record<string, unknown>, key: string): unknown {
    let cur: unknown = source;
    for (const step of [...this.prefix, ...(this.path ?? [camelCase(key)])]) cur = object(cur)?.[step];
    return this.convert(cur);
  }
}

/** A named response body (an OpenAPI component): its fields in the order they are sent. */
export class ResponseDef implements ResponseBody {
  /** The component's schema. */
  readonly schema: JsonObject;
  /** Where a route answers with this definition: a reference to the component. */
  readonly use: JsonObject;
  readonly def: ResponseDef = this;

  constructor(
    readonly name: string,
    readonly fields: Readonly<Record<string, Field>>,
  ) {
    const properties: Record<string, JsonObject> = {};
    for (const [key, f] of Object.entries(fields)) properties[key] = f.schema;
    this.schema = record(properties);
    this.use = refTo(this);
  }

  /** The REST body of one GraphQL object; null (404) when it is absent. */
  readonly map = (source: unknown): Record<string, unknown> | null => {
    const o = object(source);
    if (!o) return null;
    const out: Record<string, unknown> = {};
    for (const [key, f] of Object.entries(this.fields)) out[key] = f.read(o, key);
    return out;
  };

  /** This definition and every one it refers to, itself first. */
  components(): ResponseDef[] {
    const out: ResponseDef[] = [this];
    for (const f of Object.values(this.fields)) for (const d of f.refs) for (const c of d.components()) if (!out.includes(c)) out.push(c);
    return out;
  }

  /** The body of a route answering with a plain JSON array of these (§1.2). */
  list(): ResponseBody {
    return { name: `${this.name}[]`, def: this, use: { type: 'array', items: refTo(this) }, map: (x) => array(x).map(this.map) };
  }
}

/** What a route answers with: one definition, or a plain array of one. */
export interface ResponseBody {
  /** `Name`, or `Name[]` for an array. */
  readonly name: string;
  readonly def: ResponseDef;
  /** The response's schema where a route uses it: a reference to the component (or an array of them). */
  readonly use: JsonObject;
  map(source: unknown): unknown;
}

/** Declares a response definition; it is also the body of a route that answers with one. */
export function response(name: string, fields: Record<string, Field>): ResponseDef {
  return new ResponseDef(name, fields);
}

const with_ = (base: JsonObject, extra?: JsonObject): JsonObject => ({ ...base, ...extra });
const nullable = (type: string): Json => [type, 'null'];

/** Field builders; `extra` adds schema keywords (a description, a const, an enum). */
export const r = {
  /** Any schema, the value passed through (null when absent). */
  value: (schema: JsonObject): Field => new Field(schema),
  str: (extra?: JsonObject): Field => new Field(with_({ type: 'string' }, extra)),
  strOrNull: (extra?: JsonObject): Field => new Field(with_({ type: nullable('string') }, extra)),
  uuid: (): Field => new Field({ type: 'string', format: 'uuid' }),
  uuidOrNull: (): Field => new Field({ type: nullable('string'), format: 'uuid' }),
  int: (extra?: JsonObject): Field => new Field(with_({ type: 'integer' }, extra)),
  num: (extra?: JsonObject): Field => new Field(with_({ type: 'number' }, extra)),
  bool: (): Field => new Field({ type: 'boolean' }),
  dateTime: (extra?: JsonObject): Field => new Field(with_({ type: 'string', format: 'date-time' }, extra)),
  dateTimeOrNull: (): Field => new Field({ type: nullable('string'), format: 'date-time' }),
  strings: (): Field => new Field({ type: 'array', items: { type: 'string' } }, array),
  /** A GraphQL enum sent in REST's lowercase (`OWNER` → `"owner"`); `schema` lists the REST values. */
  lower: (schema: JsonObject): Field => new Field(schema, lowerEnum),
  /** A list of GraphQL enum values, each lowercased. */
  lowerList: (): Field => new Field({ type: 'array', items: { type: 'string' } }, (x) => array(x).map(lowerEnum)),
  /** One nested definition (a component of its own). */
  one: (def: ResponseDef): Field => new Field(refTo(def), def.map, [def]),
  /** One nested definition or null. */
  oneOrNull: (def: ResponseDef): Field => new Field({ oneOf: [refTo(def), { type: 'null' }] }, def.map, [def]),
  /** An array of a definition. */
  list: (def: ResponseDef): Field => new Field({ type: 'array', items: refTo(def) }, (x) => array(x).map(def.map), [def]),
  /** A nested object documented inline (no component of its own). */
  object: (fields: Record<string, Field>): Field => {
    const inline = new ResponseDef('', fields);
    return new Field(inline.schema, inline.map, Object.values(fields).flatMap((f) => f.refs));
  },
  /** An array of objects documented inline. */
  objects: (fields: Record<string, Field>): Field => {
    const inline = new ResponseDef('', fields);
    return new Field({ type: 'array', items: inline.schema }, (x) => array(x).map(inline.map), Object.values(fields).flatMap((f) => f.refs));
  },
};

/** The same fields, each read from the object at `prefix` of the GraphQL object. */
export function within(prefix: string, fields: Record<string, Field>): Record<string, Field> {
  return Object.fromEntries(Object.entries(fields).map(([key, f]) => [key, f.within(prefix)]));
}

/** `Page<T>` (§1.2): the envelope of a page of `item`. */
export function page(name: string, item: ResponseDef): ResponseDef {
  return response(name, { items: r.list(item), total: r.int(), limit: r.int(), offset: r.int() });
}
