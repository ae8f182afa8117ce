import { Migration } from '@mikro-orm/migrations';

/** API keys, bound to one organization (an id owned by orgs: no cross-schema foreign key). */
export class IdentityApiKeys extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "identity"."api_keys" (
      "id" uuid primary key,
      "name" varchar(100) not null,
      "organization_id" uuid not null,
      "key_hash" char(64) not null,
      "key_prefix" varchar(12) not null,
      "scopes" jsonb not null,
      "allowed_ips" jsonb not null default '[]',
      "expires_at" timestamptz(3) null,
      "created_by" uuid not null references "identity"."users" ("id") on delete cascade,
      "created_at" timestamptz(3) not null,
      "last_used_at" timestamptz(3) null,
      constraint "api_keys_hash_unique" unique ("key_hash")
    )`);
    this.addSql(`create index "api_keys_org_idx" on "identity"."api_keys" ("organization_id")`);
    this.addSql(`create index "api_keys_creator_idx" on "identity"."api_keys" ("created_by")`);
  }
}
