import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@fleet/config';
import { GENERATOR } from './bundle/manifest';
import { configSchema } from './config';

const env = {
  SERVICE_NAME: 'exporter',
  KAFKA_BROKERS: '127.0.0.1:9092',
  DATABASE_URL: 'postgres://fleet:fleet@127.0.0.1:5432/fleet',
  REDIS_URL: 'redis://127.0.0.1:6379',
  MINIO_ENDPOINT: '127.0.0.1',
  MINIO_ACCESS_KEY: 'fleet-minio',
  MINIO_SECRET_KEY: 'fleet-minio-secret',
  EXPORT_SIGNING_KEY_FILE: '/keys/signing-key.pem',
  WORKER_CALLBACK_SECRET: 'a-secret-of-24-characters',
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

describe('exporter config', () => {
  it('with only the required variables: 4 jobs per replica, 8 MiB parts, 6 callback deliveries from 1 s, port 9478', () => {
    const config = parseConfig(configSchema, env);
    assert.equal(config.WORKER_CONCURRENCY, 4);
    assert.equal(config.JOB_MAX_ATTEMPTS, 3);
    assert.equal(config.EXPORT_PART_SIZE_BYTES, 8 * 1024 * 1024);
    assert.equal(config.EXPORT_CALLBACK_MAX_ATTEMPTS, 6);
    assert.equal(config.EXPORT_CALLBACK_INITIAL_BACKOFF_MS, 1_000);
    assert.equal(config.HEALTH_PORT, 9478);
    assert.equal(config.EXPORT_SIGNER, 'local');
  });

  it('names every bad variable: secret, part size; then the rules between variables: signer, allowlist', () => {
    assert.deepEqual(issuesOf({ ...env, WORKER_CALLBACK_SECRET: 'short', EXPORT_PART_SIZE_BYTES: '1024' }), [
      'EXPORT_PART_SIZE_BYTES',
      'WORKER_CALLBACK_SECRET',
    ]);
    // Rules between variables run once every variable parses on its own (zod's refinement order).
    assert.deepEqual(
      issuesOf({ ...env, EXPORT_SIGNING_KEY_FILE: undefined, EXPORT_CALLBACK_ALLOWLIST: '10.0.0.0/99' }),
      ['EXPORT_CALLBACK_ALLOWLIST', 'EXPORT_SIGNING_KEY_FILE'],
    );
    assert.deepEqual(issuesOf({ ...env, EXPORT_SIGNER: 'pkcs11' }), [
      'PKCS11_KEY_LABEL',
      'PKCS11_MODULE',
      'PKCS11_PIN_FILE',
      'PKCS11_TOKEN_LABEL',
    ]);
  });

  it("the manifests' generator version is the package's", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(GENERATOR.version, pkg.version);
  });
});
