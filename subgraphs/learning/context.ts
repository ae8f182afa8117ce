/** The per-request context of learning's resolvers, apart from the manifest so resolvers need not import index.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuthContext } from '../../kernel/context.ts';
import type { PubSub } from '../../kernel/pubsub.ts';
import type { AwardService } from './award.service.ts';
import type { StatsService } from './stats.service.ts';
import type { XelModuleService } from './xel/module.service.ts';
import type { XelSubmissionService } from './xel/submission.service.ts';
import type { XelXpiService } from './xel/xpi.service.ts';
import type { XelSessionService } from './xel/session.service.ts';
import type { XelEvaluationService } from './xel/evaluation.service.ts';
import type { XelDashboardService } from './xel/dashboard.service.ts';
import type { XelRegenerationService } from './xel/regeneration.service.ts';

/** The services of learning, shared by every request of the process. */
export interface LearningServices {
  awards: AwardService;
  stats: StatsService;
  modules: XelModuleService;
  submissions: XelSubmissionService;
  xpi: XelXpiService;
  sessions: XelSessionService;
  evaluations: XelEvaluationService;
  dashboard: XelDashboardService;
  regenerations: XelRegenerationService;
}

/** Per-request context of learning's resolvers. */
export interface LearningContext {
  auth: AuthContext | null;
  em: EntityManager;
  services: LearningServices;
  pubsub: PubSub;
}
