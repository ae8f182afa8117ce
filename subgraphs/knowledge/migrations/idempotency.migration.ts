import { Migration } from '@mikro-orm/migrations';
import { idempotencyTableSql } from '../../../kernel/idempotency.ts';

/** Idempotency-Key claims and first results of `uploadKnowledgeDocument` (kernel/idempotency.ts). */
export class KnowledgeIdempotency extends Migration {
  override async up(): Promise<void> {
    for (const sql of idempotencyTableSql('knowledge')) this.addSql(sql);
  }
}
