import { Migration } from '@mikro-orm/migrations';

/**
 * Knowledge documents, their indexed chunks and their vocabulary (§3.3, §4.10). Owner,
 * organization and conversation ids are plain ids: those rows live in other subgraphs.
 */
export class KnowledgeInitial extends Migration {
  override async up(): Promise<void> {
    // pg_trgm suggests corrections for misspelled query words (installed in `public`, see chat).
    this.addSql(`create extension if not exists pg_trgm with schema public`);
    this.addSql(`create table "knowledge"."documents" (
      "id" uuid primary key,
      "owner_id" uuid not null,
      "title" varchar(200) not null,
      "filename" text not null,
      "content_type" varchar(100) not null,
      "size_bytes" integer not null,
      "scope" varchar(12) not null check ("scope" in ('user','conversation')),
      "conversation_id" uuid null,
      "shared" boolean not null default false,
      "organization_id" uuid null,
      "chunk_count" integer not null,
      "upload_id" uuid null,
      -- false while its chunks are being written (invisible to every read); see ingestion.service.ts
      "ready" boolean not null default false,
      "created_at" timestamptz(3) not null,
      check (("scope" = 'conversation') = ("conversation_id" is not null)),
      check (not "shared" or ("scope" = 'user' and "organization_id" is not null))
    )`);
    this.addSql(`create index "documents_owner_created_idx" on "knowledge"."documents" ("owner_id", "created_at" desc, "id")`);
    this.addSql(`create index "documents_shared_org_idx" on "knowledge"."documents" ("organization_id", "created_at" desc) where "shared"`);
    this.addSql(`create index "documents_conversation_idx" on "knowledge"."documents" ("conversation_id") where "conversation_id" is not null`);
    this.addSql(`create index "documents_unready_idx" on "knowledge"."documents" ("created_at") where not "ready"`);
    this.addSql(`create unique index "documents_owner_upload_uq" on "knowledge"."documents" ("owner_id", "upload_id") where "upload_id" is not null`);
    // One row per chunk. `tsv` weighs the title (A) over the headings above the chunk (B) over its text (C).
    this.addSql(`create table "knowledge"."chunks" (
      "document_id" uuid not null references "knowledge"."documents" ("id") on delete cascade,
      "chunk_index" integer not null,
      "content" text not null,
      "headings" text not null default '',
      "tsv" tsvector not null,
      primary key ("document_id", "chunk_index")
    )`);
    this.addSql(`create index "chunks_tsv_idx" on "knowledge"."chunks" using gin ("tsv")`);
    // Trigram corrections of misspelled query words: candidates come from the vocabulary of every
    // word ever indexed (small, trigram-indexed), and count only when a document the caller can
    // see contains them (document_terms, looked up by word).
    this.addSql(`create table "knowledge"."terms" ("term" text primary key)`);
    this.addSql(`create index "terms_trgm_idx" on "knowledge"."terms" using gin ("term" gin_trgm_ops)`);
    this.addSql(`create table "knowledge"."document_terms" (
      "document_id" uuid not null references "knowledge"."documents" ("id") on delete cascade,
      "term" text not null,
      primary key ("document_id", "term")
    )`);
    this.addSql(`create index "document_terms_term_idx" on "knowledge"."document_terms" ("term", "document_id")`);
  }
}
