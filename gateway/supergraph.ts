/**
 * The supergraph the gateway serves, and how it changes while the gateway runs (README
 * "Reloading the supergraph"). Everything derived from it follows one `SupergraphRuntime`:
 * the executor (the lean gateway as a follower, or @apollo/gateway through its supergraph manager
 * hook with `GATEWAY_EXECUTOR=apollo`), the subscription engine's planner, the field policies
 * (rate limits, deadlines, shared subscriptions, uploads), the subgraphs that are routed to and
 * health-checked, and the metrics.
 *
 * A reload prepares every part first (building a planner can fail) and then swaps them all in
 * one synchronous step: a request already executing finishes on the schema it started with, an
 * open subscription keeps the plan it started with, the next operation sees the new schema. A
 * supergraph that fails to compose or validate leaves everything as it was and is logged with its
 * errors; one with the hash already served changes nothing.
 */
import type { SupergraphManager } from '@apollo/gateway';
import { parse, type DocumentNode } from 'graphql';
import { buildSchemaFromAST, errorCauses, Supergraph, validateSupergraph } from '@apollo/federation-internals';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../kernel/logger.ts';
import { sdlHash } from '../kernel/schema-announce.ts';
import { CompositionError, isPlaceholderUrl } from '../schema/compose.ts';
import { loadPolicies, type PolicyTable } from './policies.ts';

/** A supergraph that passed validation, with what the gateway derives from it. */
export interface LoadedSupergraph {
  sdl: string;
  /** sha256 of the SDL, lowercase hex (Apollo's composition id of the same SDL). */
  hash: string;
  loadedAt: Date;
  policies: PolicyTable;
  /** Each subgraph's routing URL as the supergraph gives it (a placeholder or a real URL), by name. */
  subgraphs: ReadonlyMap<string, string>;
  /**
   * The validated supergraph itself (parsed without locations), which the lean executor plans
   * with: validation builds it anyway, and building it again costs start-up CPU and memory.
   */
  supergraph: Supergraph;
}

/** What a reload did. `hash` is the supergraph served afterwards. */
export type ReloadOutcome =
  | { status: 'updated'; hash: string; previous: string }
  | { status: 'unchanged'; hash: string }
  | { status: 'failed'; hash: string; errors: string[] };

/** Why a reload ran: start-up, a signal, the watched file, a subgraph's announcement, a poll. */
export type ReloadTrigger = 'start' | 'SIGHUP' | 'file' | 'announce' | 'poll';

/**
 * A part of the gateway that follows the supergraph: it prepares for `next` (throwing when it
 * cannot, which fails the reload) and returns the swap, which must not throw.
 */
export type SupergraphFollower = (next: LoadedSupergraph) => () => void;

/** Where the supergraph comes from (gateway/supergraph-sources.ts). */
export interface SupergraphSource {
  /** Reads (or composes) the supergraph SDL. @throws CompositionError or Error when there is none to serve. */
  read(trigger: ReloadTrigger): Promise<string>;
  /** Starts watching for changes; `changed` asks for a reload. Resolves to a stop function. */
  watch(changed: (trigger: ReloadTrigger) => void): Promise<() => void>;
}

/**
 * Validates a supergraph SDL and derives its policies and subgraph list.
 * @throws CompositionError with every validation error.
 */
export function readSupergraph(text: string): LoadedSupergraph {
  // A file ends with a newline, composition's output does not: the same supergraph, one hash.
  const sdl = text.trimEnd();
  let supergraph: Supergraph;
  // Parsed once for validation and policies, without locations (the errors reported are messages).
  let document: DocumentNode;
  try {
    document = parse(sdl, { noLocation: true });
    supergraph = validatedSupergraph(document);
  } catch (err) {
    throw new CompositionError(errorsOf(err));
  }
  let policies: PolicyTable;
  try {
    policies = loadPolicies(sdl, document);
  } catch (err) {
    throw new CompositionError(errorsOf(err));
  }
  const subgraphs = new Map(supergraph.subgraphsMetadata().map((s) => [s.name, s.url]));
  return { sdl, hash: sdlHash(sdl), loadedAt: new Date(), policies, subgraphs, supergraph };
}

