import { Migration } from '@mikro-orm/migrations';

/**
 * Conversations, messages, conversation sessions, notes and the user-content search index
 * (§3.2, §4.7, §4.11). Foreign keys stay inside the `chat` schema; user ids are plain ids.
 */
export class ChatInitial extends Migration {
  override async up(): Promise<void> {
    // pg_trgm's similarity() suggests corrections for misspelled search terms. Installed in
    // `public` so every subgraph finds it on the default search_path whichever creates it first.
    this.addSql(`create extension if not exists pg_trgm with schema public`);
    this.addSql(`create table "chat"."conversations" (
      "id" uuid primary key,
      "user_id" uuid not null,
      "title" varchar(200) not null,
      "provider" varchar(50) null,
      "message_count" integer not null default 0,
      "last_message_at" timestamptz(3) null,
      "created_at" timestamptz(3) not null,
      "updated_at" timestamptz(3) not null
    )`);
    this.addSql(`create index "conversations_user_updated_idx" on "chat"."conversations" ("user_id", "updated_at" desc, "id")`);
    this.addSql(`create table "chat"."messages" (
      "id" uuid primary key,
      "conversation_id" uuid not null references "chat"."conversations" ("id") on delete cascade,
      "user_id" uuid not null,
      "role" varchar(9) not null check ("role" in ('user','assistant')),
      "content" text not null,
      "provider" varchar(50) null,
      "model" varchar(200) null,
      "created_at" timestamptz(3) not null
    )`);
    this.addSql(`create index "messages_conversation_created_idx" on "chat"."messages" ("conversation_id", "created_at", "id")`);
    this.addSql(`create index "messages_user_idx" on "chat"."messages" ("user_id")`);
    this.addSql(`create table "chat"."conversation_sessions" (
      "id" uuid primary key,
      "user_id" uuid not null,
      "conversation_id" uuid not null references "chat"."conversations" ("id") on delete cascade,
      "started_at" timestamptz(3) not null,
      "last_activity_at" timestamptz(3) not null,
      "ended_at" timestamptz(3) null,
      "end_reason" varchar(7) null check ("end_reason" in ('client','timeout')),
      "duration_seconds" integer null,
      "xp_awarded" integer null
    )`);
    // The "one active session per (user, conversation)" rule, enforced by the database.
    this.addSql(`create unique index "conversation_sessions_one_active" on "chat"."conversation_sessions" ("user_id", "conversation_id") where "ended_at" is null`);
    this.addSql(`create index "conversation_sessions_conversation_idx" on "chat"."conversation_sessions" ("conversation_id")`);
    this.addSql(`create table "chat"."notes" (
      "id" uuid primary key,
      "user_id" uuid not null,
      "conversation_id" uuid null references "chat"."conversations" ("id") on delete set null,
      "title" varchar(200) not null,
      "content" text not null,
      "tags" jsonb not null default '[]',
      "created_at" timestamptz(3) not null,
      "updated_at" timestamptz(3) not null
    )`);
    this.addSql(`create index "notes_user_updated_idx" on "chat"."notes" ("user_id", "updated_at" desc, "id")`);
    this.addSql(`create index "notes_conversation_idx" on "chat"."notes" ("conversation_id")`);
    // One row per searchable record; written in the transaction of the write it reflects.
    this.addSql(`create table "chat"."search_index" (
      "collection" varchar(13) not null check ("collection" in ('conversations','messages','notes')),
      "doc_id" uuid not null,
      "user_id" uuid not null,
      "tsv" tsvector not null,
      primary key ("collection", "doc_id")
    )`);
    this.addSql(`create index "search_index_user_idx" on "chat"."search_index" ("user_id", "collection")`);
    this.addSql(`create index "search_index_tsv_idx" on "chat"."search_index" using gin ("tsv")`);
    // A single row: when the last reindex finished and whether one is running (any replica).
    this.addSql(`create table "chat"."search_state" (
      "id" integer primary key check ("id" = 1),
      "reindex_started_at" timestamptz(3) null,
      "last_reindex_at" timestamptz(3) null
    )`);
    this.addSql(`insert into "chat"."search_state" ("id") values (1)`);
  }
}
