import { DataSource, type DataSourceOptions, type MigrationInterface } from 'typeorm';
import { DbError, messageOf } from './db.errors';
import { type DbLogger, typeOrmLogger } from './logger';

/** A migration class. Its name must end in a 13-digit timestamp (`CreateOutbox1735689600000`): TypeORM orders by it. */
export type MigrationClass = new () => MigrationInterface;

/** Options of {@link createDataSource}. */
export interface DbOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /**
   * Schema holding the tables and the `migrations` table; also first on the connection's
   * `search_path`, so unqualified names in migrations land there.
   * @defaultValue 'public'
   */
  schema?: string;
  /**
   * Entity classes.
   * @defaultValue []
   */
  entities?: DataSourceOptions['entities'];
  /**
   * Migration classes, not globs: globs break once an app is bundled.
   * @defaultValue []
   */
  migrations?: readonly MigrationClass[];
  /**
   * Shown in `pg_stat_activity`, so a DBA can tell which service holds a connection.
   * @defaultValue unset
   */
  applicationName?: string;
  /**
   * Maximum connections in the pool.
   * @defaultValue 10
   */
  poolSize?: number;
  /**
   * Time limit for opening one connection; pg's own default is to wait forever.
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
  /** Receives TypeORM's warnings (slow queries, dropped pool clients) and, if asked, queries. */
  logger: DbLogger;
  /**
   * Log every query at debug level (without parameters); for local debugging.
   * @defaultValue false
   */
  logQueries?: boolean;
  /**
   * `false` lets this pool's commits return before their WAL is flushed to disk (PostgreSQL's
   * `synchronous_commit = off`): a crash can lose the last few hundred milliseconds of commits,
   * never corrupt anything. Only for writers whose lost commit is harmless, such as the outbox
   * poller's "published" marks (a lost mark means a duplicate publish, which consumers absorb).
   * @defaultValue true
   */
  synchronousCommit?: boolean;
  /**
   * Queries slower than this are logged as warnings.
   * @defaultValue 1000
   */
  slowQueryWarnMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A TypeORM `DataSource` for PostgreSQL, not yet connected (see {@link connectDataSource}).
 * `synchronize` and `migrationsRun` are always off: the schema changes only through migrations,
 * run explicitly by {@link runMigrations} or the migrate command.
 *
 * @throws {@link DbError} `DB_INVALID_OPTIONS` for a URL that is not `postgres://` or a schema
 *   name that is not lowercase `[a-z_][a-z0-9_]*`.
 */
export function createDataSource(options: DbOptions): DataSource {
  const {
    url,
    schema = 'public',
    entities = [],
    migrations = [],
    poolSize = 10,
    connectTimeoutMs = 5000,
  } = options;
  const parsed = URL.parse(url);
  if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol)) {
    throw new DbError('DB_INVALID_OPTIONS', 'database url must be a postgres:// URL');
  }
  if (!SCHEMA_NAME.test(schema)) {
    // Validated rather than quoted: the name also goes into the connection's startup options.
    throw new DbError('DB_INVALID_OPTIONS', `schema name must match ${SCHEMA_NAME}, got "${schema}"`);
  }
  return new DataSource({
    type: 'postgres',
    url,
    schema,
    entities,
    migrations: [...migrations],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    applicationName: options.applicationName,
    poolSize,
    connectTimeoutMS: connectTimeoutMs,
    logger: typeOrmLogger(options.logger, options.logQueries ?? false),
    maxQueryExecutionTime: options.slowQueryWarnMs ?? 1000,
    // `public` stays on the path so extension functions installed there still resolve.
    extra: {
      options: [
        `-c search_path=${schema === 'public' ? 'public' : `${schema},public`}`,
        ...(options.synchronousCommit === false ? ['-c synchronous_commit=off'] : []),
      ].join(' '),
    },
  });
}

/**
 * {@link createDataSource} and open it.
 * @throws {@link DbError} `DB_CONNECTION_FAILED` naming user, host, port and database, never the password.
 */
export async function connectDataSource(options: DbOptions): Promise<DataSource> {
  const dataSource = createDataSource(options);
  try {
    return await dataSource.initialize();
  } catch (error) {
    throw new DbError(
      'DB_CONNECTION_FAILED',
      `cannot connect to ${describeTarget(options.url)}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Readiness check: `SELECT 1` on the pool.
 * @throws {@link DbError} `DB_UNAVAILABLE`.
 */
export async function pingDatabase(dataSource: DataSource): Promise<void> {
  try {
    await dataSource.query('SELECT 1');
  } catch (error) {
    throw new DbError('DB_UNAVAILABLE', `database ping failed: ${messageOf(error)}`, { cause: error });
  }
}

/** `user@host:port/database` of a connection URL: enough to find the server, no secret. */
export function describeTarget(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed) return '(unparseable database url)';
  return `${parsed.username ? `${decodeURIComponent(parsed.username)}@` : ''}${parsed.host}${parsed.pathname}`;
}
