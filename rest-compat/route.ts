/**
 * The shape of one REST route: method, path, auth mode and scope, request specs, the
 * named GraphQL operation it runs, how to build its variables and how to shape its JSON.
 */
import type { AuthContext } from '../kernel/context.ts';
import type { ObjectSpec } from './validation.ts';
import type { SseFrame } from './sse.ts';
import type { ResponseBody } from './response.ts';
import type { JsonObject } from './json-schema.ts';

/** §1.3 auth codes. */
export type AuthMode = 'P' | 'B' | 'B+K' | 'B·adm' | 'B+K·adm' | 'B+I';
/** §1.9 rate-limit policies (null: not limited). */
export type RatePolicy = 'auth' | 'ai' | 'upload' | 'public' | 'default' | null;
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  auth: AuthContext;
  /** The `Idempotency-Key` header of an `idempotent` route (null when absent). */
  idempotencyKey?: string | null;
}

export interface RouteDef<P, Q, B> {
  /** Stable id from the API contract, e.g. `AUTH-1`. */
  id: string;
  method: HttpMethod;
  /** fastify path syntax, e.g. `/api/api-keys/:key_id`. */
  path: string;
  summary: string;
  tag: string;
  /**
   * Auth mode, API-key scope and rate-limit policy: by default those the operation's root field
   * declares in its subgraph SDL (`@access`, `@rateLimit`; route-policies.ts). Declared here only
   * by a route that is not one root field's surface.
   */
  auth?: AuthMode;
  scope?: string | null;
  policy?: RatePolicy;
  params?: ObjectSpec<P>;
  query?: ObjectSpec<Q>;
  /**
   * `json` bodies are parsed as JSON; `form` as application/x-www-form-urlencoded; `multipart` as
   * multipart/form-data, whose file parts the spec takes with `v.file()` (a body of another type has
   * no fields, like FastAPI's).
   */
  body?: { kind: 'json' | 'form' | 'multipart'; spec: ObjectSpec<B>; optional?: boolean };
  /** Name of the operation in its area's `*.graphql` (`rest-compat/areas/<area>/`). */
  operation: string;
  /**
   * Accepts an `Idempotency-Key` header (README "Idempotent retries"): validated with the request
   * and passed to the operation as its `$idempotencyKey` variable (null without the header).
   */
  idempotent?: boolean;
  variables(input: RouteInput<P, Q, B>): Record<string, unknown>;
  /**
   * The response definition of the body (response.ts): it shapes the GraphQL object `select`
   * picks into the documented JSON and is the body's OpenAPI schema.
   */
  response?: ResponseBody;
  /** With `response`: the GraphQL object in the operation's `data` that the definition maps. */
  select?(data: Record<string, unknown>): unknown;
  /**
   * Without `response` (a 204, or a body left undocumented): shapes the operation's `data` into
   * the JSON. Either way, `null` means 404 `notFound`.
   */
  result?(data: Record<string, unknown>): unknown;
  /** Success status (200 unless §1.6 says 201/204). */
  status: 200 | 201 | 204;
  /** Picks the success status from the operation's `data` when it depends on the outcome (CONV-7: 201 new, 200 resumed). */
  statusOf?(data: Record<string, unknown>): 200 | 201;
  /**
   * Serves the route as Server-Sent Events from a subscription operation when `when` holds
   * (CONV-2 with `stream: true`, CONV-2S). Errors before the first event get normal bodies.
   */
  sse?: {
    when(input: RouteInput<P, Q, B>, headers: Record<string, string | string[] | undefined>): boolean;
    operation: string;
    variables(input: RouteInput<P, Q, B>, headers: Record<string, string | string[] | undefined>): Record<string, unknown>;
    /** One result's `data` → one frame (null skips it). */
    frameOf(data: Record<string, unknown>): SseFrame | null;
    /**
     * An open-ended stream (events come when something happens, maybe never): it answers 200 at
     * once instead of waiting for the first event, and a later failure is an `error` event.
     */
    openEnded?: boolean;
  };
  /** The Server-Sent Events the route answers with, for the OpenAPI document. */
  events?: EventStreamDoc;
  /**
   * Answers when a subgraph other than the root field's is down, with the fields it owns null,
   * instead of 503: the user profile's `live_nickname` comes from live, and registration, login
   * flows and the profile must not stop with it.
   */
  degradable?: boolean;
  /** `Cache-Control` of a success response (default `no-store`; INT-5/INT-6 may be cached). */
  cacheControl?: string;
  /** Resource word for a null result (`"<Resource> not found"`). */
  notFound?: string;
  /** Response schema name for OpenAPI (from `response` when it is given). */
  responseName?: string;
}

/**
 * A route's event stream as OpenAPI documents it (`text/event-stream`): the component `name`, the
 * schema of each event's `data` by event name, the response bodies those schemas refer to, and
 * `only` when the route never answers JSON.
 */
export interface EventStreamDoc {
  name: string;
  data: Readonly<Record<string, JsonObject>>;
  refs?: readonly ResponseBody[];
  only?: boolean;
  /** The schema of each event's `id` (default: a sequence number, what `Last-Event-ID` resumes after). */
  id?: JsonObject;
}

/** A declared route with its type parameters erased. */
export interface RouteDecl extends Omit<RouteDef<unknown, unknown, unknown>, 'variables' | 'result' | 'select' | 'sse'> {
  variables(input: RouteInput<unknown, unknown, unknown>): Record<string, unknown>;
  /** The operation's `data` → the JSON body (`response` applied to what `select` picks). */
  result(data: Record<string, unknown>): unknown;
  sse?: RouteDef<unknown, unknown, unknown>['sse'];
}

/** A route of the table, its access and rate-limit policy resolved (route-policies.ts). */
export interface Route extends RouteDecl {
  auth: AuthMode;
  scope: string | null;
  policy: RatePolicy;
  /** What the route declares itself, where its access was read from the supergraph (route-policies.ts). */
  declared?: Pick<RouteDecl, 'auth' | 'scope' | 'policy'>;
}

/** Declares a route; the generics tie the specs to `variables`. One that states its access and policy is complete. */
export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(def: RouteDef<P, Q, B> & Pick<Route, 'auth' | 'scope' | 'policy'>): Route;
export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(def: RouteDef<P, Q, B>): RouteDecl;
export function defineRoute<P, Q, B>(def: RouteDef<P, Q, B>): RouteDecl {
  const { response, select, result } = def;
  if (response && select) return { ...(def as RouteDecl), responseName: response.name, result: (data) => response.map(select(data)) };
  if (response || select || !result) throw new Error(`Route ${def.id}: declare \`response\` with \`select\`, or \`result\``);
  return def as RouteDecl;
}
