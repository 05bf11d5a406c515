import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryAfter } from './retry-after';

const NOW = Date.parse('2025-03-01T12:00:00Z');

test('delta-seconds become milliseconds', () => {
  assert.equal(parseRetryAfter('2', NOW), 2_000);
  assert.equal(parseRetryAfter(' 120 ', NOW), 120_000);
  assert.equal(parseRetryAfter('0', NOW), 0);
});

test('an HTTP-date becomes the time left until it', () => {
  assert.equal(parseRetryAfter('Sat, 01 Mar 2025 12:00:30 GMT', NOW), 30_000);
  // The obsolete RFC 850 and asctime forms are still accepted, as RFC 9110 asks of recipients.
  assert.equal(parseRetryAfter('Saturday, 01-Mar-25 12:00:05 GMT', NOW), 5_000);
  assert.equal(parseRetryAfter('Sat Mar  1 12:00:10 2025', NOW), 10_000);
});

test('an HTTP-date in the past means retry now', () => {
  assert.equal(parseRetryAfter('Sat, 01 Mar 2025 11:00:00 GMT', NOW), 0);
});

test('a missing or malformed value gives no delay rather than a made-up one', () => {
  for (const value of [undefined, null, '', '   ', '-1', '1.5', '2s', 'soon', 'Sat, 99 Foo 2025', '1e3']) {
    assert.equal(parseRetryAfter(value, NOW), undefined, `for ${JSON.stringify(value)}`);
  }
});