/**
 * What `Supergraph.build(document, { validateSupergraph: true })` checks (its core features, then
 * the schema), but built as an unvalidated `Supergraph`: that flag would also make the planner
 * validate every subgraph it extracts from it again (about twice the planner's build time), which
 * @apollo/gateway skips in production too.
 */
function validatedSupergraph(document: DocumentNode): Supergraph {
  const schema = buildSchemaFromAST(document, { validate: false });
  validateSupergraph(schema);
  schema.validate();
  return new Supergraph(schema, undefined, false);
}

function errorsOf(err: unknown): string[] {
  if (err instanceof CompositionError) return [...err.errors];
  if (err instanceof Error) return (errorCauses(err) ?? [err]).map((e) => e.message);
  return [String(err)];
}

export class SupergraphRuntime {
  #current: LoadedSupergraph;
  readonly #followers: SupergraphFollower[] = [];
  #apolloUpdate: ((sdl: string) => void) | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #stopWatching: (() => void) | null = null;
  /** The errors of the last failed reload, so that a poll failing the same way is not logged as an error again. */
  #lastFailure: string | null = null;
  readonly #reloadListeners: ((trigger: ReloadTrigger, outcome: ReloadOutcome) => void)[] = [];

  /**
   * The current supergraph's field policies as a live view: readers holding it (the rate limiter,
   * the deadline budgets, the WebSocket server) see the policies of each new supergraph.
   */
  readonly policies: PolicyTable;

  constructor(
    initial: LoadedSupergraph,
    private readonly options: {
      source: SupergraphSource;
      logger: Logger;
      /** The GraphQL URL of a subgraph the supergraph routes with composition's placeholder (`SUBGRAPH_<NAME>_URL`). */
      configuredUrl(name: string): string;
    },
  ) {
    this.#current = initial;
    const current = (): PolicyTable => this.#current.policies;
    this.policies = {
      get fields() {
        return current().fields;
      },
      get uploadInputs() {
        return current().uploadInputs;
      },
      get rootFields() {
        return current().rootFields;
      },
    };
  }

  get current(): LoadedSupergraph {
    return this.#current;
  }

  /** Where a subgraph is called: its routing URL (default: the current supergraph's), unless that is a placeholder. */
  graphqlUrlOf(name: string, routingUrl = this.#current.subgraphs.get(name)): string {
    return routingUrl && !isPlaceholderUrl(routingUrl) ? routingUrl : this.options.configuredUrl(name);
  }

