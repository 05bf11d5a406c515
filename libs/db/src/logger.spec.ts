import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { typeOrmLogger } from './logger';
import { captureLogger } from './testing';

describe('typeOrmLogger', () => {
  test('when queries are not asked for, only slow queries and driver warnings are above debug', () => {
    const logger = captureLogger();
    const adapter = typeOrmLogger(logger, false);
    adapter.logQuery('SELECT 1', ['secret-param']);
    adapter.logQueryError(new Error('boom'), 'SELECT x', ['secret-param']);
    adapter.logQuerySlow(1500, 'SELECT pg_sleep(1.5)', ['secret-param']);
    adapter.logSchemaBuild('No migrations are pending');
    adapter.logMigration('Migration X failed');
    adapter.log('warn', 'Postgres pool raised an error');
    adapter.log('info', 'info text');
    adapter.log('log', 'log text');
    assert.deepEqual(logger.lines, [
      {
        level: 'warn',
        obj: { component: 'typeorm', query: 'SELECT pg_sleep(1.5)', durationMs: 1500 },
        msg: 'slow query',
      },
      { level: 'debug', obj: { component: 'typeorm' }, msg: 'No migrations are pending' },
      { level: 'debug', obj: { component: 'typeorm' }, msg: 'Migration X failed' },
      { level: 'warn', obj: { component: 'typeorm' }, msg: 'Postgres pool raised an error' },
      { level: 'debug', obj: { component: 'typeorm' }, msg: 'info text' },
      { level: 'debug', obj: { component: 'typeorm' }, msg: 'log text' },
    ]);
  });

  test('when queries are asked for, they are logged at debug without their parameters', () => {
    const logger = captureLogger();
    const adapter = typeOrmLogger(logger, true);
    const error = new Error('boom');
    adapter.logQuery('SELECT $1', ['secret-param']);
    adapter.logQueryError(error, 'SELECT x', ['secret-param']);
    assert.deepEqual(logger.lines, [
      { level: 'debug', obj: { component: 'typeorm', query: 'SELECT $1' }, msg: 'query' },
      { level: 'debug', obj: { component: 'typeorm', query: 'SELECT x', err: error }, msg: 'query failed' },
    ]);
    assert.doesNotMatch(JSON.stringify(logger.lines), /secret-param/);
  });
});
