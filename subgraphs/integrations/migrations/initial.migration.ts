import { Migration } from '@mikro-orm/migrations';

/**
 * Tenant signing keys, integration grants and their revocations (§4.15), and the Google Calendar
 * connector's OAuth states and connections (§4.16). Organization and user ids are plain ids: those
 * rows live in other subgraphs.
 */
export class IntegrationsInitial extends Migration {
  override async up(): Promise<void> {
    // One key per tenant: the primary key lets two replicas race to create it and keep one.
    this.addSql(`create table "integrations"."tenant_keys" (
      "organization_id" uuid primary key,
      "kid" varchar(43) not null,
      "public_jwk" text not null,
      "private_key_sealed" text not null,
      "created_at" timestamptz(3) not null
    )`);
    this.addSql(`create table "integrations"."grants" (
      "jti" uuid primary key,
      "tenant_id" uuid not null,
      "sub" uuid not null,
      "scopes" text not null,
      "origin" varchar(300) not null,
      "mode" varchar(5) not null check ("mode" in ('api','embed')),
      "issued_at" timestamptz(3) not null,
      "expires_at" timestamptz(3) not null
    )`);
    this.addSql(`create index "grants_tenant_idx" on "integrations"."grants" ("tenant_id")`);
    this.addSql(`create table "integrations"."revocations" (
      "jti" uuid primary key,
      "tenant_id" uuid not null,
      "reason" varchar(200) not null,
      "revoked_at" timestamptz(3) not null,
      "revoked_by" uuid null,
      "expires_at" timestamptz(3) not null,
      "source" varchar(6) not null check ("source" in ('revoke','rotate'))
    )`);
    this.addSql(`create index "revocations_revoked_at_idx" on "integrations"."revocations" ("revoked_at" desc, "jti")`);
    this.addSql(`create index "revocations_tenant_idx" on "integrations"."revocations" ("tenant_id", "revoked_at" desc)`);
    this.addSql(`create table "integrations"."oauth_states" (
      "state" varchar(43) primary key,
      "user_id" uuid not null,
      "provider" varchar(32) not null,
      "code_verifier_sealed" text not null,
      "scopes" text not null,
      "expires_at" timestamptz(3) not null
    )`);
    this.addSql(`create table "integrations"."skill_connections" (
      "user_id" uuid not null,
      "provider" varchar(32) not null,
      "access_token_sealed" text not null,
      "refresh_token_sealed" text null,
      "expires_at_sealed" text null,
      "scopes" text not null,
      "connected_at" timestamptz(3) not null,
      primary key ("user_id", "provider")
    )`);
  }
}
