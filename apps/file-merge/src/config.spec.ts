import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@fleet/config';
import { configSchema } from './config';

const env = {
  SERVICE_NAME: 'file-merge',
  KAFKA_BROKERS: '127.0.0.1:9092',
  DATABASE_URL: 'postgres://fleet:fleet@127.0.0.1:5432/fleet',
  MINIO_ENDPOINT: '127.0.0.1',
  MINIO_ACCESS_KEY: 'fleet-minio',
  MINIO_SECRET_KEY: 'fleet-minio-secret',
};

const issuesOf = (raw: Record<string, string | undefined>): string[] => {
  try {
    parseConfig(configSchema, raw);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.issues.map((issue) => issue.variable).sort();
  }
  assert.fail('expected the config to be rejected');
};

describe('file-merge config', () => {
  it('with only the required variables: group file-merge, compose concurrency 10, port 9475, bucket fleet-files', () => {
    const config = parseConfig(configSchema, env);
    assert.equal(config.HEALTH_PORT, 9475);
    assert.equal(config.FILE_MERGE_GROUP, 'file-merge');
    assert.equal(config.MERGE_COMPOSE_CONCURRENCY, 10);
    assert.equal(config.FILE_MERGE_MAX_ATTEMPTS, 5);
    assert.equal(config.FILE_MERGE_RETRY_INITIAL_BACKOFF_MS, 1_000);
    assert.equal(config.FILE_MERGE_PARTITIONS_CONCURRENCY, 2);
    assert.equal(config.FILE_MERGE_TIMEOUT_MS, 600_000);
    assert.equal(config.DATABASE_SCHEMA, 'public');
    assert.equal(config.MINIO_BUCKET, 'fleet-files');
    assert.equal(config.MINIO_PORT, 9000);
    assert.equal(config.KAFKA_TOPIC_NAMESPACE, undefined);
  });

  it('the database, the brokers and the MinIO endpoint and keys have no defaults: each missing one is named', () => {
    assert.deepEqual(issuesOf({ SERVICE_NAME: 'file-merge' }), [
      'DATABASE_URL',
      'KAFKA_BROKERS',
      'MINIO_ACCESS_KEY',
      'MINIO_ENDPOINT',
      'MINIO_SECRET_KEY',
    ]);
  });

  it('a compose concurrency outside 1–100, a bad group or a bad bucket name is rejected by name', () => {
    assert.deepEqual(issuesOf({ ...env, MERGE_COMPOSE_CONCURRENCY: '0' }), ['MERGE_COMPOSE_CONCURRENCY']);
    assert.deepEqual(issuesOf({ ...env, MERGE_COMPOSE_CONCURRENCY: 'lots' }), ['MERGE_COMPOSE_CONCURRENCY']);
    assert.deepEqual(issuesOf({ ...env, FILE_MERGE_GROUP: 'File Merge' }), ['FILE_MERGE_GROUP']);
    assert.deepEqual(issuesOf({ ...env, MINIO_BUCKET: 'Bad_Bucket' }), ['MINIO_BUCKET']);
    assert.deepEqual(issuesOf({ ...env, DATABASE_URL: 'mysql://x' }), ['DATABASE_URL']);
    assert.equal(
      parseConfig(configSchema, { ...env, MERGE_COMPOSE_CONCURRENCY: '4' }).MERGE_COMPOSE_CONCURRENCY,
      4,
    );
  });

  it('a session timeout under the broker minimum of 6 s or a merge deadline under 1 s is rejected', () => {
    assert.deepEqual(issuesOf({ ...env, FILE_MERGE_SESSION_TIMEOUT_MS: '2s' }), [
      'FILE_MERGE_SESSION_TIMEOUT_MS',
    ]);
    assert.deepEqual(issuesOf({ ...env, FILE_MERGE_TIMEOUT_MS: '500ms' }), ['FILE_MERGE_TIMEOUT_MS']);
    assert.equal(
      parseConfig(configSchema, { ...env, FILE_MERGE_TIMEOUT_MS: '2m' }).FILE_MERGE_TIMEOUT_MS,
      120_000,
    );
  });
});
