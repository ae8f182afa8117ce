/** XEL-14: the caller's Xentree English at a glance (§3.6). */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../clock.ts';
import type { StatsService } from '../stats.service.ts';
import { addDays, localDate } from '../time.ts';
import type { XelModuleService } from './module.service.ts';
import type { XelSessionService } from './session.service.ts';
import type { XelXpiService } from './xpi.service.ts';

const SQL = {
  lastActive: `select "module_id" from "learning"."xel_module_progress" where "user_id" = ? and "completed_at" is null order by "last_activity_at" desc, "module_id" limit 1`,
  submissions: `select "id", "task_id", "module_id", "score", "passed", "submitted_at" from "learning"."xel_submissions" where "user_id" = ? order by "submitted_at" desc, "id" limit 5`,
  evaluations: `select "id", "kind", "overall_score", "created_at" from "learning"."xel_evaluations" where "user_id" = ? order by "created_at" desc, "id" limit 5`,
  seconds: `select coalesce(sum("seconds"), 0)::int as seconds from "learning"."sessions" where "user_id" = ? and "source" = 'xel' and "start_date" between ? and ?`,
};

export class XelDashboardService {
  constructor(
    private readonly modules: XelModuleService,
    private readonly sessions: XelSessionService,
    private readonly xpi: XelXpiService,
    private readonly stats: StatsService,
    private readonly clock: Clock,
  ) {}

  async dashboard(em: EntityManager, userId: string) {
    const activeSession = await this.sessions.active(em, userId);
    const profile = await this.stats.profile(em, userId);
    const modules = await this.modules.list(em, userId, null, null);
    const [last] = await em.execute<{ module_id: string }[]>(SQL.lastActive, [userId]);
    const today = localDate(this.clock.now(), profile.timezone);
    const [{ seconds } = { seconds: 0 }] = await em.execute<{ seconds: number }[]>(SQL.seconds, [userId, addDays(today, -6), today]);
    const submissions = await em.execute<{ id: string; task_id: string; module_id: string; score: number; passed: boolean; submitted_at: Date | string }[]>(SQL.submissions, [userId]);
    const evaluations = await em.execute<{ id: string; kind: string; overall_score: number; created_at: Date | string }[]>(SQL.evaluations, [userId]);
    const count = (status: string): number => modules.filter((m) => m.status === status).length;
    return {
      xpi: await this.xpi.xpi(em, userId),
      modulesTotal: modules.length,
      modulesNotStarted: count('not_started'),
      modulesInProgress: count('in_progress'),
      modulesCompleted: count('completed'),
      currentModule: modules.find((m) => m.id === last?.module_id) ?? null,
      recentSubmissions: submissions.map((s) => ({ submissionId: s.id, taskId: s.task_id, moduleId: s.module_id, score: s.score, passed: s.passed, submittedAt: new Date(s.submitted_at) })),
      recentEvaluations: evaluations.map((e) => ({ evaluationId: e.id, kind: e.kind, overallScore: e.overall_score, createdAt: new Date(e.created_at) })),
      learningSeconds7d: seconds,
      activeSession,
      level: profile.level,
      xp: profile.xp,
      currentStreak: profile.currentStreak,
    };
  }
}
