/**
 * Where the gateway's supergraph comes from (README "Reloading the supergraph"), one of:
 * - the committed `schema/supergraph.graphql` (the default), read again on SIGHUP;
 * - `XENTREE_SUPERGRAPH_FILE`, watched (a change is read once writes settle) and read on SIGHUP;
 * - `XENTREE_SUPERGRAPH_COMPOSE=true`: composed at run time from each subgraph's
 *   `_service { sdl }`: when a subgraph announces a schema over the PubSub
 *   (kernel/schema-announce.ts), every `XENTREE_SUPERGRAPH_POLL_MS`, and on SIGHUP.
 *
 * Subgraphs the gateway has a configured address for (`SUBGRAPH_<NAME>_URL`) are composed with
 * composition's placeholder routing URL, so that the same subgraphs compose to the committed
 * supergraph byte for byte; a subgraph that joins by announcing itself is composed with the URL it
 * announced, and the gateway routes to that.
 */
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, type DocumentNode } from 'graphql';
import type { Config } from '../kernel/config.ts';
import type { Logger } from '../kernel/logger.ts';
import type { PubSub } from '../kernel/pubsub.ts';
import { onSchemaAnnounced, requestAnnouncements, sdlHash } from '../kernel/schema-announce.ts';
import { StartupError } from '../kernel/startup.ts';
import { CompositionError, composeSupergraphSdl, isPlaceholderUrl, loadSupergraph } from '../schema/compose.ts';
import { readSupergraph, SupergraphRuntime, type LoadedSupergraph, type SupergraphSource } from './supergraph.ts';

/** Writes to a watched file settle for this long before it is read (editors write in several steps). */
const FILE_SETTLE_MS = 200;
/** How long fetching one subgraph's SDL may take. */
const FETCH_TIMEOUT_MS = 5_000;

/** How the gateway finds its supergraph (XENTREE_SUPERGRAPH_FILE, _COMPOSE, _POLL_MS). */
export type SupergraphSettings = Config['supergraph'];

/** A supergraph read by a function: the committed file, or an SDL handed to the gateway. */
export function staticSource(read: () => string): SupergraphSource {
  return { read: async () => read(), watch: async () => () => {} };
}

/** A supergraph file, watched through its folder (an editor or `mv` replaces the file itself). */
export function fileSource(file: string, logger: Logger): SupergraphSource {
  const absolute = path.resolve(file);
  return {
    read: () => readFile(absolute, 'utf8'),
    async watch(changed) {
      let timer: NodeJS.Timeout | undefined;
      const watcher = watch(path.dirname(absolute), (_event, name) => {
        if (name !== path.basename(absolute)) return;
        clearTimeout(timer);
        timer = setTimeout(() => changed('file'), FILE_SETTLE_MS);
      });
      watcher.on('error', (err) => logger.error({ err, file: absolute }, 'supergraph file watch failed'));
      return () => {
        clearTimeout(timer);
        watcher.close();
      };
    },
  };
}

interface Member {
  /** Where its `_service { sdl }` is fetched. */
  fetchUrl: string;
  /** The routing URL composed into the supergraph; undefined: the placeholder (a configured address). */
  routingUrl: string | undefined;
  sdl: string | null;
  failing: boolean;
}

export interface ComposedSourceOptions {
  /** The starting supergraph's subgraphs: name → routing URL (placeholder or real). */
  subgraphs: ReadonlyMap<string, string>;
  /** The GraphQL URL of a subgraph with a configured address. */
  configuredUrl(name: string): string;
  pubsub: PubSub;
  /** The internal secret: announcements must carry the announcing subgraph's service credential. */
  secret: string;
  /** Poll interval; 0: no polling (announcements and SIGHUP only). */
  pollMs: number;
  logger: Logger;
}

