import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@fleet/kafka/testing';
import { type AppProcess } from '@fleet/service-kit/testing';
import { chunkKey, finalKey } from '@fleet/uploads';
import { MergeFixture, MiB, sha256Hex } from './harness';

/**
 * One worker process for the whole file, on a fresh namespace, group, schema and bucket; every
 * test sets up uploads of its own and compares metric values with what they were before it.
 */
describe('file-merge merges uploads (real Kafka, PostgreSQL, MinIO)', () => {
  let f: MergeFixture;
  let worker: AppProcess;

  before(async () => {
    f = await MergeFixture.create();
    worker = await f.startWorker();
  });

  after(async () => {
    if (worker) {
      assert.deepEqual(await worker.stop(), { code: 0, signal: null }, 'SIGTERM exits 0');
    }
    await f?.close();
  });

  const merges = async (outcome: string) => (await worker.metric('file_merges_total', { outcome })) ?? 0;

  test('three chunks (5 MiB, 5 MiB, a small last one) become one COMPLETED object with the source bytes and sha256; chunk objects, a leftover attempt and the rows are gone', async () => {
    const completedBefore = await merges('completed');
    const bytesBefore = (await worker.metric('file_merge_bytes_total')) ?? 0;
    const up = await f.createUpload({ parts: [5 * MiB, 5 * MiB, 1_234] });
    // An attempt whose row never committed (a racing PUT of chunk 1): no row names it.
    const leftover = chunkKey(up.id, 1, randomUUID());
    await f.store.putStream(leftover, Readable.from([Buffer.alloc(10, 1)]), 10);
    assert.equal((await f.chunkObjects(up.id)).length, 4);

    await f.requestMerge([up.id]);
    const done = await f.waitForStatus(up.id, 'COMPLETED');

    assert.equal(done.finalKey, finalKey(up.id));
    assert.equal(done.sha256, up.sha256);
    assert.ok(done.completedAt instanceof Date);
    const bytes = await f.finalBytes(up.id);
    assert.equal(bytes?.length, up.data.length);
    assert.ok(bytes?.equals(up.data), 'the final object holds the source bytes in chunk order');
    assert.equal(sha256Hex(bytes!), up.sha256);
    await waitFor('the chunk rows to be deleted', async () => (await f.chunkRows(up.id)).length === 0);
    assert.deepEqual(await f.objectsOf(up.id), [finalKey(up.id)], 'only the final object is left');
    assert.equal(await merges('completed'), completedBefore + 1);
    assert.equal((await worker.metric('file_merge_bytes_total'))! - bytesBefore, up.data.length);
    assert.ok((await worker.metric('file_merge_duration_seconds_count', { outcome: 'completed' }))! >= 1);
    assert.equal(f.dlqFor(up.id).length, 0);

    const ready = await fetch(`http://127.0.0.1:${worker.port}/health/ready`);
    const body = JSON.stringify(await ready.json());
    assert.equal(ready.status, 200, body);
    for (const check of ['kafka', 'postgres', 'minio']) assert.match(body, new RegExp(check));
  });

  test('a merge requested twice (two records) writes one final object with the right content and completes once, without a DLQ record', async () => {
    const completedBefore = await merges('completed');
    const againBefore = await merges('already_completed');
    const up = await f.createUpload({ parts: [5 * MiB, 300_000], announce: 'none' });
    await f.requestMerge([up.id, up.id]);

    await waitFor(
      'both requests handled',
      async () => (await merges('already_completed')) >= againBefore + 1,
    );
    const done = await f.waitForStatus(up.id, 'COMPLETED');
    assert.equal(done.sha256, up.sha256, 'computed even when the client announced none');
    assert.equal(await merges('completed'), completedBefore + 1, 'one completion');
    assert.equal(await merges('already_completed'), againBefore + 1, 'the second request only checked');
    assert.deepEqual(await f.objectsOf(up.id), [finalKey(up.id)]);
    assert.ok((await f.finalBytes(up.id))?.equals(up.data));
    assert.equal((await f.chunkRows(up.id)).length, 0);
    assert.equal(f.dlqFor(up.id).length, 0);
    assert.equal(f.retriesFor(up.id).length, 0);
  });

  test('a wrong announced sha256 → FAILED with the reason, the final object deleted, a DLQ record with the reason, no retry', async () => {
    const up = await f.createUpload({ parts: [5 * MiB, 4_096], announce: 'wrong' });
    await f.requestMerge([up.id]);

    await f.dlq.until('the DLQ record', () => f.dlqFor(up.id).length > 0);
    const failed = await f.waitForStatus(up.id, 'FAILED');
    assert.match(failed.failureReason ?? '', /^CHECKSUM_MISMATCH: /);
    assert.ok(failed.failureReason?.includes(up.sha256), 'the reason names the real sha256');
    assert.equal(failed.sha256, null);
    assert.equal(failed.completedAt, null);
    const [dead] = f.dlqFor(up.id);
    assert.equal(dead!.key, up.id);
    assert.equal(dead!.headers['x-dlq-reason'], 'NON_RETRIABLE');
    assert.equal(dead!.headers['x-dlq-error-code'], 'CHECKSUM_MISMATCH');
    assert.match(dead!.headers['x-dlq-error-message'] ?? '', new RegExp(up.sha256));
    assert.equal(dead!.headers['x-dlq-attempts'], '1');
    assert.equal(dead!.headers['x-dlq-consumer-group'], `${f.namespace}.${f.group}`);
    assert.equal(f.retriesFor(up.id).length, 0, 'never retried');
    assert.equal(await f.store.stat(finalKey(up.id)), undefined, 'the unverified object is deleted');
    await waitFor(
      'the chunks of the FAILED upload to be deleted',
      async () => (await f.objectsOf(up.id)).length === 0,
    );
    assert.equal((await f.chunkRows(up.id)).length, 0);
    assert.ok((await merges('checksum_mismatch')) >= 1);
  });

  test('an unknown upload id → DLQ with the reason, and the next request on its partition still completes', async () => {
    const next = await f.createUpload({ parts: [5 * MiB, 10] });
    const unknown = randomUUID();
    // Same key → same partition, the unknown one first.
    await f.requestMerge([unknown, next.id], next.id);

    await f.waitForStatus(next.id, 'COMPLETED');
    await f.dlq.until('the unknown upload in the DLQ', () => f.dlqFor(unknown).length > 0);
    const [dead] = f.dlqFor(unknown);
    assert.equal(dead!.headers['x-dlq-reason'], 'NON_RETRIABLE');
    assert.equal(dead!.headers['x-dlq-error-code'], 'UNKNOWN_UPLOAD');
    assert.match(dead!.headers['x-dlq-error-message'] ?? '', new RegExp(`no upload ${unknown}`));
    assert.deepEqual(JSON.parse(dead!.value!.toString()).uploadId, unknown, 'the original value');
    assert.equal(f.retriesFor(unknown).length, 0);
    assert.ok((await f.finalBytes(next.id))?.equals(next.data));
  });

  test('an upload still UPLOADING → DLQ UPLOAD_NOT_COMPLETED and nothing changes; a FAILED one → acknowledged, nothing done; a schema-invalid record → DLQ', async () => {
    const uploading = await f.createUpload({ parts: [5 * MiB, 10], startMerge: false });
    const failed = await f.createUpload({ parts: [5 * MiB, 10] });
    await f.db.dataSource.query(
      `UPDATE uploads SET status = 'FAILED', failure_reason = 'test' WHERE id = $1`,
      [failed.id],
    );
    const alreadyFailedBefore = await merges('already_failed');
    await f.requestMerge([uploading.id, failed.id]);
    await f.producer.sendRaw(f.input.name, [
      { key: failed.id, value: JSON.stringify({ uploadId: 'not-a-uuid' }), headers: {} },
    ]);

    await f.dlq.until('the UPLOADING request in the DLQ', () => f.dlqFor(uploading.id).length > 0);
    assert.equal(f.dlqFor(uploading.id)[0]!.headers['x-dlq-error-code'], 'UPLOAD_NOT_COMPLETED');
    await f.dlq.until('the invalid record in the DLQ', () => f.dlqFor('not-a-uuid').length > 0);
    assert.equal(f.dlqFor('not-a-uuid')[0]!.headers['x-dlq-reason'], 'SCHEMA_INVALID');
    await waitFor(
      'the FAILED request acknowledged',
      async () => (await merges('already_failed')) > alreadyFailedBefore,
    );

    assert.equal((await f.upload(uploading.id))?.status, 'UPLOADING', 'an UPLOADING upload is left as it is');
    assert.equal((await f.chunkRows(uploading.id)).length, 2);
    assert.equal((await f.upload(failed.id))?.failureReason, 'test');
    assert.equal((await f.chunkRows(failed.id)).length, 2, 'a FAILED upload is not touched');
    assert.equal(f.dlqFor(failed.id).length, 0);
    assert.equal(await f.store.stat(finalKey(uploading.id)), undefined);
    assert.equal(await f.store.stat(finalKey(failed.id)), undefined);
  });

  test('chunk rows that are not exactly 0..chunkCount-1 → FAILED (CHUNKS_INVALID) and DLQ, nothing composed', async () => {
    const up = await f.createUpload({ parts: [5 * MiB, 5 * MiB, 10] });
    await f.db.dataSource.query(`DELETE FROM upload_chunks WHERE upload_id = $1 AND idx = 1`, [up.id]);
    await f.requestMerge([up.id]);

    await f.dlq.until('the DLQ record', () => f.dlqFor(up.id).length > 0);
    assert.equal(f.dlqFor(up.id)[0]!.headers['x-dlq-error-code'], 'CHUNKS_INVALID');
    const failed = await f.waitForStatus(up.id, 'FAILED');
    assert.equal(failed.failureReason, 'CHUNKS_INVALID: chunk(s) 1 missing');
    assert.equal(await f.store.stat(finalKey(up.id)), undefined);
  });
});
