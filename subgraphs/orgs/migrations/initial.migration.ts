import { Migration } from '@mikro-orm/migrations';

/** Organizations, memberships (one role, at most one team each) and teams. */
export class OrgsInitial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "orgs"."organizations" (
      "id" uuid primary key,
      "name" varchar(100) not null,
      "slug" varchar(50) not null,
      "description" varchar(500) null,
      "created_at" timestamptz(3) not null,
      "updated_at" timestamptz(3) not null,
      constraint "organizations_slug_unique" unique ("slug")
    )`);
    this.addSql(`create table "orgs"."teams" (
      "id" uuid primary key,
      "organization_id" uuid not null references "orgs"."organizations" ("id") on delete cascade,
      "name" varchar(100) not null,
      "name_key" varchar(100) not null,
      "created_at" timestamptz(3) not null,
      constraint "teams_org_name_unique" unique ("organization_id", "name_key")
    )`);
    this.addSql(`create table "orgs"."memberships" (
      "organization_id" uuid not null references "orgs"."organizations" ("id") on delete cascade,
      "user_id" uuid not null,
      "role" varchar(8) not null check ("role" in ('owner','admin','member')),
      "team_id" uuid null references "orgs"."teams" ("id") on delete set null,
      "joined_at" timestamptz(3) not null,
      primary key ("organization_id", "user_id")
    )`);
    this.addSql(`create index "memberships_user_idx" on "orgs"."memberships" ("user_id")`);
    this.addSql(`create index "memberships_org_joined_idx" on "orgs"."memberships" ("organization_id", "joined_at", "user_id")`);
    this.addSql(`create index "memberships_team_idx" on "orgs"."memberships" ("team_id")`);
  }
}