  /** Each subgraph of the current supergraph and where it is called. */
  subgraphUrls(): Record<string, string> {
    return Object.fromEntries([...this.#current.subgraphs.keys()].map((name) => [name, this.graphqlUrlOf(name)]));
  }

  /** Follows the source from now on (its changes reload) and reads it once more. */
  async start(): Promise<ReloadOutcome> {
    this.#stopWatching ??= await this.options.source.watch((trigger) => void this.reload(trigger));
    return this.reload('start');
  }

  /** Stops following the source; resolves once a reload under way has finished. */
  async stop(): Promise<void> {
    this.#stopWatching?.();
    this.#stopWatching = null;
    await this.#queue;
  }

  /** Calls `listener` after every reload with what it did. */
  onReload(listener: (trigger: ReloadTrigger, outcome: ReloadOutcome) => void): void {
    this.#reloadListeners.push(listener);
  }

  /**
   * A value derived from the supergraph and derived again from each new one (while the reload
   * prepares: a throw fails it). Returns its getter.
   */
  derive<T>(of: (supergraph: LoadedSupergraph) => T): () => T {
    let value = of(this.#current);
    this.follow((next) => {
      const derived = of(next);
      return () => {
        value = derived;
      };
    });
    return () => value;
  }

  /** Adds a part that follows every new supergraph. */
  follow(follower: SupergraphFollower): void {
    this.#followers.push(follower);
  }

  /** @apollo/gateway's `supergraphSdl`: it starts on the current supergraph and is handed each new one. */
  apolloManager(): SupergraphManager {
    return {
      initialize: async ({ update }) => {
        this.#apolloUpdate = update;
        return {
          supergraphSdl: this.#current.sdl,
          cleanup: async () => {
            this.#apolloUpdate = null;
          },
        };
      },
    };
  }

  /** Reads the source again and serves what it gives, if it is valid and new. Reloads run one at a time. */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const run = async (): Promise<ReloadOutcome> => {
      let sdl: string;
      try {
        sdl = await this.options.source.read(trigger);
      } catch (err) {
        return this.#failed(trigger, errorsOf(err));
      }
      return this.apply(sdl, trigger);
    };
    const outcome = this.#queue.then(run).then((result) => {
      for (const listener of this.#reloadListeners) listener(trigger, result);
      return result;
    });
    this.#queue = outcome.catch(() => {});
    return outcome;
  }

  /** Serves `sdl` if it is valid and differs from the current supergraph (nothing changes otherwise). */
  apply(sdl: string, trigger: ReloadTrigger): ReloadOutcome {
    const previous = this.#current;
    if (sdlHash(sdl.trimEnd()) === previous.hash) return { status: 'unchanged', hash: previous.hash };
    let next: LoadedSupergraph;
    let swaps: (() => void)[];
    try {
      next = readSupergraph(sdl);
      swaps = this.#followers.map((follow) => follow(next));
      // Apollo validates and switches in one call; if it refuses, nothing else has switched yet.
      this.#apolloUpdate?.(next.sdl);
    } catch (err) {
      return this.#failed(trigger, errorsOf(err));
    }
    for (const swap of swaps) swap();
    this.#current = next;
    this.#lastFailure = null;
    this.options.logger.info({ trigger, hash: next.hash, previous: previous.hash, subgraphs: [...next.subgraphs.keys()] }, 'supergraph updated');
    return { status: 'updated', hash: next.hash, previous: previous.hash };
  }

  #failed(trigger: ReloadTrigger, errors: string[]): ReloadOutcome {
    const again = trigger === 'poll' && this.#lastFailure === JSON.stringify(errors);
    this.#lastFailure = JSON.stringify(errors);
    this.options.logger[again ? 'debug' : 'error']({ trigger, errors, hash: this.#current.hash }, 'supergraph not reloaded; the current one stays');
    return { status: 'failed', hash: this.#current.hash, errors };
  }
}

/**
 * The supergraph on `/metrics`: `xentree_supergraph_info{hash}` (1 for the one served),
 * `xentree_supergraph_loaded_timestamp_seconds` and `xentree_supergraph_reloads_total{outcome}`.
 */
export function registerSupergraphMetrics(registry: Registry, runtime: SupergraphRuntime): void {
  const registers = [registry];
  const info = new Gauge({ name: 'xentree_supergraph_info', help: 'The supergraph served, by its sha256 hash (always 1).', labelNames: ['hash'], registers });
  const loaded = new Gauge({ name: 'xentree_supergraph_loaded_timestamp_seconds', help: 'When the supergraph served was loaded (Unix seconds).', registers });
  const reloads = new Counter({ name: 'xentree_supergraph_reloads_total', help: 'Supergraph reloads by outcome (updated, unchanged, failed).', labelNames: ['outcome'], registers });
  const show = (current: LoadedSupergraph): void => {
    info.reset();
    info.set({ hash: current.hash }, 1);
    loaded.set(current.loadedAt.getTime() / 1000);
  };
  show(runtime.current);
  for (const outcome of ['updated', 'unchanged', 'failed']) reloads.inc({ outcome }, 0);
  runtime.onReload((_trigger, outcome) => {
    reloads.inc({ outcome: outcome.status });
    if (outcome.status === 'updated') show(runtime.current);
  });
}
