import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyHandlerError } from '@fleet/kafka';
import {
  io,
  isNoSuchObject,
  MergeRejected,
  MergeUnavailable,
  unavailable,
  withDeadline,
} from './merge.errors';

describe('merge errors', () => {
  it('a refusal goes to the DLQ at once with its code; an outage is retried', () => {
    const rejected = new MergeRejected('CHECKSUM_MISMATCH', 'sha256 differs');
    assert.equal(classifyHandlerError(rejected), 'dead-letter');
    assert.equal(rejected.code, 'CHECKSUM_MISMATCH');
    assert.equal(classifyHandlerError(new MergeUnavailable('MERGE_TIMEOUT', 'slow')), 'retry');
  });

  it('what PostgreSQL or MinIO throw becomes retriable with the step named; our errors and programmer errors pass unchanged', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' });
    const wrapped = unavailable('OBJECT_STORE_UNAVAILABLE', 'composing the chunks', refused);
    assert.ok(wrapped instanceof MergeUnavailable);
    assert.equal(wrapped.code, 'OBJECT_STORE_UNAVAILABLE');
    assert.equal(wrapped.message, 'composing the chunks: connect ECONNREFUSED 127.0.0.1:9000');
    assert.equal(wrapped.cause, refused);
    assert.equal(classifyHandlerError(wrapped), 'retry');

    const bug = new TypeError('x is undefined');
    assert.equal(unavailable('DATABASE_UNAVAILABLE', 'reading', bug), bug);
    const rejected = new MergeRejected('UNKNOWN_UPLOAD', 'no upload');
    await assert.rejects(
      io('DATABASE_UNAVAILABLE', 'reading', () => Promise.reject(rejected)),
      (e) => e === rejected,
    );
    await assert.rejects(
      io('DATABASE_UNAVAILABLE', 'reading the upload', () =>
        Promise.reject(new Error('Connection terminated unexpectedly')),
      ),
      (e) =>
        e instanceof MergeUnavailable &&
        e.code === 'DATABASE_UNAVAILABLE' &&
        /reading the upload/.test(e.message),
    );
  });

  it('S3 "not found" answers are recognised, other codes are not', () => {
    assert.ok(isNoSuchObject(Object.assign(new Error('Not Found'), { code: 'NotFound' })));
    assert.ok(isNoSuchObject(Object.assign(new Error('no key'), { code: 'NoSuchKey' })));
    assert.ok(!isNoSuchObject(Object.assign(new Error('no bucket'), { code: 'NoSuchBucket' })));
    assert.ok(!isNoSuchObject(undefined));
  });

  it('a merge past its deadline is rejected as MERGE_TIMEOUT and told to stop; one within it resolves', async () => {
    let seen: AbortSignal | undefined;
    await assert.rejects(
      withDeadline(20, 'merging upload u', (signal) => {
        seen = signal;
        return new Promise((done) => setTimeout(done, 1_000).unref());
      }),
      (e) =>
        e instanceof MergeUnavailable && e.code === 'MERGE_TIMEOUT' && /longer than 20 ms/.test(e.message),
    );
    assert.equal(seen?.aborted, true);
    assert.equal(await withDeadline(1_000, 'x', async () => 42), 42);
  });
});
