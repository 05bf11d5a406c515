import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reconnectDelayMs } from './client';

describe('reconnectDelayMs', () => {
  it('doubles from 100 ms and stops at the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 20].map((n) => reconnectDelayMs(n, 5_000)),
      [100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000],
    );
  });
});
