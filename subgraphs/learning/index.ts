/** The learning subgraph manifest: the XP ledger, levels, streaks, quests, boosters and learning time. */
import type { GraphQLFieldResolver } from 'graphql';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { loadSubgraphSdl } from '../../kernel/policy.ts';
import type { SubgraphManifest } from '../../kernel/server.ts';
import { subgraphClient } from '../../kernel/trpc.ts';
import type { IdentityRouter } from '../identity/router.ts';
import { LearningProfileSchema, LedgerEntrySchema } from './profile.entity.ts';
import { LearningInitial } from './migrations/initial.migration.ts';
import { IdentityGateway } from './identity.client.ts';
import { AwardService } from './award.service.ts';
import { StatsService } from './stats.service.ts';
import { learningClock } from './clock.ts';
import { createLearningRouter } from './router.ts';
import type { LearningContext, LearningServices } from './context.ts';
import { resolvers } from './resolvers.ts';
import { xelResolvers } from './xel.resolvers.ts';
import { LearningXel } from './migrations/xel.migration.ts';
import { XelModuleService } from './xel/module.service.ts';
import { XelSubmissionService } from './xel/submission.service.ts';
import { XelXpiService } from './xel/xpi.service.ts';
import { XelSessionService } from './xel/session.service.ts';
import { XelEvaluationService } from './xel/evaluation.service.ts';
import { XelDashboardService } from './xel/dashboard.service.ts';
import { LearningXelEvaluations } from './migrations/xel-evaluations.migration.ts';
import { LearningXelSessions } from './migrations/xel-sessions.migration.ts';
import { LearningXelSubmissions } from './migrations/xel-submissions.migration.ts';
import { LearningXelVariants } from './migrations/xel-variants.migration.ts';
import { LearningDailyRollups } from './migrations/daily-rollups.migration.ts';
import { ProviderRegistry } from '../../kernel/ai/registry.ts';
import { XelAi } from './xel/ai.ts';
import { XelRegenerationService } from './xel/regeneration.service.ts';

export type { LearningRouter, AwardRequest } from './router.ts';
export type { LearningContext } from './context.ts';

// Xentree English has its part of the schema in xel.graphql.
/** The Query resolvers of a map (both maps declare theirs). */
const queries = (map: GraphQLResolverMap<LearningContext>) => map.Query as Record<string, GraphQLFieldResolver<unknown, LearningContext>>;

/** How often each process sweeps idle XEL sessions (at least every 60 s). */
const XEL_SWEEP_MS = 30_000;

export const typeDefs = loadSubgraphSdl(new URL('./schema.graphql', import.meta.url), new URL('./xel.graphql', import.meta.url));

export const learning: SubgraphManifest<LearningContext> = {
  name: 'learning',
  typeDefs,
  resolvers: { ...resolvers, ...xelResolvers, Query: { ...queries(resolvers), ...queries(xelResolvers) } },
  entities: [LearningProfileSchema, LedgerEntrySchema],
  migrations: [
    { name: 'learning-0001-initial', class: LearningInitial },
    { name: 'learning-0002-xel', class: LearningXel },
    { name: 'learning-0003-xel-submissions', class: LearningXelSubmissions },
    { name: 'learning-0004-xel-sessions', class: LearningXelSessions },
    { name: 'learning-0005-xel-evaluations', class: LearningXelEvaluations },
    { name: 'learning-0006-xel-variants', class: LearningXelVariants },
    { name: 'learning-0007-daily-rollups', class: LearningDailyRollups },
  ],
  setup({ config, orm, pubsub, logger }) {
    const identity = new IdentityGateway(subgraphClient<IdentityRouter>(config, 'learning', 'identity'));
    const awards = new AwardService(identity, learningClock, pubsub);
    const ai = new XelAi(new ProviderRegistry(config.ai));
    const sessions = new XelSessionService(awards, learningClock);
    const submissions = new XelSubmissionService(awards, learningClock, sessions, ai);
    const stats = new StatsService(identity, learningClock, awards);
    const modules = new XelModuleService(learningClock);
    const xpi = new XelXpiService(identity, learningClock);
    const services: LearningServices = {
      awards,
      stats,
      modules,
      submissions,
      sessions,
      evaluations: new XelEvaluationService(awards, submissions, sessions, learningClock, ai),
      regenerations: new XelRegenerationService(ai, awards, modules, learningClock),
      dashboard: new XelDashboardService(modules, sessions, xpi, stats, learningClock),
      xpi,
    };
    // XEL sessions idle past their timeout are closed here too, not only on the user's next call.
    const sweep = (): void => void sessions.sweep(orm.em.fork()).catch((err: unknown) => logger.warn({ err }, 'xel session sweep failed'));
    const sweeper = setInterval(sweep, XEL_SWEEP_MS);
    sweeper.unref();
    sweep();
    return {
      router: createLearningRouter(orm, services.awards),
      requestContext(auth) {
        return { auth, em: orm.em.fork(), services, pubsub };
      },
      close: async () => clearInterval(sweeper),
    };
  },
};
