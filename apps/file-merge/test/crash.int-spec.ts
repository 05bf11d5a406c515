import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@fleet/kafka/testing';
import { finalKey } from '@fleet/uploads';
import { MergeFixture, MiB, type TestUpload } from './harness';

/** Short enough that a SIGKILLed replica's partitions move on quickly (the broker's minimum is 6 s). */
const FAST_REBALANCE = { FILE_MERGE_SESSION_TIMEOUT_MS: '6000' };

/** The upload is COMPLETED with the source bytes, nothing else is left of it but its final object. */
async function assertMergedOnce(f: MergeFixture, up: TestUpload): Promise<void> {
  const done = await f.waitForStatus(up.id, 'COMPLETED');
  assert.equal(done.sha256, up.sha256);
  assert.equal(done.finalKey, finalKey(up.id));
  await waitFor('the chunk rows to be deleted', async () => (await f.chunkRows(up.id)).length === 0);
  assert.deepEqual(await f.objectsOf(up.id), [finalKey(up.id)], 'one final object, no chunk left');
  assert.ok((await f.finalBytes(up.id))?.equals(up.data), 'the final object holds the source bytes');
  assert.equal(f.dlqFor(up.id).length, 0, 'no DLQ record');
}

describe('file-merge survives crashes, timeouts and shutdowns at any step (real Kafka, PostgreSQL, MinIO)', () => {
  test('a worker SIGKILLed after composing but before marking COMPLETED: the redelivered request composes again and completes', async () => {
    const f = await MergeFixture.create();
    try {
      const first = await f.startWorker(FAST_REBALANCE);
      const up = await f.createUpload({ parts: [5 * MiB, 5 * MiB, 777] });
      // The worker reads the upload and the chunks without locks, composes, then waits on this
      // lock in markCompleted's UPDATE.
      const lock = await f.lockRows(`SELECT id FROM uploads WHERE id = $1 FOR UPDATE`, [up.id]);
      try {
        await f.requestMerge([up.id]);
        await waitFor('the composed final object', () => f.store.stat(finalKey(up.id)), 30_000);
        await waitFor(
          'the worker waiting in markCompleted',
          async () => (await f.blockedBy(lock.pid)).length > 0,
        );
        assert.deepEqual(await first.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
        assert.equal(await f.terminateBlockedBy(lock.pid), 1, 'the dead worker’s UPDATE is ended');
      } finally {
        await lock.release();
      }
      const crashed = await f.upload(up.id);
      assert.equal(crashed?.status, 'MERGING', 'the crash left the upload MERGING');
      assert.equal((await f.chunkRows(up.id)).length, 3, 'with its chunks');
      assert.equal((await f.chunkObjects(up.id)).length, 3);

      const second = await f.startWorker(FAST_REBALANCE);
      await assertMergedOnce(f, up);
      assert.equal(await second.metric('file_merges_total', { outcome: 'completed' }), 1, 'composed again');
    } finally {
      await f.close();
    }
  });

  test('a worker SIGKILLed after marking COMPLETED but before deleting the chunk rows: the redelivered request only cleans up', async () => {
    const f = await MergeFixture.create();
    try {
      const first = await f.startWorker(FAST_REBALANCE);
      const up = await f.createUpload({ parts: [5 * MiB, 5 * MiB, 4_000] });
      // The chunk rows are read without locks; deleteChunkRows waits on this lock.
      const lock = await f.lockRows(`SELECT idx FROM upload_chunks WHERE upload_id = $1 FOR UPDATE`, [up.id]);
      try {
        await f.requestMerge([up.id]);
        await f.waitForStatus(up.id, 'COMPLETED', 30_000, 50);
        await waitFor(
          'the worker waiting in deleteChunkRows',
          async () => (await f.blockedBy(lock.pid)).length > 0,
        );
        assert.deepEqual(await first.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
        assert.equal(await f.terminateBlockedBy(lock.pid), 1);
      } finally {
        await lock.release();
      }
      const completedAt = (await f.upload(up.id))?.completedAt;
      assert.equal((await f.chunkRows(up.id)).length, 3, 'the crash left the chunk rows');

      const second = await f.startWorker(FAST_REBALANCE);
      await assertMergedOnce(f, up);
      assert.equal(await second.metric('file_merges_total', { outcome: 'already_completed' }), 1);
      assert.equal(await second.metric('file_merges_total', { outcome: 'completed' }), undefined);
      assert.deepEqual((await f.upload(up.id))?.completedAt, completedAt, 'completed once');
    } finally {
      await f.close();
    }
  });

  test('a merge that outlives FILE_MERGE_TIMEOUT_MS (the database blocks it) is retried as MERGE_TIMEOUT and completes once the database answers', async () => {
    const f = await MergeFixture.create();
    try {
      const worker = await f.startWorker({
        FILE_MERGE_TIMEOUT_MS: '2s',
        FILE_MERGE_RETRY_INITIAL_BACKOFF_MS: '200',
      });
      const up = await f.createUpload({ parts: [5 * MiB, 100] });
      const lock = await f.lockRows(`SELECT id FROM uploads WHERE id = $1 FOR UPDATE`, [up.id]);
      try {
        await f.requestMerge([up.id]);
        await f.retries.until('a retry record', () => f.retriesFor(up.id).length > 0, 30_000);
      } finally {
        await lock.release();
      }
      const [retry] = f.retriesFor(up.id);
      assert.match(
        retry!.headers['x-last-error'] ?? '',
        /^MERGE_TIMEOUT: merging upload .* took longer than 2000 ms/,
      );
      assert.equal(retry!.headers['x-retry-attempt'], '2');
      await assertMergedOnce(f, up);
      assert.ok((await worker.metric('file_merges_total', { outcome: 'transient' }))! >= 1);
    } finally {
      await f.close();
    }
  });

  test('SIGTERM during a merge: the in-flight merge finishes, the offset is committed, the process exits 0', async () => {
    const f = await MergeFixture.create();
    try {
      const first = await f.startWorker();
      const up = await f.createUpload({ parts: [5 * MiB, 5 * MiB, 1] });
      const lock = await f.lockRows(`SELECT id FROM uploads WHERE id = $1 FOR UPDATE`, [up.id]);
      let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
      try {
        await f.requestMerge([up.id]);
        await waitFor(
          'the worker waiting in markCompleted',
          async () => (await f.blockedBy(lock.pid)).length > 0,
        );
        exited = first.stop('SIGTERM');
        await sleep(1_000);
        assert.equal(first.child.exitCode, null, 'still finishing its merge');
      } finally {
        await lock.release();
      }
      assert.deepEqual(await exited, { code: 0, signal: null });
      await assertMergedOnce(f, up);
      assert.ok(
        first.logs().some((line) => line.message === 'upload merged and COMPLETED'),
        'the stopping worker completed it',
      );

      // Committed: a new member of the group gets nothing to redo.
      const second = await f.startWorker();
      await sleep(3_000);
      assert.equal(await second.metric('file_merges_total'), undefined);
    } finally {
      await f.close();
    }
  });
});
