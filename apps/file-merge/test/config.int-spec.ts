import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppProcess } from '@fleet/service-kit/testing';

describe('file-merge config', () => {
  test('a missing or invalid variable exits 1 naming each one, before connecting to anything', async () => {
    const app = await AppProcess.start({
      app: 'file-merge',
      env: {
        // Empty counts as unset, whatever the test process inherited from `tools/infra env`.
        DATABASE_URL: '',
        MINIO_ENDPOINT: '',
        MINIO_ACCESS_KEY: 'fleet-minio',
        MINIO_SECRET_KEY: 'fleet-minio-secret',
        KAFKA_BROKERS: '127.0.0.1:1',
        MERGE_COMPOSE_CONCURRENCY: 'lots',
        FILE_MERGE_GROUP: 'File Merge',
      },
    });
    assert.equal((await app.exited).code, 1);
    const out = app.tail(50);
    assert.match(out, /DATABASE_URL: required/);
    assert.match(out, /MINIO_ENDPOINT: required/);
    assert.match(out, /MERGE_COMPOSE_CONCURRENCY: expected an integer between 1 and 100, got "lots"/);
    assert.match(out, /FILE_MERGE_GROUP: expected a lowercase group id/);
    assert.doesNotMatch(out, /KAFKA_BROKERS|MINIO_ACCESS_KEY/, 'valid variables are not named');
  });
});
