import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorKind, messageOf, UploadGcError } from './gc.errors';

test('the error kind comes from the code; anything that is not an UploadGcError is ours (internal)', () => {
  assert.equal(errorKind(new UploadGcError('OBJECT_STORE_FAILED', 'x')), 'object_store');
  assert.equal(errorKind(new UploadGcError('DATABASE_FAILED', 'x')), 'database');
  assert.equal(errorKind(new TypeError('x')), 'internal');
});

test('a message carries its causes, outermost first', () => {
  const error = new UploadGcError('DATABASE_FAILED', 'batch rolled back', {
    cause: new Error('connection reset', { cause: 'ECONNRESET' }),
  });
  assert.equal(messageOf(error), 'batch rolled back: connection reset: ECONNRESET');
});
