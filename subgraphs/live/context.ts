/** The per-request context of live's resolvers, apart from the manifest so resolvers need not import index.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuthContext } from '../../kernel/context.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import type { LiveSessionService } from './session.service.ts';
import type { NicknameService } from './nickname.service.ts';
import type { TranscriptService } from './transcript.service.ts';
import type { LiveLoaders } from './loaders.ts';

/** The services of live, shared by every request of the process. */
export interface LiveServices {
  sessions: LiveSessionService;
  nicknames: NicknameService;
  transcripts: TranscriptService;
}

/** Per-request context of live's resolvers. */
export interface LiveContext {
  auth: AuthContext | null;
  em: EntityManager;
  services: LiveServices;
  loaders: LiveLoaders;
  pubsub: PubSub;
  /** `realtime_url` handed to clients that start a session. */
  realtimeUrl: string;
}
