import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { createTestBucket } from '@fleet/object-store/testing';
import { chunkPrefix } from '@fleet/uploads';
import {
  GcFixture,
  logLines,
  metric,
  runGc,
  startGc,
  waitUntil,
  type GcRun,
  type SeededUpload,
  type TestBucket,
} from './harness';

const cleanedLog = (run: GcRun) =>
  logLines(run.stderr).filter((l) => l.message === 'abandoned uploads cleaned');

/** The run exited 0 with no error of any kind in its printed metrics. */
function assertSucceeded(run: GcRun): void {
  assert.equal(run.code, 0, run.stderr);
  assert.equal(metric(run.stdout, 'upload_gc_errors_total'), 0);
  assert.ok((metric(run.stdout, 'upload_gc_last_success_timestamp_seconds') ?? 0) > Date.now() / 1000 - 120);
}

describe('upload-gc: abandoned uploads are failed and their chunks deleted, nothing else', () => {
  let bucket: TestBucket;
  let gc: GcFixture;

  before(async () => {
    bucket = await createTestBucket();
  });
  after(async () => {
    await bucket.drop();
  });
  beforeEach(async () => {
    gc = await GcFixture.create(bucket);
  });
  afterEach(async () => {
    await gc.drop();
  });

  async function assertCleaned(upload: SeededUpload): Promise<void> {
    const row = await gc.row(upload.id);
    assert.equal(row.status, 'FAILED', upload.id);
    assert.match(row.failureReason ?? '', /^ABANDONED: no chunk stored for 24 h/);
    assert.equal(await gc.chunkRows(upload.id), 0);
    assert.deepEqual(await gc.objects(upload.id), []);
  }

  async function assertUntouched(upload: SeededUpload, status: string, chunks: number): Promise<void> {
    const row = await gc.row(upload.id);
    assert.equal(row.status, status, upload.id);
    assert.equal(row.failureReason, null);
    assert.equal(await gc.chunkRows(upload.id), chunks);
    assert.deepEqual(await gc.objects(upload.id), [...upload.keys].sort());
  }

  test('abandoned uploads across several batches are FAILED with their chunks gone; in-progress, recently active, MERGING and COMPLETED ones are untouched', async () => {
    // Five abandoned, with 0 to 3 chunks: batches of 2 make three transactions (2, 2, 1).
    const abandoned = [
      await gc.upload({ chunkSizes: [], ageHours: 30 }),
      await gc.upload({ chunkSizes: [3_000], ageHours: 30, idleHours: 26 }),
      await gc.upload({ chunkSizes: [4_096, 1_234], ageHours: 72, idleHours: 48 }),
      await gc.upload({ chunkSizes: [2_000, 2_001, 17], ageHours: 25 }),
      await gc.upload({ chunkSizes: [5_555], ageHours: 100, idleHours: 99 }),
    ];
    const inProgress = await gc.upload({ chunkSizes: [1_000, 1_000], ageHours: 0 });
    const oldButActive = await gc.upload({ chunkSizes: [1_000], ageHours: 48, idleHours: 1 });
    const youngButIdle = await gc.upload({ chunkSizes: [1_000], ageHours: 2, idleHours: 2 });
    const merging = await gc.upload({ chunkSizes: [1_000, 500], ageHours: 48, status: 'MERGING' });
    const completed = await gc.upload({ chunkSizes: [1_000, 500], ageHours: 48, status: 'COMPLETED' });

    const run = await runGc(gc.env({ GC_BATCH_SIZE: '2' }));

    assertSucceeded(run);
    for (const upload of abandoned) await assertCleaned(upload);
    await assertUntouched(inProgress, 'UPLOADING', 2);
    await assertUntouched(oldButActive, 'UPLOADING', 1);
    await assertUntouched(youngButIdle, 'UPLOADING', 1);
    await assertUntouched(merging, 'MERGING', 2);
    await assertUntouched(completed, 'COMPLETED', 2);
    assert.equal(metric(run.stdout, 'uploads_cleaned_total'), abandoned.length);
    assert.equal(
      metric(run.stdout, 'upload_gc_bytes_reclaimed_total'),
      abandoned.reduce((sum, upload) => sum + upload.bytes, 0),
    );
    assert.ok((metric(run.stdout, 'upload_gc_run_duration_seconds') ?? 0) > 0);
    assert.deepEqual(
      cleanedLog(run).map((line) => (line.uploads as string[]).length),
      [2, 2, 1],
    );
    // stdout is the metrics and nothing else; the logs went to stderr.
    for (const line of run.stdout.split('\n').filter(Boolean)) {
      assert.match(line, /^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+\{[^}]*\} \S+)$/);
    }
    assert.ok(
      logLines(run.stderr).some((l) => l.message === 'upload-gc run finished' && l.outcome === 'succeeded'),
    );
  });

  test('a leftover attempt object without a row, under an abandoned upload, is deleted and its bytes counted', async () => {
    const upload = await gc.upload({ chunkSizes: [2_500, 1_500], ageHours: 30 });
    const rowBytes = upload.bytes;
    await gc.leftover(upload, 0, 777); // a second attempt at chunk 0 that lost the race
    await gc.leftover(upload, 2, 1_111); // a chunk whose row was never written (api crashed)
    const other = await gc.upload({ chunkSizes: [900], ageHours: 1 });
    await gc.leftover(other, 1, 300); // not abandoned: its leftover stays too

    const run = await runGc(gc.env());

    assertSucceeded(run);
    await assertCleaned(upload);
    assert.equal(metric(run.stdout, 'uploads_cleaned_total'), 1);
    assert.equal(metric(run.stdout, 'upload_gc_bytes_reclaimed_total'), rowBytes + 777 + 1_111);
    assert.deepEqual(await gc.objects(other.id), [...other.keys].sort());
  });

  test('two overlapping runs split the work: every abandoned upload is cleaned exactly once, without errors', async () => {
    const abandoned: SeededUpload[] = [];
    for (let i = 0; i < 30; i++) abandoned.push(await gc.upload({ chunkSizes: [1_000 + i], ageHours: 30 }));
    // Both runs wait for the table lock at their first claim, then start together.
    const lock = await gc.lockUploads();
    const runs = [startGc(gc.env({ GC_BATCH_SIZE: '2' })), startGc(gc.env({ GC_BATCH_SIZE: '2' }))];
    try {
      await waitUntil('both runs waiting at their first claim', async () => (await lock.waiters()) === 2);
    } finally {
      await lock.release();
    }
    const [a, b] = await Promise.all(runs.map((r) => r.done));

    assertSucceeded(a!);
    assertSucceeded(b!);
    const cleanedA = metric(a!.stdout, 'uploads_cleaned_total')!;
    const cleanedB = metric(b!.stdout, 'uploads_cleaned_total')!;
    assert.equal(cleanedA + cleanedB, abandoned.length);
    assert.ok(cleanedA > 0 && cleanedB > 0, `both runs worked: ${cleanedA} + ${cleanedB}`);
    const byA = cleanedLog(a!).flatMap((l) => l.uploads as string[]);
    const byB = cleanedLog(b!).flatMap((l) => l.uploads as string[]);
    assert.deepEqual([...byA, ...byB].sort(), abandoned.map((u) => u.id).sort());
    assert.equal(
      metric(a!.stdout, 'upload_gc_bytes_reclaimed_total')! +
        metric(b!.stdout, 'upload_gc_bytes_reclaimed_total')!,
      abandoned.reduce((sum, upload) => sum + upload.bytes, 0),
    );
    for (const upload of abandoned) await assertCleaned(upload);
  });

  test('when the object store refuses a batch, the batch rolls back (rows and objects kept), the run exits 1, and the next run cleans it', async () => {
    const good = await gc.upload({ chunkSizes: [1_000, 2_000], ageHours: 30 });
    const poisoned = await gc.upload({ chunkSizes: [1_000], ageHours: 31 });
    // A row whose object key no S3 store accepts (longer than 1,024 bytes): its lookup fails.
    const badKey = `${chunkPrefix(poisoned.id)}${'x'.repeat(1_100)}`;
    await gc.db.dataSource.query(
      `INSERT INTO upload_chunks (upload_id, idx, size, sha256, object_key) VALUES ($1, 1, 10, $2, $3)`,
      [poisoned.id, 'a'.repeat(64), badKey],
    );

    const failed = await runGc(gc.env());

    assert.equal(failed.code, 1, failed.stderr);
    assert.equal(metric(failed.stdout, 'upload_gc_errors_total', { kind: 'object_store' }), 1);
    assert.equal(metric(failed.stdout, 'uploads_cleaned_total'), 0);
    assert.equal(metric(failed.stdout, 'upload_gc_bytes_reclaimed_total'), 0);
    assert.equal(metric(failed.stdout, 'upload_gc_last_success_timestamp_seconds'), undefined);
    assert.match(failed.stderr, /OBJECT_STORE_FAILED/);
    await assertUntouched(good, 'UPLOADING', 2);
    await assertUntouched(poisoned, 'UPLOADING', 2);

    await gc.db.dataSource.query('DELETE FROM upload_chunks WHERE object_key = $1', [badKey]);
    const retried = await runGc(gc.env());

    assertSucceeded(retried);
    assert.equal(metric(retried.stdout, 'uploads_cleaned_total'), 2);
    assert.equal(metric(retried.stdout, 'upload_gc_bytes_reclaimed_total'), good.bytes + poisoned.bytes);
    await assertCleaned(good);
    await assertCleaned(poisoned);
  });

  test('SIGTERM during a run: the batch in flight is committed, no other starts, exit 143 without a last success', async () => {
    const abandoned: SeededUpload[] = [];
    for (let i = 0; i < 6; i++) abandoned.push(await gc.upload({ chunkSizes: [1_000], ageHours: 30 + i }));
    const lock = await gc.lockUploads();
    const run = startGc(gc.env({ GC_BATCH_SIZE: '2' }));
    try {
      // The first batch's claim is in flight (waiting for the lock) when the signal arrives.
      await waitUntil('the run waiting at its first claim', async () => (await lock.waiters()) === 1);
      run.child.kill('SIGTERM');
      await waitUntil('the signal handled', () =>
        run.stderr().includes('stopping after the batch in flight'),
      );
    } finally {
      await lock.release();
    }
    const result = await run.done;

    assert.equal(result.code, 143, result.stderr);
    assert.equal(metric(result.stdout, 'uploads_cleaned_total'), 2);
    assert.equal(metric(result.stdout, 'upload_gc_errors_total'), 0);
    assert.equal(metric(result.stdout, 'upload_gc_last_success_timestamp_seconds'), undefined);
    // Oldest first: the two oldest went in the one batch.
    const byAge = [...abandoned].reverse();
    for (const upload of byAge.slice(0, 2)) await assertCleaned(upload);
    for (const upload of byAge.slice(2)) await assertUntouched(upload, 'UPLOADING', 1);
  });
});
