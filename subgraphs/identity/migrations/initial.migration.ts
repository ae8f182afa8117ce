import { Migration } from '@mikro-orm/migrations';

/** Users, refresh-token families and tokens, signing keys. */
export class IdentityInitial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "identity"."users" (
      "id" uuid primary key,
      "email" varchar(254) not null,
      "username" varchar(30) not null,
      "password_hash" text not null,
      "full_name" varchar(100) null,
      "timezone" varchar(64) not null default 'UTC',
      "preferred_language" varchar(5) not null default 'en',
      "avatar_url" varchar(2048) null,
      "live_nickname" varchar(32) null,
      "plan" varchar(8) not null default 'free' check ("plan" in ('free','pro')),
      "role" varchar(8) not null default 'user' check ("role" in ('user','admin')),
      "public_profile_enabled" boolean not null default true,
      "created_at" timestamptz(3) not null,
      "updated_at" timestamptz(3) not null,
      constraint "users_email_unique" unique ("email"),
      constraint "users_username_unique" unique ("username"),
      constraint "users_email_lower" check ("email" = lower("email")),
      constraint "users_username_lower" check ("username" = lower("username"))
    )`);
    this.addSql(`create table "identity"."session_families" (
      "id" uuid primary key,
      "user_id" uuid not null references "identity"."users" ("id") on delete cascade,
      "created_at" timestamptz(3) not null,
      "revoked_at" timestamptz(3) null,
      "revoked_reason" varchar(32) null
    )`);
    this.addSql(`create index "session_families_user_idx" on "identity"."session_families" ("user_id")`);
    this.addSql(`create table "identity"."refresh_tokens" (
      "id" uuid primary key,
      "family_id" uuid not null references "identity"."session_families" ("id") on delete cascade,
      "user_id" uuid not null,
      "token_hash" char(64) not null,
      "created_at" timestamptz(3) not null,
      "expires_at" timestamptz(3) not null,
      "consumed_at" timestamptz(3) null,
      constraint "refresh_tokens_hash_unique" unique ("token_hash")
    )`);
    this.addSql(`create index "refresh_tokens_family_idx" on "identity"."refresh_tokens" ("family_id")`);
    this.addSql(`create table "identity"."signing_keys" (
      "kid" varchar(64) primary key,
      "private_jwk_sealed" text not null,
      "public_jwk" jsonb not null,
      "active" boolean not null,
      "created_at" timestamptz(3) not null,
      "retired_at" timestamptz(3) null
    )`);
    // At most one active key, even with several identity replicas starting at once.
    this.addSql(`create unique index "signing_keys_one_active" on "identity"."signing_keys" ("active") where "active"`);
  }
}
