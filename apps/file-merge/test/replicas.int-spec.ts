import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '@fleet/kafka/testing';
import { type AppProcess } from '@fleet/service-kit/testing';
import { finalKey } from '@fleet/uploads';
import { MergeFixture, MiB, type TestUpload } from './harness';

describe('file-merge replicas (real Kafka, PostgreSQL, MinIO)', () => {
  test('three replicas in one group, six uploads each requested twice: every upload COMPLETED exactly once, one final object each, no DLQ', async () => {
    const f = await MergeFixture.create();
    try {
      const workers: AppProcess[] = [];
      for (let n = 0; n < 3; n++) workers.push(await f.startWorker());
      const uploads: TestUpload[] = [];
      for (let n = 0; n < 6; n++) uploads.push(await f.createUpload({ parts: [5 * MiB, 1_000 + n] }));
      const ids = uploads.map((u) => u.id);
      await f.requestMerge([...ids, ...ids]);

      for (const up of uploads) await f.waitForStatus(up.id, 'COMPLETED', 90_000);
      const metricSum = async (outcome: string) => {
        let sum = 0;
        for (const w of workers) sum += (await w.metric('file_merges_total', { outcome })) ?? 0;
        return sum;
      };
      // Both requests of every upload handled (the second finds it COMPLETED).
      await waitFor(
        'twelve requests handled',
        async () => (await metricSum('completed')) + (await metricSum('already_completed')) >= 12,
        60_000,
      );

      assert.equal(await metricSum('completed'), 6, 'markCompleted took effect once per upload');
      assert.equal(await metricSum('already_completed'), 6);
      const byWorker = await Promise.all(
        workers.map(async (w) => (await w.metric('file_merges_total', { outcome: 'completed' })) ?? 0),
      );
      console.log(`completions per replica: ${byWorker.join(', ')}`);

      const rows = await f.db.dataSource.query<
        Array<{ id: string; completed_at: Date | null; sha256: string }>
      >(`SELECT id, completed_at, sha256 FROM uploads WHERE id = ANY($1::uuid[])`, [ids]);
      assert.equal(rows.length, 6);
      for (const up of uploads) {
        const row = rows.find((r) => r.id === up.id)!;
        assert.ok(row.completed_at, `${up.id} has its completion time`);
        assert.equal(row.sha256, up.sha256);
        assert.deepEqual(await f.objectsOf(up.id), [finalKey(up.id)]);
        assert.ok((await f.finalBytes(up.id))?.equals(up.data), `${up.id} holds its own bytes`);
        assert.equal((await f.chunkRows(up.id)).length, 0);
      }
      const finals = (await f.store.list('uploads/')).filter((key) => key.endsWith('/file'));
      assert.equal(finals.length, 6, 'one final object per upload, nothing else in the bucket');
      assert.equal((await f.store.list('uploads/')).length, 6);
      assert.equal(f.dlq.messages.length, 0);
    } finally {
      await f.close();
    }
  });
});