/** The supergraph composed from the running subgraphs. */
export function composedSource(opts: ComposedSourceOptions): SupergraphSource {
  const members = new Map<string, Member>();
  for (const [name, url] of opts.subgraphs) {
    const configured = isPlaceholderUrl(url);
    members.set(name, { fetchUrl: configured ? opts.configuredUrl(name) : url, routingUrl: configured ? undefined : url, sdl: null, failing: false });
  }
  // The last composition and its inputs: the same inputs are not composed again (a poll of
  // unchanged subgraphs, or of one whose schema still does not compose, costs no composition).
  let last: { key: string; sdl: string } | { key: string; error: CompositionError } | null = null;

  const fetchSdls = (which: (member: Member) => boolean) =>
    Promise.all(
      [...members].filter(([, member]) => which(member)).map(async ([name, member]) => {
        try {
          member.sdl = await fetchSdl(member.fetchUrl);
          if (member.failing) opts.logger.info({ subgraph: name, url: member.fetchUrl }, 'subgraph schema reachable again');
          member.failing = false;
        } catch (err) {
          // Its last known schema stays in the graph: a subgraph restarting does not lose its fields.
          if (!member.failing) opts.logger.warn({ subgraph: name, url: member.fetchUrl, err }, 'subgraph schema could not be fetched');
          member.failing = true;
        }
      }),
    );

  return {
    async read(trigger) {
      if (trigger === 'SIGHUP') await requestAnnouncements(opts.pubsub);
      // An announcement carries its schema (the others are fetched if not known yet); anything
      // else asks every subgraph again.
      await fetchSdls((member) => trigger !== 'announce' || member.sdl === null);
      const missing = [...members].filter(([, m]) => m.sdl === null);
      if (missing.length) throw new CompositionError(missing.map(([name, m]) => `${name}: no schema yet (${m.fetchUrl} did not answer _service { sdl })`));
      const list = [...members].map(([name, m]) => ({ name, sdl: m.sdl ?? '', url: m.routingUrl }));
      const key = JSON.stringify(list.map((s) => [s.name, s.url ?? null, sdlHash(s.sdl)]));
      if (last?.key === key) {
        if ('error' in last) throw last.error;
        return last.sdl;
      }
      try {
        const sdl = composeSupergraphSdl(list.map((s) => ({ name: s.name, url: s.url, typeDefs: parseSdl(s.name, s.sdl) })));
        last = { key, sdl };
        return sdl;
      } catch (err) {
        if (err instanceof CompositionError) last = { key, error: err };
        throw err;
      }
    },
    async watch(changed) {
      const stop = await onSchemaAnnounced(
        opts.pubsub,
        opts.secret,
        (a) => {
          const member = members.get(a.name);
          if (member && member.routingUrl === undefined) member.sdl = a.sdl;
          else members.set(a.name, { fetchUrl: a.url, routingUrl: a.url, sdl: a.sdl, failing: false });
          changed('announce');
        },
        (reason) => opts.logger.warn({ reason }, 'subgraph schema announcement refused'),
      );
      await requestAnnouncements(opts.pubsub);
      const timer = opts.pollMs > 0 ? setInterval(() => changed('poll'), opts.pollMs) : undefined;
      timer?.unref();
      return () => {
        clearInterval(timer);
        stop();
      };
    },
  };
}

function parseSdl(name: string, sdl: string): DocumentNode {
  try {
    return parse(sdl);
  } catch (err) {
    throw new CompositionError([`${name}: ${err instanceof Error ? err.message : String(err)}`]);
  }
}

/** A subgraph's `_service { sdl }` (open without an internal context, like federation expects). */
async function fetchSdl(url: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  const body = (await res.json()) as { data?: { _service?: { sdl?: unknown } } };
  const sdl = body.data?._service?.sdl;
  if (!res.ok || typeof sdl !== 'string') throw new Error(`status ${res.status}`);
  return sdl;
}

export interface SupergraphRuntimeOptions {
  settings: SupergraphSettings;
  logger: Logger;
  pubsub: PubSub;
  secret: string;
  /** An SDL to start from instead of the committed supergraph (tests); SIGHUP reads it again. */
  supergraphSdl?: string;
  /** The GraphQL URL of a subgraph with a configured address. */
  configuredUrl(name: string): string;
}

/**
 * The runtime on the configured source, started from it.
 * @throws StartupError when the starting supergraph is missing or invalid.
 */
export async function createSupergraphRuntime(opts: SupergraphRuntimeOptions): Promise<SupergraphRuntime> {
  const { settings, logger, supergraphSdl } = opts;
  const base = settings.file ? fileSource(settings.file, logger) : staticSource(() => supergraphSdl ?? loadSupergraph());
  let initial: LoadedSupergraph;
  try {
    initial = readSupergraph(await base.read('start'));
  } catch (err) {
    const what = settings.file ? `XENTREE_SUPERGRAPH_FILE (${settings.file})` : 'the supergraph';
    const detail = err instanceof CompositionError ? err.errors.join('; ') : err instanceof Error ? err.message : String(err);
    throw new StartupError(`${what}: cannot be served: ${detail}`, { cause: err });
  }
  const source = settings.compose
    ? composedSource({ subgraphs: initial.subgraphs, configuredUrl: opts.configuredUrl, pubsub: opts.pubsub, secret: opts.secret, pollMs: settings.pollMs, logger })
    : base;
  return new SupergraphRuntime(initial, { source, logger, configuredUrl: opts.configuredUrl });
}
