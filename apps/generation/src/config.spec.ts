import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@fleet/config';
import { configSchema } from './config';

const env = {
  SERVICE_NAME: 'generation',
  KAFKA_BROKERS: '127.0.0.1:9092',
  DATABASE_URL: 'postgres://fleet:fleet@127.0.0.1:5432/fleet',
  REDIS_URL: 'redis://127.0.0.1:6379',
  MINIO_ENDPOINT: '127.0.0.1',
  MINIO_ACCESS_KEY: 'fleet-minio',
  MINIO_SECRET_KEY: 'fleet-minio-secret',
  LOCAL_LLM_MODEL: 'fake-7b-instruct',
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

describe('generation config', () => {
  it('with only the required variables: one job at a time, 3 attempts from 2 s, group generation, port 9476, LM Studio’s loopback default', () => {
    const config = parseConfig(configSchema, env);
    assert.equal(config.HEALTH_PORT, 9476);
    assert.equal(config.GENERATION_GROUP, 'generation');
    assert.equal(config.WORKER_CONCURRENCY, 1);
    assert.equal(config.JOB_MAX_ATTEMPTS, 3);
    assert.equal(config.GENERATION_RETRY_INITIAL_BACKOFF_MS, 2_000);
    assert.equal(config.GENERATION_SESSION_TIMEOUT_MS, 30_000);
    assert.equal(config.GENERATION_SHUTDOWN_DRAIN_MS, 15_000);
    assert.equal(config.JOB_LEASE_MS, 30_000);
    assert.equal(config.JOB_REAPER_INTERVAL_MS, 15_000);
    assert.equal(config.LOCAL_LLM_ENDPOINT, 'http://127.0.0.1:1234/v1');
    assert.equal(config.LLM_MAX_CONCURRENCY, 1);
    assert.equal(config.MINIO_BUCKET, 'fleet-files');
    assert.equal(config.DATABASE_SCHEMA, 'public');
  });

  it('names every bad variable: model, concurrency, session timeout, drain, fallback rules', () => {
    assert.deepEqual(
      issuesOf({
        ...env,
        LOCAL_LLM_MODEL: undefined,
        WORKER_CONCURRENCY: '0',
        GENERATION_SESSION_TIMEOUT_MS: '2s',
        GENERATION_SHUTDOWN_DRAIN_MS: '1m',
      }),
      [
        'GENERATION_SESSION_TIMEOUT_MS',
        'GENERATION_SHUTDOWN_DRAIN_MS',
        'LOCAL_LLM_MODEL',
        'WORKER_CONCURRENCY',
      ],
    );
    assert.ok(
      issuesOf({ ...env, LLM_FALLBACK_MODEL: 'gpt-4o-mini' }).length > 0,
      'a fallback model without its endpoint',
    );
  });

  it('REDIS_URL and DATABASE_URL are required', () => {
    assert.deepEqual(issuesOf({ ...env, REDIS_URL: undefined, DATABASE_URL: undefined }), [
      'DATABASE_URL',
      'REDIS_URL',
    ]);
  });
});
