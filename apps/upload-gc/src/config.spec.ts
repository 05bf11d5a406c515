import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '@fleet/config';
import { configSchema } from './config';

const required = {
  DATABASE_URL: 'postgres://fleet:fleet@127.0.0.1:5432/fleet',
  MINIO_ENDPOINT: '127.0.0.1',
  MINIO_ACCESS_KEY: 'fleet-minio',
  MINIO_SECRET_KEY: 'fleet-minio-secret',
};

test('with only the required variables, the defaults apply (24 h retention, batches of 100, no push)', () => {
  const config = parseConfig(configSchema, required);
  assert.equal(config.SERVICE_NAME, 'upload-gc');
  assert.equal(config.DATABASE_SCHEMA, 'public');
  assert.equal(config.GC_RETENTION_HOURS, 24);
  assert.equal(config.GC_BATCH_SIZE, 100);
  assert.equal(config.GC_PUSHGATEWAY_URL, undefined);
  assert.equal(config.MINIO_BUCKET, 'fleet-files');
  assert.equal(config.LOG_LEVEL, 'info');
});

test('no health listener: HEALTH_PORT is neither required nor read', () => {
  assert.doesNotThrow(() => parseConfig(configSchema, { ...required, HEALTH_PORT: 'not-a-port' }));
});

test('invalid values are rejected, each variable named once', () => {
  const env = {
    ...required,
    GC_RETENTION_HOURS: '0',
    GC_BATCH_SIZE: '1001',
    GC_PUSHGATEWAY_URL: 'ftp://gateway',
    DATABASE_SCHEMA: 'Bad-Schema',
  };
  assert.throws(
    () => parseConfig(configSchema, env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.issues.map((i) => i.variable).sort(), [
        'DATABASE_SCHEMA',
        'GC_BATCH_SIZE',
        'GC_PUSHGATEWAY_URL',
        'GC_RETENTION_HOURS',
      ]);
      return true;
    },
  );
});

test('a missing DATABASE_URL or MinIO credential is named as required', () => {
  const { DATABASE_URL: _url, MINIO_SECRET_KEY: _secret, ...env } = required;
  assert.throws(
    () => parseConfig(configSchema, env),
    (error: unknown) =>
      error instanceof ConfigError &&
      /DATABASE_URL: required/.test(error.message) &&
      /MINIO_SECRET_KEY: required/.test(error.message),
  );
});
