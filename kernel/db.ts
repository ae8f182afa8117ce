/**
 * MikroORM factory: real PostgreSQL from DATABASE_URL, else embedded PGlite (one
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
import { lockDataDir, releaseDataDir } from './data-lock.ts';
import { createInMemoryCluster } from './pglite-template.ts';
import { errorCode, reasonOf, redactUrl, StartupError } from './startup.ts';

export type { MikroORM };
export type { EntityManager } from '@mikro-orm/postgresql';

/** The table each subgraph's schema records its migrations in. */
const MIGRATIONS_TABLE = 'mikro_orm_migrations';

let embedded: { key: string; dataDir: string | null; db: Promise<PGlite> } | null = null;

/**
 * The process-wide embedded PostgreSQL, created on first use. On disk, it first takes the data
 * directory's lock (kernel/data-lock.ts): PGlite has none, and two processes would overwrite each other.
 * @throws StartupError when another process uses the data directory.
 */
export function embeddedPostgres(config: Config): Promise<PGlite> {
  const key = config.pgliteMode === 'memory' ? 'memory://' : path.join(config.dataDir, 'pglite');
  if (embedded && embedded.key === key) return embedded.db;
  const dataDir = key === 'memory://' ? null : config.dataDir;
  if (dataDir) {
    lockDataDir(dataDir);
    mkdirSync(key, { recursive: true });
  }
  const options = {
    extensions: { pg_trgm, unaccent },
    // PostgreSQL's default pool (128 MB) is resident from the start: most of `npm start`'s memory.
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${config.pgliteSharedBuffersMb}MB`],
  };
  const db = dataDir ? PGlite.create(key, options) : createInMemoryCluster(options);
  embedded = { key, dataDir, db };
  return db;
}

/**
 * One PGlite is one PostgreSQL session, but node-postgres talks to it message by message (Parse,
 * Bind, Execute, Sync...). Two connections interleaving their messages would corrupt each other's
 * statements and transactions, so each connection gets its own view of the database that holds a
 * process-wide session lock from its first message until PostgreSQL reports the session idle
 * again (ReadyForQuery with status `I`): a whole query cycle, or a whole transaction, at a time.
 * (Code must never wait on a second connection inside a transaction.)
 */
class SessionLock {
  private owner: object | null = null;
  private readonly waiters: { owner: object; resolve: () => void }[] = [];

  async acquire(owner: object): Promise<void> {
    if (this.owner === owner) return;
    if (this.owner === null) {
      this.owner = owner;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push({ owner, resolve }));
  }

  release(owner: object): void {
    if (this.owner !== owner) return;
    const next = this.waiters.shift();
    this.owner = next?.owner ?? null;
    next?.resolve();
  }
}

type ProtocolResult = Awaited<ReturnType<PGlite['execProtocolStream']>>;

const locks = new WeakMap<PGlite, SessionLock>();

/** A per-connection facade over the shared PGlite that enforces the session lock. */
function lockedConnection(pglite: PGlite): PGlite {
  let lock = locks.get(pglite);
  if (!lock) {
    lock = new SessionLock();
    locks.set(pglite, lock);
  }
  const sessionLock = lock;
  const owner = {};
  const facade = {
    get waitReady() {
      return pglite.waitReady;
    },
    async execProtocolStream(message: Uint8Array, options?: Parameters<PGlite['execProtocolStream']>[1]): Promise<ProtocolResult> {
      await sessionLock.acquire(owner);
      let results: ProtocolResult;
      try {
        results = await pglite.execProtocolStream(message, options);
      } catch (err) {
        sessionLock.release(owner);
        throw err;
      }
      for (const m of results) {
        if (m.name === 'readyForQuery' && 'status' in m && m.status === 'I') sessionLock.release(owner);
      }
      return results;
    },
  };
  // createPgConfig only uses `waitReady` and `execProtocolStream` (it duck-types the instance).
  return facade as PGlite;
}

/** Closes the embedded database (after every ORM using it has closed). */
export async function closeEmbeddedPostgres(): Promise<void> {
  if (!embedded) return;
  const { db, dataDir } = embedded;
  embedded = null;
  const instance = await db;
  if (!instance.closed) await instance.close();
  if (dataDir) releaseDataDir(dataDir);
}

/** Node system errors (refused, unknown host, timeout...) and PostgreSQL's connection, authentication and missing-database SQLSTATEs. */
function isConnectionFailure(err: unknown): boolean {
  const code = errorCode(err instanceof AggregateError ? (err.errors[0] ?? err) : err);
  return code !== undefined && (/^E[A-Z]+$/.test(code) || /^(08|28)/.test(code) || code === '3D000' || code === '57P03');
}

/** MikroORM.init against DATABASE_URL, turning a server that cannot be reached into one plain line. */
async function connectOrm(options: Options, url: string): Promise<MikroORM> {
  try {
    return await MikroORM.init(options);
  } catch (err) {
    if (!isConnectionFailure(err)) throw err;
    throw new StartupError(
      `DATABASE_URL: cannot connect to PostgreSQL at ${redactUrl(url)} (${reasonOf(err)}); start it or fix DATABASE_URL, or unset DATABASE_URL to use the embedded database`,
      { cause: err },
    );
  }
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
    migrations: { tableName: MIGRATIONS_TABLE, migrationsList: opts.migrations, transactional: true, allOrNothing: true, silent: true, snapshot: false },
    debug: opts.onQuery ? ['query'] : false,
    logger: (message: string) => {
      if (opts.onQuery) opts.onQuery(message);
      else logger.debug({ orm: opts.schema }, message);
    },
  };
  let orm: MikroORM;
  if (config.databaseUrl) {
    orm = await connectOrm({ ...base, clientUrl: config.databaseUrl, pool: { min: 0, max: 10 } }, config.databaseUrl);
  } else {
    const pglite = await embeddedPostgres(config);
    orm = await MikroORM.init({
      ...base,
      dbName: 'postgres',
      pool: { min: 0, max: 1 },
      // knex calls this per physical connection; each gets its own locked view of the shared PGlite.
      driverOptions: { connection: () => createPgConfig(lockedConnection(pglite)) },
    });
  }
  if (migrate) await migrateOrm(orm, opts.schema, opts.migrations);
  return orm;
}

/**
 * Whether every one of `migrations` is recorded in the schema's migrations table (false when there
 * is none yet). Two short queries: MikroORM's migrator first lists every table of the database and
 * checks the database exists, which is most of a start-up on an existing embedded database.
 */
async function migrationsRecorded(orm: MikroORM, schema: string, migrations: readonly MigrationObject[]): Promise<boolean> {
  const connection = orm.em.getConnection();
  const [table] = await connection.execute<{ present: boolean }[]>(`select to_regclass('"${schema}"."${MIGRATIONS_TABLE}"') is not null as present`);
  if (!table?.present) return false;
  const rows = await connection.execute<{ name: string }[]>(`select name from "${schema}"."${MIGRATIONS_TABLE}"`);
  // Recorded as MikroORM records them: without a .js/.ts extension.
  const recorded = new Set(rows.map((r) => r.name.replace(/\.[jt]s$/, '')));
  return migrations.every((m) => recorded.has(m.name.replace(/\.[jt]s$/, '')));
}

/** Creates the schema if needed and runs pending migrations (nothing to do when `migrations` are all recorded already). */
export async function migrateOrm(orm: MikroORM, schema: string, migrations: readonly MigrationObject[]): Promise<void> {
  if (await migrationsRecorded(orm, schema, migrations)) return;
  await orm.em.getConnection().execute(`create schema if not exists "${schema}"`);
  await orm.getMigrator().up();
}
