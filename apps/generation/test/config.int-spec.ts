import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppProcess } from '@fleet/service-kit/testing';

describe('generation config', () => {
  test('a missing or invalid variable exits 1 naming each one, before connecting to anything', async () => {
    const app = await AppProcess.start({
      app: 'generation',
      env: {
        // Empty counts as unset, whatever the test process inherited from `tools/infra env`.
        DATABASE_URL: 'postgres://fleet:fleet@127.0.0.1:1/fleet',
        REDIS_URL: 'redis://127.0.0.1:1',
        MINIO_ENDPOINT: '127.0.0.1',
        MINIO_ACCESS_KEY: 'fleet-minio',
        MINIO_SECRET_KEY: 'fleet-minio-secret',
        KAFKA_BROKERS: '127.0.0.1:1',
        LOCAL_LLM_MODEL: '',
        LOCAL_LLM_ENDPOINT: 'ftp://127.0.0.1/v1',
        WORKER_CONCURRENCY: '0',
        GENERATION_SESSION_TIMEOUT_MS: '1s',
        LLM_FALLBACK_MODEL: 'gpt-4o-mini',
      },
    });
    assert.equal((await app.exited).code, 1);
    const out = app.tail(50);
    assert.match(out, /LOCAL_LLM_MODEL/);
    assert.match(out, /LOCAL_LLM_ENDPOINT/);
    assert.match(out, /WORKER_CONCURRENCY: expected an integer between 1 and 32, got "0"/);
    assert.match(out, /GENERATION_SESSION_TIMEOUT_MS: expected a duration between 6 s and 5 min/);
    assert.doesNotMatch(out, /KAFKA_BROKERS|MINIO_ACCESS_KEY|DATABASE_URL/, 'valid variables are not named');
  });
});
