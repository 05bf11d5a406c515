import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MIN_PART_SIZE, type ObjectStore } from './object-store';
import { createTestBucket } from './testing';

/** `total` bytes in chunks of `chunk`, from a seeded pattern (cheap, and not all zeros). */
async function* bytes(total: number, chunk: number, fail?: { after: number; error: Error }) {
  const block = randomBytes(chunk);
  let sent = 0;
  while (sent < total) {
    if (fail && sent >= fail.after) throw fail.error;
    const n = Math.min(chunk, total - sent);
    yield block.subarray(0, n);
    sent += n;
  }
}

async function sha256Of(store: ObjectStore, key: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await store.client.getObject(store.bucket, key)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

describe('ObjectStore.putMultipart (local MinIO)', () => {
  let bucket: Awaited<ReturnType<typeof createTestBucket>>;
  before(async () => {
    bucket = await createTestBucket();
  });
  after(async () => {
    await bucket?.drop();
  });

  it('streams a source of unknown length in parts; the stored bytes hash as reported', async () => {
    const total = 2 * MIN_PART_SIZE + 12_345;
    const out = await bucket.store.putMultipart('m/three-parts.bin', bytes(total, 64 * 1024), {
      partSize: MIN_PART_SIZE,
      contentType: 'application/zip',
    });
    assert.equal(out.parts, 3);
    assert.equal(out.size, total);
    assert.deepEqual(await sha256Of(bucket.store, 'm/three-parts.bin'), { sha256: out.sha256, size: total });
    const stat = await bucket.store.client.statObject(bucket.bucket, 'm/three-parts.bin');
    assert.equal(stat.metaData['content-type'], 'application/zip');
    assert.deepEqual(await bucket.store.incompleteUploads('m/'), []);
  });

  it('an empty source makes an empty object', async () => {
    const out = await bucket.store.putMultipart('m/empty.bin', bytes(0, 1), { partSize: MIN_PART_SIZE });
    assert.equal(out.size, 0);
    assert.equal((await sha256Of(bucket.store, 'm/empty.bin')).size, 0);
  });

  it('a failing source aborts the upload: no object, no parts left behind', async () => {
    await assert.rejects(
      bucket.store.putMultipart(
        'm/failed.bin',
        bytes(3 * MIN_PART_SIZE, 256 * 1024, { after: MIN_PART_SIZE + 1, error: new Error('source broke') }),
        { partSize: MIN_PART_SIZE },
      ),
      /source broke/,
    );
    assert.deepEqual(await bucket.store.incompleteUploads('m/failed'), []);
    assert.deepEqual(await bucket.store.list('m/failed'), []);
  });

  it('an aborted signal stops the upload and aborts it', async () => {
    const controller = new AbortController();
    async function* slow() {
      yield* bytes(MIN_PART_SIZE + 1, 1024 * 1024);
      controller.abort(new Error('shutting down'));
      yield Buffer.alloc(10);
    }
    await assert.rejects(
      bucket.store.putMultipart('m/aborted.bin', slow(), {
        partSize: MIN_PART_SIZE,
        signal: controller.signal,
      }),
      /shutting down/,
    );
    assert.deepEqual(await bucket.store.incompleteUploads('m/aborted'), []);
  });

  it('refuses parts under 5 MiB', async () => {
    await assert.rejects(
      bucket.store.putMultipart('m/x', bytes(1, 1), { partSize: 1024 }),
      /at least 5242880 bytes/,
    );
  });

  it("abortIncompleteUploads removes a crashed writer's parts under a prefix, and only there", async () => {
    const client = bucket.store.client;
    const crashed = await client.initiateNewMultipartUpload(bucket.bucket, 'jobs/a/ue5.zip', {});
    await client.uploadPart(
      {
        bucketName: bucket.bucket,
        objectName: 'jobs/a/ue5.zip',
        uploadID: crashed,
        partNumber: 1,
        headers: {},
      },
      Buffer.alloc(MIN_PART_SIZE),
    );
    const other = await client.initiateNewMultipartUpload(bucket.bucket, 'jobs/b/ue5.zip', {});
    assert.equal((await bucket.store.incompleteUploads('jobs/a/')).length, 1);
    assert.equal(await bucket.store.abortIncompleteUploads('jobs/a/'), 1);
    assert.deepEqual(await bucket.store.incompleteUploads('jobs/a/'), []);
    assert.deepEqual(
      (await bucket.store.incompleteUploads('jobs/b/')).map((u) => u.uploadId),
      [other],
    );
    await client.abortMultipartUpload(bucket.bucket, 'jobs/b/ue5.zip', other);
  });
});
