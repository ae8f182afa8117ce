import { Migration } from '@mikro-orm/migrations';
import { idempotencyTableSql } from '../../../kernel/idempotency.ts';

/** Idempotency-Key claims and first results of `chat` (kernel/idempotency.ts). */
export class ChatIdempotency extends Migration {
  override async up(): Promise<void> {
    for (const sql of idempotencyTableSql('chat')) this.addSql(sql);
  }
}
