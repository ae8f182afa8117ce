/** The live subgraph manifest: Live quota, sessions and heartbeats, nicknames and transcripts. */
import { loadSubgraphSdl } from '../../kernel/policy.ts';
import { subgraphClient } from '../../kernel/trpc.ts';
import type { LearningRouter } from '../learning/router.ts';
import { AwardOutbox } from './award.outbox.ts';
import type { SubgraphManifest } from '../../kernel/server.ts';
import { LiveNicknameSchema, LiveTranscriptSchema } from './live.entity.ts';
import { LiveInitial } from './migrations/initial.migration.ts';
import { LiveSessionService } from './session.service.ts';
import { NicknameService } from './nickname.service.ts';
import { TranscriptService } from './transcript.service.ts';
import { LiveSweeper } from './sweeper.ts';
import { createLiveRouter } from './router.ts';
import { createLoaders } from './loaders.ts';
import type { LiveContext, LiveServices } from './context.ts';
import { resolvers } from './resolvers.ts';

export type { LiveRouter } from './router.ts';
export type { LiveContext } from './context.ts';

export const typeDefs = loadSubgraphSdl(new URL('./schema.graphql', import.meta.url));

export const live: SubgraphManifest<LiveContext> = {
  name: 'live',
  typeDefs,
  resolvers,
  entities: [LiveNicknameSchema, LiveTranscriptSchema],
  migrations: [{ name: 'live-0001-initial', class: LiveInitial }],
  setup({ config, orm, pubsub, logger }) {
    const learning = subgraphClient<LearningRouter>(config, 'live', 'learning');
    // Awards of ended sessions and credited seconds reach learning through the outbox.
    const outbox = new AwardOutbox(orm, learning, config.liveSweepIntervalMs, logger);
    const sessions = new LiveSessionService(pubsub, () => outbox.nudge(), config.liveCreditDeliveryMs);
    const services: LiveServices = { sessions, nicknames: new NicknameService(), transcripts: new TranscriptService() };
    const sweeper = new LiveSweeper(orm, sessions, config.liveSweepIntervalMs, logger);
    sweeper.start();
    outbox.start();
    return {
      router: createLiveRouter(orm, services.nicknames),
      requestContext(auth) {
        const em = orm.em.fork();
        return { auth, em, services, loaders: createLoaders(em, services.nicknames), pubsub, realtimeUrl: config.liveRealtimeUrl };
      },
      close: async () => {
        await sweeper.close();
        await outbox.close();
      },
    };
  },
};
