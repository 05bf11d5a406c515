import { connectDataSource, type DbOptions } from '../data-source';
import { messageOf } from '../db.errors';
import { migrationStatus, runMigrations } from '../migrations';

/** Options of {@link runMigrateCli}. */
export interface MigrateCliOptions {
  /** Where to migrate; the app's entry point builds it from its config (`DATABASE_URL`…). */
  db: DbOptions;
  /**
   * Where `status` and usage text go.
   * @defaultValue writes to `process.stdout`
   */
  write?: (text: string) => void;
}

export const MIGRATE_USAGE =
  'usage: migrate <up|status>\n  up      apply pending migrations\n  status  list migrations and whether each is applied\n';

/**
 * The body of an app's `migrate` entry point: `migrate up` applies pending migrations, `migrate
 * status` lists them. Resolves to the process exit code (0 ok, 1 failed, 2 usage) rather than
 * exiting, so the caller decides and tests can call it.
 */
export async function runMigrateCli(argv: readonly string[], options: MigrateCliOptions): Promise<number> {
  const { db, write = (text: string) => void process.stdout.write(text) } = options;
  const [command, ...rest] = argv;
  if ((command !== 'up' && command !== 'status') || rest.length > 0) {
    write(MIGRATE_USAGE);
    return 2;
  }
  const { logger } = db;
  try {
    const dataSource = await connectDataSource(db);
    try {
      if (command === 'up') {
        await runMigrations(dataSource, logger);
      } else {
        for (const { name, applied } of await migrationStatus(dataSource)) {
          write(`${applied ? 'applied' : 'pending'}  ${name}\n`);
        }
      }
    } finally {
      await dataSource.destroy();
    }
    return 0;
  } catch (error) {
    logger.error({ err: error, command }, `migrate ${command} failed: ${messageOf(error)}`);
    return 1;
  }
}
