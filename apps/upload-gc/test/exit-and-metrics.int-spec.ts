import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { createTestBucket } from '@fleet/object-store/testing';
import { freePort } from '@fleet/service-kit/testing';
import { GcFixture, logLines, metric, runGc, type TestBucket } from './harness';

interface Received {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

/** A stand-in Pushgateway on loopback: records each request and answers `status`. */
async function fakePushgateway(
  status = 200,
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, contentType: req.headers['content-type'], body });
      res.writeHead(status).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('upload-gc: configuration, exit codes and where the metrics go', () => {
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

  test('when DATABASE_URL is missing and GC_BATCH_SIZE is invalid, the command exits 1 naming both, before touching anything', async () => {
    const { DATABASE_URL: _omitted, ...env } = gc.env({ GC_BATCH_SIZE: '0' });
    const upload = await gc.upload({ chunkSizes: [100], ageHours: 30 });

    const run = await runGc(env);

    assert.equal(run.code, 1);
    assert.match(run.stderr, /DATABASE_URL: required/);
    assert.match(run.stderr, /GC_BATCH_SIZE: expected an integer between 1 and 1000/);
    assert.equal(run.stdout, '');
    assert.equal((await gc.row(upload.id)).status, 'UPLOADING');
  });

  test('when the database is unreachable, the run exits 1 and its metrics count a database error', async () => {
    const run = await runGc(gc.env({ DATABASE_URL: 'postgres://fleet:fleet@127.0.0.1:1/fleet' }));

    assert.equal(run.code, 1);
    assert.equal(metric(run.stdout, 'upload_gc_errors_total', { kind: 'database' }), 1);
    assert.equal(metric(run.stdout, 'upload_gc_last_success_timestamp_seconds'), undefined);
    assert.match(run.stderr, /DATABASE_FAILED/);
  });

  test('with GC_PUSHGATEWAY_URL set, the run POSTs its metrics in text format to /metrics/job/upload-gc, the same as it prints', async () => {
    const upload = await gc.upload({ chunkSizes: [1_024, 2_048], ageHours: 30 });
    const gateway = await fakePushgateway();
    try {
      const run = await runGc(gc.env({ GC_PUSHGATEWAY_URL: gateway.url }));

      assert.equal(run.code, 0, run.stderr);
      assert.equal(gateway.received.length, 1);
      const [push] = gateway.received;
      assert.equal(push!.method, 'POST');
      assert.equal(push!.url, '/metrics/job/upload-gc');
      assert.match(push!.contentType ?? '', /^text\/plain; version=0\.0\.4/);
      assert.equal(metric(push!.body, 'uploads_cleaned_total'), 1);
      assert.equal(metric(push!.body, 'upload_gc_bytes_reclaimed_total'), upload.bytes);
      assert.ok(metric(push!.body, 'upload_gc_last_success_timestamp_seconds'));
      assert.equal(push!.body, run.stdout);
    } finally {
      await gateway.close();
    }
  });

  test('a failed run pushes its error count and no last-success time, so the gateway keeps the previous one', async () => {
    const gateway = await fakePushgateway();
    try {
      const run = await runGc(
        gc.env({ GC_PUSHGATEWAY_URL: gateway.url, MINIO_BUCKET: `missing-${Date.now()}` }),
      );

      assert.equal(run.code, 1);
      const [push] = gateway.received;
      assert.equal(push!.method, 'POST');
      assert.equal(metric(push!.body, 'upload_gc_errors_total', { kind: 'object_store' }), 1);
      assert.doesNotMatch(push!.body, /upload_gc_last_success_timestamp_seconds/);
    } finally {
      await gateway.close();
    }
  });

  test('when the Pushgateway refuses the push, the error is logged and a successful cleanup still exits 0', async () => {
    const upload = await gc.upload({ chunkSizes: [1_000], ageHours: 30 });
    const gateway = await fakePushgateway(500);
    try {
      const run = await runGc(gc.env({ GC_PUSHGATEWAY_URL: gateway.url }));

      assert.equal(run.code, 0, run.stderr);
      assert.equal(gateway.received.length, 1);
      assert.ok(
        logLines(run.stderr).some(
          (l) =>
            l.level === 'ERROR' &&
            typeof l.message === 'string' &&
            l.message.startsWith('metrics push failed'),
        ),
      );
      assert.equal(metric(run.stdout, 'uploads_cleaned_total'), 1);
      assert.equal((await gc.row(upload.id)).status, 'FAILED');
    } finally {
      await gateway.close();
    }
  });
});
