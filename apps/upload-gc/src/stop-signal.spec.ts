import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitCodeOf } from './stop-signal';

test('a run stopped by a signal exits 128 + its number: 143 for SIGTERM, 130 for SIGINT', () => {
  assert.equal(exitCodeOf('SIGTERM'), 143);
  assert.equal(exitCodeOf('SIGINT'), 130);
});
