import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema, DEFAULT_UPLOAD_TYPES } from './config';

const env = {
  SERVICE_NAME: 'api',
  DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  KAFKA_BROKERS: '127.0.0.1:9092',
  AUTH_JWT_ISSUER: 'i',
  AUTH_JWT_AUDIENCE: 'a',
  AUTH_JWKS_FILE: '/tmp/jwks.json',
  MINIO_ENDPOINT: '127.0.0.1',
  MINIO_ACCESS_KEY: 'k',
  MINIO_SECRET_KEY: 's',
};
const MiB = 1024 * 1024;
const failures = (extra: Record<string, string>) => {
  const parsed = configSchema.safeParse({ ...env, ...extra });
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('api config: uploads and object store', () => {
  it('defaults: 5 GiB files, 8 MiB chunks, the default type list without octet-stream, 300 s URLs, bucket fleet-files', () => {
    const config = configSchema.parse(env);
    assert.equal(config.UPLOAD_MAX_BYTES, 5 * 1024 * MiB);
    assert.equal(config.UPLOAD_CHUNK_BYTES, 8 * MiB);
    assert.ok(!config.UPLOAD_ALLOWED_TYPES.includes('application/octet-stream'));
    assert.deepEqual(config.UPLOAD_ALLOWED_TYPES, [...DEFAULT_UPLOAD_TYPES]);
    assert.equal(config.UPLOAD_DOWNLOAD_URL_TTL_SECONDS, 300);
    assert.equal(config.MINIO_BUCKET, 'fleet-files');
    assert.equal(config.MINIO_PORT, 9000);
  });

  it('allowed types are a comma list, lower-cased and deduplicated', () => {
    const config = configSchema.parse({ ...env, UPLOAD_ALLOWED_TYPES: 'Image/PNG, image/png ,text/plain' });
    assert.deepEqual(config.UPLOAD_ALLOWED_TYPES, ['image/png', 'text/plain']);
  });

  it('names each bad variable: chunk under 5 MiB, a type that is no media type, a zero TTL, no MinIO endpoint', () => {
    assert.match(
      failures({ UPLOAD_CHUNK_BYTES: String(4 * MiB) })[0]!,
      /^UPLOAD_CHUNK_BYTES: expected an integer between 5242880/,
    );
    assert.match(
      failures({ UPLOAD_ALLOWED_TYPES: 'pdf' })[0]!,
      /^UPLOAD_ALLOWED_TYPES: not a media type: pdf/,
    );
    assert.match(failures({ UPLOAD_DOWNLOAD_URL_TTL_SECONDS: '0' })[0]!, /^UPLOAD_DOWNLOAD_URL_TTL_SECONDS/);
    const { MINIO_ENDPOINT: _omitted, ...withoutEndpoint } = env;
    const parsed = configSchema.safeParse(withoutEndpoint);
    assert.ok(!parsed.success && parsed.error.issues.some((i) => i.path[0] === 'MINIO_ENDPOINT'));
  });
});
