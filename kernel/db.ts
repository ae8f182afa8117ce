/**
 * MikroORM factory (DESIGN §7): real PostgreSQL from DATABASE_URL, else embedded PGlite (one
 * instance per process, shared by every subgraph, pool size 1 each). One Postgres schema and one
 * migrations table per subgraph.
 */
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { MikroORM, type EntitySchema, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { MigrationObject } from '@mikro-orm/core';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';

export type { MikroORM };
export type { EntityManager } from '@mikro-orm/postgresql';

let embedded: { key: string; db: Promise<PGlite> } | null = null;

/** The process-wide embedded PostgreSQL, created on first use. */
export function embeddedPostgres(config: Config): Promise<PGlite> {
  const key = config.pgliteMode === 'memory' ? 'memory://' : path.join(config.dataDir, 'pglite');
  if (embedded && embedded.key === key) return embedded.db;
  if (key !== 'memory://') mkdirSync(key, { recursive: true });
  const db = PGlite.create(key === 'memory://' ? undefined : key, { extensions: { pg_trgm, unaccent } });
  embedded = { key, db };
  return db;
}

/** Closes the embedded database (after every ORM using it has closed). */
export async function closeEmbeddedPostgres(): Promise<void> {
  if (!embedded) return;
  const { db } = embedded;
  embedded = null;
  const instance = await db;
  if (!instance.closed) await instance.close();
}

export interface OrmOptions {
  /** The subgraph's Postgres schema. */
  schema: string;
  entities: EntitySchema[];
  migrations: MigrationObject[];
  /** Called for every SQL statement (used by N+1 tests to count statements). */
  onQuery?: (sql: string) => void;
}

/**
 * Creates a MikroORM instance for one subgraph and runs its pending migrations when `migrate` is set.
 * Extensions (pg_trgm, unaccent) are created by the subgraph's first migration where needed.
 */
export async function createOrm(config: Config, opts: OrmOptions, logger: Logger, migrate = true): Promise<MikroORM> {
  const base: Options = {
    entities: opts.entities,
    schema: opts.schema,
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    forceUtcTimezone: true,
    extensions: [Migrator],
    migrations: { tableName: 'mikro_orm_migrations', migrationsList: opts.migrations, transactional: true, allOrNothing: true, silent: true, snapshot: false },
    debug: opts.onQuery ? ['query'] : false,
    logger: (message: string) => {
      if (opts.onQuery) opts.onQuery(message);
      else logger.debug({ orm: opts.schema }, message);
    },
  };
  let orm: MikroORM;
  if (config.databaseUrl) {
    orm = await MikroORM.init({ ...base, clientUrl: config.databaseUrl, pool: { min: 0, max: 10 } });
  } else {
    const pglite = await embeddedPostgres(config);
    orm = await MikroORM.init({
      ...base,
      dbName: 'postgres',
      pool: { min: 0, max: 1 },
      // knex calls this per physical connection; each gets its own adapter over the shared PGlite.
      driverOptions: { connection: () => createPgConfig(pglite) },
    });
  }
  if (migrate) await migrateOrm(orm, opts.schema);
  return orm;
}

/** Creates the schema if needed and runs pending migrations. */
export async function migrateOrm(orm: MikroORM, schema: string): Promise<void> {
  await orm.em.getConnection().execute(`create schema if not exists "${schema}"`);
  await orm.getMigrator().up();
}
