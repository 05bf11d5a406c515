import { type DataSource, MigrationExecutor } from 'typeorm';
import { DbError, messageOf } from './db.errors';
import { type DbLogger } from './logger';

/** One migration known to the code, and whether the database has it. */
export interface MigrationState {
  name: string;
  applied: boolean;
}

function schemaOf(dataSource: DataSource): string {
  return (dataSource.options as { schema?: string }).schema ?? 'public';
}

/**
 * Applies pending migrations in timestamp order, each in its own transaction, and returns the
 * names applied (empty when there was nothing to do). Creates the schema if it is missing.
 *
 * Holds a Postgres advisory lock per schema meanwhile, so replicas or jobs starting together
 * apply each migration once instead of racing on the same DDL.
 *
 * @throws {@link DbError} `DB_MIGRATION_FAILED` naming the failed migration; it was rolled back,
 *   the ones before it stay applied.
 */
export async function runMigrations(dataSource: DataSource, logger: DbLogger): Promise<string[]> {
  const schema = schemaOf(dataSource);
  const lockKey = `fleet:migrations:${schema}`;
  const queryRunner = dataSource.createQueryRunner();
  const executor = new MigrationExecutor(dataSource, queryRunner);
  executor.transaction = 'each';
  let pending: string[] = [];
  try {
    await queryRunner.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    try {
      await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      pending = (await executor.getPendingMigrations()).map((migration) => migration.name);
      if (pending.length > 0) logger.info({ schema, pending }, 'applying migrations');
      const applied = (await executor.executePendingMigrations()).map((migration) => migration.name);
      logger.info({ schema, applied }, applied.length > 0 ? 'migrations applied' : 'no pending migrations');
      return applied;
    } finally {
      await queryRunner.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]);
    }
  } catch (error) {
    // Only to name the failed migration; if the connection is gone too, the original error still wins.
    const executed = new Set(
      await executor.getExecutedMigrations().then(
        (migrations) => migrations.map((migration) => migration.name),
        () => [],
      ),
    );
    const failed = pending.find((name) => !executed.has(name));
    const what = failed ? `migration ${failed}` : 'migrations';
    throw new DbError('DB_MIGRATION_FAILED', `${what} failed in schema "${schema}": ${messageOf(error)}`, {
      cause: error,
    });
  } finally {
    await queryRunner.release();
  }
}

/** Every migration the code knows, in order, with whether it is applied. */
export async function migrationStatus(dataSource: DataSource): Promise<MigrationState[]> {
  const executor = new MigrationExecutor(dataSource);
  const executed = new Set((await executor.getExecutedMigrations()).map((migration) => migration.name));
  return (await executor.getAllMigrations()).map(({ name }) => ({ name, applied: executed.has(name) }));
}
