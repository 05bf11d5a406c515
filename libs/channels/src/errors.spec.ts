import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelError, isChannelError } from './errors';
import { type ChannelErrorCode } from './types';

test('only REJECTED is permanent; every other code is retriable', () => {
  const expected: Record<ChannelErrorCode, boolean> = {
    REJECTED: false,
    RATE_LIMITED: true,
    UNAVAILABLE: true,
    TIMEOUT: true,
  };
  for (const [code, retriable] of Object.entries(expected) as Array<[ChannelErrorCode, boolean]>) {
    const error = new ChannelError(code, 'whatsapp', 'x');
    assert.equal(error.retriable, retriable, code);
    assert.equal(error.code, code);
  }
});

test('a channel error keeps status, delay, channel and cause, and is recognised as one', () => {
  const cause = new Error('socket hang up');
  const error = new ChannelError('RATE_LIMITED', 'instagram', 'slow down', {
    status: 429,
    retryAfterMs: 2_000,
    cause,
  });
  assert.equal(error.status, 429);
  assert.equal(error.retryAfterMs, 2_000);
  assert.equal(error.channel, 'instagram');
  assert.equal(error.cause, cause);
  assert.equal(error.name, 'ChannelError');
  assert.ok(isChannelError(error));
  assert.ok(!isChannelError(new Error('plain')));
  assert.ok(!isChannelError(Object.assign(new Error('x'), { code: 'ECONNRESET', retriable: true })));
});

test('without a response, status and delay are undefined', () => {
  const error = new ChannelError('TIMEOUT', 'whatsapp', 'no answer');
  assert.equal(error.status, undefined);
  assert.equal(error.retryAfterMs, undefined);
  assert.equal(error.cause, undefined);
});
