export { MIGRATE_USAGE, runMigrateCli, type MigrateCliOptions } from './cli/migrate';
export {
  connectDataSource,
  createDataSource,
  describeTarget,
  pingDatabase,
  type DbOptions,
  type MigrationClass,
} from './data-source';
export { DbError, type DbErrorCode } from './db.errors';
export { type DbLogger } from './logger';
export { migrationStatus, runMigrations, type MigrationState } from './migrations';
export { inTransaction, onConnection, sqlOf, type Sql, type SqlSession } from './sql';
export {
  listenForNotifications,
  type NotificationListener,
  type NotificationListenerOptions,
} from './notifications';
// TypeORM is imported by this lib only; what entity and migration code elsewhere needs comes from here.
export {
  Column,
  DataSource,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  type EntityManager,
  type MigrationInterface,
  type QueryRunner,
} from 'typeorm';
