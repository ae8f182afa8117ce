import { Migration } from '@mikro-orm/migrations';

/**
 * A lease on each document being ingested (ingestion.leases.ts): its process renews it; any
 * knowledge process removes an unfinished document whose lease has lapsed (its process died), with
 * its chunks, and frees its upload id. Unfinished documents already there keep the rule they were
 * written under: they go an hour after they were created.
 */
export class KnowledgeIngestionLeases extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "knowledge"."documents" add column "lease_until" timestamptz(3) null`);
    this.addSql(`update "knowledge"."documents" set "lease_until" = "created_at" + interval '1 hour' where not "ready"`);
    this.addSql(`drop index "knowledge"."documents_unready_idx"`);
    this.addSql(`create index "documents_unready_lease_idx" on "knowledge"."documents" ("lease_until") where not "ready"`);
  }
}
