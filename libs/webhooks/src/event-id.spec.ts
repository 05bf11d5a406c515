import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callbackEventId, uuidV5 } from './event-id';

const V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidV5', () => {
  it('matches the published vectors (DNS namespace)', () => {
    const dns = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
    assert.equal(uuidV5(dns, 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
    assert.equal(uuidV5(dns, 'python.org'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });

  it('refuses a namespace that is not a UUID', () => {
    assert.throws(() => uuidV5('nope', 'x'), /not a UUID/);
  });
});

describe('callbackEventId', () => {
  const jobId = '0b6a2a4e-9c1d-4d3e-8f7a-6b5c4d3e2f1a';

  it('is the same for the same job and type (a retry or a re-run carries the same id)', () => {
    assert.equal(callbackEventId(jobId, 'export.completed'), callbackEventId(jobId, 'export.completed'));
  });

  it('is a version-5 RFC 9562 UUID', () => {
    assert.match(callbackEventId(jobId, 'export.completed'), V5);
  });

  it('differs by type and by job', () => {
    const done = callbackEventId(jobId, 'export.completed');
    assert.notEqual(done, callbackEventId(jobId, 'export.failed'));
    assert.notEqual(done, callbackEventId('another-job', 'export.completed'));
  });

  it('is stable across releases (the namespace must never change)', () => {
    assert.equal(
      callbackEventId('job-1', 'export.completed'),
      uuidV5('dcb111fc-5aad-4d02-8470-85c967291865', 'job-1:export.completed'),
    );
  });

  it('refuses an empty job id and a type that would make the name ambiguous', () => {
    assert.throws(() => callbackEventId('', 'export.completed'), /jobId/);
    assert.throws(() => callbackEventId(jobId, ''), /type/);
    assert.throws(() => callbackEventId('a', 'b:c'), /type/);
  });
});
