import { type Logger as TypeOrmLogger } from 'typeorm';

/** The slice of the service logger this lib needs; `@fleet/observability`'s `Logger` satisfies it. */
export interface DbLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Routes TypeORM's own logging into the service logger, so it is JSON with trace ids rather than
 * console text. Parameters are never logged: they carry user data and secrets.
 *
 * Migration and schema-build chatter goes to debug: {@link runMigrations} logs its own summary
 * and throws a `DbError` with the details. Query errors go to debug too, because the caller gets
 * the error. Slow queries and driver warnings (a pool client dropped by the server) are warnings.
 */
export function typeOrmLogger(logger: DbLogger, logQueries: boolean): TypeOrmLogger {
  const fields = { component: 'typeorm' };
  return {
    logQuery: (query) => {
      if (logQueries) logger.debug({ ...fields, query }, 'query');
    },
    logQueryError: (error, query) => {
      if (logQueries) logger.debug({ ...fields, query, err: error }, 'query failed');
    },
    logQuerySlow: (durationMs, query) => logger.warn({ ...fields, query, durationMs }, 'slow query'),
    logSchemaBuild: (message) => logger.debug(fields, message),
    logMigration: (message) => logger.debug(fields, message),
    log: (level, message) => {
      if (level === 'warn') logger.warn(fields, String(message));
      else logger.debug(fields, String(message));
    },
  };
}
