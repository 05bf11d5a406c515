import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { inTransaction, sqlOf } from '@fleet/db';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { chunkKey, UPLOAD_MIGRATIONS, UploadStore } from './index';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
const store = new UploadStore();
const sha = (c: string) => c.repeat(64);

describe('upload store on a real PostgreSQL', () => {
  let db: TestSchema;
  before(async () => {
    db = await createTestSchema({ url: DATABASE_URL, migrations: [...UPLOAD_MIGRATIONS] });
  });
  after(() => db.drop());

  const newUpload = (chunkCount = 2) =>
    store.create(sqlOf(db.dataSource.manager), {
      id: randomUUID(),
      ownerId: 'alice',
      filename: '../../etc/passwd',
      contentType: 'text/plain',
      size: chunkCount * 10,
      expectedSha256: null,
      chunkSize: 10,
      chunkCount,
    });
  const record = (id: string, index: number, digest: string) =>
    inTransaction(db.dataSource, (sql) =>
      store.recordChunk(sql, id, {
        index,
        size: 10,
        sha256: digest,
        objectKey: chunkKey(id, index, randomUUID()),
      }),
    );

  test('a chunk is stored once: the same content again is a duplicate, other content a conflict', async () => {
    const upload = await newUpload();
    assert.equal(upload.filename, '../../etc/passwd', 'the filename is kept as metadata');
    assert.deepEqual(await record(upload.id, 1, sha('a')), { outcome: 'stored' });
    assert.equal((await record(upload.id, 1, sha('a'))).outcome, 'duplicate');
    const conflict = await record(upload.id, 1, sha('b'));
    assert.equal(conflict.outcome, 'conflict');
    assert.equal(
      conflict.outcome === 'conflict' && conflict.chunk.sha256,
      sha('a'),
      'the first content stays',
    );
    assert.deepEqual(await store.missingChunks(sqlOf(db.dataSource.manager), upload.id), [0]);
  });

  test('complete: missing chunks are listed; then MERGING once; chunks are refused afterwards', async () => {
    const upload = await newUpload(3);
    await record(upload.id, 2, sha('c'));
    const start = () => inTransaction(db.dataSource, (sql) => store.startMerge(sql, upload.id));
    assert.deepEqual(await start(), { outcome: 'missing_chunks', missing: [0, 1] });
    await record(upload.id, 0, sha('a'));
    await record(upload.id, 1, sha('b'));
    assert.deepEqual(await start(), { outcome: 'merging' });
    assert.deepEqual(await start(), { outcome: 'already', status: 'MERGING' });
    assert.deepEqual(await record(upload.id, 1, sha('b')), { outcome: 'not_uploading', status: 'MERGING' });
    const sql = sqlOf(db.dataSource.manager);
    assert.equal(await store.markCompleted(sql, upload.id, { finalKey: 'k', sha256: sha('f') }), true);
    assert.equal(await store.markCompleted(sql, upload.id, { finalKey: 'k', sha256: sha('f') }), false);
    assert.equal(await store.deleteChunkRows(sql, upload.id), 3);
  });

  test('garbage collection takes old idle uploads only, and two runs never take the same one', async () => {
    const sql = sqlOf(db.dataSource.manager);
    await db.dataSource.query(`UPDATE uploads SET status = 'FAILED' WHERE status = 'UPLOADING'`);
    const old = [await newUpload(), await newUpload(), await newUpload()];
    const recentActivity = await newUpload();
    const merging = await newUpload(1);
    await record(old[0]!.id, 0, sha('a'));
    await record(merging.id, 0, sha('a'));
    await inTransaction(db.dataSource, (tx) => store.startMerge(tx, merging.id));
    await db.dataSource.query(
      `UPDATE uploads SET created_at = now() - interval '2 days', last_activity_at = now() - interval '2 days'`,
    );
    await db.dataSource.query(`UPDATE uploads SET last_activity_at = now() WHERE id = $1`, [
      recentActivity.id,
    ]);

    const day = 24 * 3_600_000;
    const first = db.dataSource.createQueryRunner();
    await first.connect();
    await first.startTransaction();
    try {
      const a = await store.failAbandoned(sqlOf(first.manager), day, 2, 'abandoned');
      // While the first run holds its two, a second run takes the rest.
      const b = await inTransaction(db.dataSource, (tx) => store.failAbandoned(tx, day, 10, 'abandoned'));
      await first.commitTransaction();
      const taken = [...a, ...b].map((u) => u.id).sort();
      assert.deepEqual(taken, old.map((u) => u.id).sort());
      assert.equal(new Set(taken).size, 3);
      const withChunk = [...a, ...b].find((u) => u.id === old[0]!.id)!;
      assert.equal(withChunk.chunks.length, 1);
      assert.equal(withChunk.bytes, 10);
    } finally {
      await first.release();
    }
    for (const u of old) assert.equal((await store.get(sql, u.id))!.status, 'FAILED');
    assert.equal((await store.get(sql, recentActivity.id))!.status, 'UPLOADING');
    assert.equal((await store.get(sql, merging.id))!.status, 'MERGING');
    assert.deepEqual(await store.chunks(sql, old[0]!.id), []);
  });
});
