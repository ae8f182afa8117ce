/**
 * The tRPC instance shared by every subgraph: `initTRPC` once, an internal procedure
 * that requires the service credential, AppError mapping, and typed clients that use an HTTP batch
 * link between processes and a direct in-process link when the target runs in this process.
 */
import { initTRPC, TRPCError, type AnyRouter } from '@trpc/server';
import { createTRPCClient, httpBatchLink, localLink, TRPCClientError, type TRPCClient, type TRPCLink } from '@trpc/client';
import { AppError, isErrorCode, trpcCodeOf, type FieldError } from './errors.ts';
import { CONTEXT_HEADER, REQUEST_ID_HEADER, reusableContext, SERVICE_HEADER, serviceCredentialProvider, type AuthContext } from './context.ts';
import { inProcedureSpan, tracedLink, traceHeadersOf } from './trace-trpc.ts';
import type { Config } from './config.ts';
import type { SubgraphName } from './config-shapes.ts';

/** What every internal procedure sees: the verified calling service and, when given, the acting user. */
export interface TrpcContext {
  service: string | null;
  acting: AuthContext | null;
}

const t = initTRPC.context<TrpcContext>().create({
  errorFormatter({ shape, error }) {
    const app = error.cause instanceof AppError ? error.cause : null;
    return {
      ...shape,
      // An unexpected error's text (a failed statement with its values, say) stays in this
      // service's log; the caller learns only that it failed.
      message: app || error.code !== 'INTERNAL_SERVER_ERROR' ? shape.message : 'Internal server error',
      data: {
        ...shape.data,
        stack: undefined,
        appCode: app?.code ?? null,
        extras: app?.extras ?? {},
        fields: app?.fields ?? null,
      },
    };
  },
});

export const createRouter = t.router;

/** Maps AppErrors thrown by services to the registry's tRPC code, keeping the AppError as cause. */
const mapAppErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    const app = result.error.cause;
    return { ...result, error: new TRPCError({ code: trpcCodeOf(app.code), message: app.message, cause: app }) };
  }
  return result;
});

/** Each procedure in its span, under the caller's (kernel/trace-trpc.ts). */
const traceProcedure = t.middleware(({ path, next }) => inProcedureSpan(path, () => next()));

/** A procedure only other services may call (valid service credential required). */
export const internalProcedure = t.procedure.use(traceProcedure).use(mapAppErrors).use(async ({ ctx, next }) => {
  if (!ctx.service) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Invalid internal service credentials' });
  return next({ ctx: { ...ctx, service: ctx.service } });
});

const localRouters = new Map<string, AnyRouter>();

/** Registers a router as reachable in-process (done by the subgraph server when it starts). */
export function registerLocalRouter(name: string, router: AnyRouter): () => void {
  localRouters.set(name, router);
  return () => {
    if (localRouters.get(name) === router) localRouters.delete(name);
  };
}

/**
 * The longest URL an internal tRPC batch may have: a longer batch is split. Well under Node's
 * 16 KiB limit on a request's head; subgraph servers accept a path parameter this long.
 */
export const TRPC_MAX_URL_LENGTH = 8_192;

export interface InternalClientOptions {
  /** Target subgraph name (used to find a co-located router). */
  target: string;
  /** Base URL of the target (http://host:port); tRPC lives at `/trpc`. */
  baseUrl: string;
  /** Name of the calling service, carried in the service credential. */
  caller: string;
  secret: string;
  timeoutMs: number;
  maxBatch: number;
  /** The acting user, forwarded as a signed internal context. */
  acting?: AuthContext;
}

/**
 * A typed tRPC client for another service. Calls go in-process when the target's router is
 * registered here (no serialisation, no socket), otherwise over HTTP with bounded batches and a
 * per-request timeout.
 */
export function createInternalClient<TRouter extends AnyRouter>(opts: InternalClientOptions): TRPCClient<TRouter> {
  const credential = serviceCredentialProvider(opts.caller, opts.secret);
  const acting = opts.acting ?? null;
  const http = httpBatchLink({
    url: `${opts.baseUrl}/trpc`,
    maxItems: opts.maxBatch,
    maxURLLength: TRPC_MAX_URL_LENGTH,
    async headers({ opList }) {
      const h: Record<string, string> = { ...traceHeadersOf(opList), [SERVICE_HEADER]: await credential() };
      if (acting) {
        h[CONTEXT_HEADER] = await reusableContext(acting, opts.secret);
        h[REQUEST_ID_HEADER] = acting.requestId;
      }
      return h;
    },
    fetch: (url, init) => {
      const timeout = AbortSignal.timeout(opts.timeoutMs);
      const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      return fetch(url, { ...init, signal });
    },
  });
  const locals = new WeakMap<AnyRouter, ReturnType<TRPCLink<AnyRouter>>>();
  const link: TRPCLink<TRouter> = (runtime) => {
    const remote = http(runtime);
    return tracedLink<TRouter>(opts.target, (op) => {
      const router = localRouters.get(opts.target);
      if (!router) return remote(op);
      let local = locals.get(router);
      if (!local) {
        local = localLink({ router, createContext: async () => ({ service: opts.caller, acting }) })(runtime);
        locals.set(router, local);
      }
      return local(op);
    });
  };
  return createTRPCClient<TRouter>({ links: [link] });
}

/**
 * Subgraph `caller`'s client for subgraph `target`: at the configured URL, with the configured
 * internal key, timeout and batch size.
 */
export function subgraphClient<TRouter extends AnyRouter>(
  config: Pick<Config, 'subgraphUrls' | 'internalServiceKey' | 'trpcTimeoutMs' | 'trpcMaxBatch'>,
  caller: SubgraphName,
  target: SubgraphName,
): TRPCClient<TRouter> {
  return createInternalClient<TRouter>({ target, baseUrl: config.subgraphUrls[target], caller, secret: config.internalServiceKey, timeoutMs: config.trpcTimeoutMs, maxBatch: config.trpcMaxBatch });
}

/**
 * Awaits an internal call and turns tRPC failures back into AppErrors, so a service's error code
 * survives the hop. Network failures and timeouts become SERVICE_UNAVAILABLE.
 */
export async function callInternal<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (err) {
    throw toAppError(err);
  }
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof TRPCClientError) {
    const data: unknown = err.data;
    if (data && typeof data === 'object' && 'appCode' in data && isErrorCode(data.appCode)) {
      const extras = 'extras' in data && data.extras && typeof data.extras === 'object' ? (data.extras as Record<string, unknown>) : {};
      const fields = 'fields' in data && Array.isArray(data.fields) ? (data.fields as FieldError[]) : undefined;
      return new AppError(data.appCode, { message: err.message, extras, fields, cause: err });
    }
    if (err.cause instanceof AppError) return err.cause;
    return new AppError('SERVICE_UNAVAILABLE', { cause: err });
  }
  return new AppError('INTERNAL', { cause: err });
}
