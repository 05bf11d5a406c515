import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort } from '@fleet/service-kit/testing';
import { finalKey } from '@fleet/uploads';
import { MergeFixture, MiB } from './harness';

describe('file-merge while MinIO is unreachable (real Kafka, PostgreSQL, MinIO)', () => {
  test('compose fails to connect → retried with backoff, then DLQ RETRIES_EXHAUSTED; the upload stays MERGING and a replay once MinIO answers completes it', async () => {
    const f = await MergeFixture.create();
    try {
      // Nothing listens there: every MinIO call is refused.
      const worker = await f.startWorker({
        MINIO_PORT: String(await freePort()),
        FILE_MERGE_MAX_ATTEMPTS: '3',
        FILE_MERGE_RETRY_INITIAL_BACKOFF_MS: '200',
        ready: 'live',
      });
      const ready = await fetch(`http://127.0.0.1:${worker.port}/health/ready`);
      const body = JSON.stringify(await ready.json());
      assert.equal(ready.status, 503, body);
      assert.match(body, /minio/);

      const up = await f.createUpload({ parts: [5 * MiB, 5 * MiB, 10] });
      await f.requestMerge([up.id]);
      await f.dlq.until('the DLQ record', () => f.dlqFor(up.id).length > 0, 60_000);

      const [dead] = f.dlqFor(up.id);
      assert.equal(dead!.headers['x-dlq-reason'], 'RETRIES_EXHAUSTED');
      assert.equal(dead!.headers['x-dlq-error-code'], 'OBJECT_STORE_UNAVAILABLE');
      assert.match(dead!.headers['x-dlq-error-message'] ?? '', /composing the chunks: .*ECONNREFUSED/);
      assert.equal(dead!.headers['x-dlq-attempts'], '3');
      assert.deepEqual(
        f.retriesFor(up.id).map((m) => m.headers['x-retry-attempt']),
        ['2', '3'],
        'two retries, 200 ms then 400 ms after',
      );
      assert.equal((await worker.metric('file_merges_total', { outcome: 'transient' })) ?? 0, 3);
      const stuck = await f.upload(up.id);
      assert.equal(stuck?.status, 'MERGING', 'an outage never fails the upload');
      assert.equal((await f.chunkRows(up.id)).length, 3);
      assert.equal((await f.chunkObjects(up.id)).length, 3);
      await worker.stop();

      // MinIO is back: the operator replays the DLQ record (same key and value) onto the topic.
      await f.startWorker();
      await f.producer.sendRaw(f.input.name, [{ key: dead!.key, value: dead!.value, headers: {} }]);
      const done = await f.waitForStatus(up.id, 'COMPLETED');
      assert.equal(done.sha256, up.sha256);
      assert.deepEqual(await f.objectsOf(up.id), [finalKey(up.id)]);
      assert.ok((await f.finalBytes(up.id))?.equals(up.data));
    } finally {
      await f.close();
    }
  });
});
