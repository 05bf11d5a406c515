import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { createDataSource, describeTarget } from './data-source';
import { DbError } from './db.errors';
import { captureLogger } from './testing';
import { type MigrationInterface } from 'typeorm';

const URL_ = 'postgres://fleet:s3cret@127.0.0.1:5432/fleet';
const logger = captureLogger();

class Noop1700000000000 implements MigrationInterface {
  async up(): Promise<void> {}
  async down(): Promise<void> {}
}

describe('createDataSource', () => {
  test('it never synchronizes or auto-runs migrations, and applies the documented defaults', () => {
    const options = createDataSource({ url: URL_, logger }).options as PostgresConnectionOptions;
    assert.equal(options.type, 'postgres');
    assert.equal(options.synchronize, false);
    assert.equal(options.migrationsRun, false);
    assert.equal(options.migrationsTransactionMode, 'each');
    assert.equal(options.schema, 'public');
    assert.equal(options.poolSize, 10);
    assert.equal(options.connectTimeoutMS, 5000);
    assert.equal(options.maxQueryExecutionTime, 1000);
    assert.deepEqual(options.extra, { options: '-c search_path=public' });
  });

  test('a custom schema holds the migrations table and comes first on the search_path', () => {
    const dataSource = createDataSource({
      url: URL_,
      schema: 'outbox_1',
      migrations: [Noop1700000000000],
      applicationName: 'outbox-poller',
      poolSize: 3,
      connectTimeoutMs: 250,
      slowQueryWarnMs: 50,
      logger,
    });
    const options = dataSource.options as PostgresConnectionOptions;
    assert.equal(options.schema, 'outbox_1');
    assert.equal(options.migrationsTableName, 'migrations');
    assert.deepEqual(options.extra, { options: '-c search_path=outbox_1,public' });
    assert.equal(options.applicationName, 'outbox-poller');
    assert.equal(options.poolSize, 3);
    assert.equal(options.connectTimeoutMS, 250);
    assert.equal(options.maxQueryExecutionTime, 50);
    assert.deepEqual(options.migrations, [Noop1700000000000]);
  });

  test('when the url is not a postgres URL, it throws DB_INVALID_OPTIONS without echoing the url', () => {
    for (const url of ['not a url', 'mysql://fleet:s3cret@db/fleet']) {
      assert.throws(
        () => createDataSource({ url, logger }),
        (error: unknown) =>
          error instanceof DbError &&
          error.code === 'DB_INVALID_OPTIONS' &&
          !error.message.includes('s3cret'),
      );
    }
  });

  test('when the schema name is not a plain lowercase identifier, it throws DB_INVALID_OPTIONS', () => {
    for (const schema of ['Upper', 'with-dash', 'x; DROP TABLE y', '1abc', 'a'.repeat(64)]) {
      assert.throws(
        () => createDataSource({ url: URL_, schema, logger }),
        (error: unknown) => error instanceof DbError && error.code === 'DB_INVALID_OPTIONS',
        schema,
      );
    }
  });
});

describe('describeTarget', () => {
  test('it names user, host, port and database but never the password', () => {
    assert.equal(describeTarget(URL_), 'fleet@127.0.0.1:5432/fleet');
    assert.equal(describeTarget('postgres://db.internal/app'), 'db.internal/app');
    assert.equal(describeTarget('::'), '(unparseable database url)');
  });
});
