/**
 * Subgraphs announce their federation SDL over the PubSub, so that a gateway composing the
 * supergraph at run time (README "Reloading the supergraph") learns of a changed schema at once
 * rather than at its next poll. A subgraph announces when it starts and again whenever a gateway
 * asks (a gateway starting, or reloading on SIGHUP), so a gateway replica that starts later still
 * hears of every subgraph. Each announcement carries a service credential signed with the internal
 * secret: only a service of this deployment can change the graph.
 */
import { createHash } from 'node:crypto';
import { graphql, type GraphQLSchema } from 'graphql';
import { z } from 'zod';
import { serviceCredentialProvider, verifyServiceCredential } from './context.ts';
import type { PubSub } from './pubsub.ts';

/** Where subgraphs publish their SDL. */
export const ANNOUNCE_CHANNEL = 'supergraph:announce';
/** Where a gateway asks every subgraph to announce again. */
export const DISCOVER_CHANNEL = 'supergraph:discover';

const announcementSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/),
  /** The subgraph's GraphQL URL as it knows it (used for subgraphs the gateway has no configured URL for). */
  url: z.url({ protocol: /^https?$/ }),
  sdl: z.string().min(1),
  credential: z.string().min(1),
});

/** A subgraph's announcement: its name, GraphQL URL and federation SDL (`_service { sdl }`). */
export type SchemaAnnouncement = Omit<z.infer<typeof announcementSchema>, 'credential'>;

/** The sha256 (hex) of an SDL: what tells one schema version from another. */
export function sdlHash(sdl: string): string {
  return createHash('sha256').update(sdl).digest('hex');
}

/** A subgraph schema's federation SDL, exactly as its `_service { sdl }` answers it. */
export async function serviceSdlOf(schema: GraphQLSchema): Promise<string> {
  const result = await graphql({ schema, source: '{ _service { sdl } }' });
  const sdl: unknown = (result.data?._service as { sdl?: unknown } | undefined)?.sdl;
  if (typeof sdl !== 'string') throw new Error('The schema has no federation _service { sdl }');
  return sdl;
}

/**
 * Announces a subgraph's SDL now and whenever a gateway asks. Returns a function that stops
 * answering. A failed publish is reported to `onError`, never thrown: a gateway's poll still finds
 * the schema.
 */
export async function announceSchema(pubsub: PubSub, subgraph: SchemaAnnouncement, secret: string, onError: (err: unknown) => void): Promise<() => void> {
  const credential = serviceCredentialProvider(subgraph.name, secret);
  const send = async (): Promise<void> => {
    try {
      await pubsub.publish(ANNOUNCE_CHANNEL, { ...subgraph, credential: await credential() });
    } catch (err) {
      onError(err);
    }
  };
  const stop = await pubsub.subscribe(DISCOVER_CHANNEL, () => void send());
  await send();
  return stop;
}

/** Asks every subgraph listening on `pubsub` to announce its schema again. */
export async function requestAnnouncements(pubsub: PubSub): Promise<void> {
  await pubsub.publish(DISCOVER_CHANNEL, { at: Date.now() });
}

/**
 * Calls `handler` with every announcement whose credential is valid and names the announcing
 * subgraph; others are dropped (reported to `onRefused`). Resolves once listening.
 */
export async function onSchemaAnnounced(pubsub: PubSub, secret: string, handler: (announcement: SchemaAnnouncement) => void, onRefused: (reason: string) => void): Promise<() => void> {
  return pubsub.subscribe(ANNOUNCE_CHANNEL, (payload) => {
    const parsed = announcementSchema.safeParse(payload);
    if (!parsed.success) return onRefused('malformed announcement');
    const { credential, ...announcement } = parsed.data;
    void verifyServiceCredential(credential, secret).then((service) => {
      if (service === announcement.name) handler(announcement);
      else onRefused(`announcement of ${announcement.name} without its service credential`);
    });
  });
}
