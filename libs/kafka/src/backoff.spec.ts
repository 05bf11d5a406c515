import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, DEFAULT_RETRY_POLICY } from './backoff';

test('with the default policy, retries wait 1 s, 2 s, 4 s', () => {
  assert.deepEqual(
    [2, 3, 4].map((attempt) => backoffMs(DEFAULT_RETRY_POLICY, attempt)),
    [1000, 2000, 4000],
  );
});

test('when the exponential delay passes the cap, the cap is used', () => {
  assert.equal(backoffMs({ ...DEFAULT_RETRY_POLICY, maxBackoffMs: 3000 }, 10), 3000);
});
