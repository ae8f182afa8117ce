/** XEL-8 and XEL-9: the caller's proficiency index (§4.9) and the last snapshot of each recent local date. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '../../../kernel/errors.ts';
import type { Clock } from '../clock.ts';
import type { IdentityGateway } from '../identity.client.ts';
import { addDays, localDate } from '../time.ts';
import { cefrBand, xpiOf, type SubScores } from './scoring.ts';

const EMPTY: SubScores = { listening: null, speaking: null, reading: null, writing: null, grammar: null, vocabulary: null };

const SQL = {
  xpi: `select "sub_scores"::text as sub_scores, "sample_counts"::text as sample_counts, "updated_at" from "learning"."xel_xpi" where "user_id" = ?`,
  history: `select distinct on ("local_date") "local_date"::text as date, "xpi", "cefr_band", "sub_scores"::text as sub_scores
    from "learning"."xel_xpi_history" where "user_id" = ? and "local_date" between ? and ? order by "local_date", "id" desc`,
};

export class XelXpiService {
  constructor(
    private readonly identity: IdentityGateway,
    private readonly clock: Clock,
  ) {}

  /** XEL-8. */
  async xpi(em: EntityManager, userId: string) {
    const [row] = await em.execute<{ sub_scores: string; sample_counts: string; updated_at: Date | string }[]>(SQL.xpi, [userId]);
    const subScores = row ? (JSON.parse(row.sub_scores) as SubScores) : { ...EMPTY };
    const counts = row ? (JSON.parse(row.sample_counts) as Record<string, number>) : {};
    const xpi = xpiOf(subScores);
    return {
      xpi,
      cefrBand: cefrBand(xpi),
      subScores,
      sampleCounts: { listening: counts.listening ?? 0, speaking: counts.speaking ?? 0, reading: counts.reading ?? 0, writing: counts.writing ?? 0, grammar: counts.grammar ?? 0, vocabulary: counts.vocabulary ?? 0 },
      updatedAt: row ? new Date(row.updated_at) : null,
    };
  }

  /** XEL-9: the last snapshot of each date of the last `days` local dates (today included), ascending. */
  async history(em: EntityManager, userId: string, days: number) {
    const user = await this.identity.user(userId);
    if (!user) throw notFound('User');
    const today = localDate(this.clock.now(), user.timezone);
    const rows = await em.execute<{ date: string; xpi: number; cefr_band: string; sub_scores: string }[]>(SQL.history, [userId, addDays(today, -(days - 1)), today]);
    // The stored band is recomputed from the stored XPI (the same rule wrote it).
    return { days, items: rows.map((r) => ({ date: r.date, xpi: r.xpi, cefrBand: cefrBand(r.xpi) ?? 'A1', subScores: JSON.parse(r.sub_scores) as SubScores })) };
  }
}
