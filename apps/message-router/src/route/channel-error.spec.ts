import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelFailureOf, describeFailure } from './channel-error';

const channelError = (fields: Record<string, unknown>) =>
  Object.assign(new Error('graph said no'), {
    channel: 'whatsapp',
    status: undefined,
    retryAfterMs: undefined,
    ...fields,
  });

describe('channelFailureOf', () => {
  it('keeps a channel error’s code, retriability, status and Retry-After', () => {
    const failure = channelFailureOf(
      channelError({ code: 'RATE_LIMITED', retriable: true, status: 429, retryAfterMs: 3000 }),
    );
    assert.deepEqual(failure, {
      code: 'RATE_LIMITED',
      retriable: true,
      retryAfterMs: 3000,
      status: 429,
      message: 'graph said no',
    });
    assert.equal(describeFailure(failure), 'RATE_LIMITED (HTTP 429): graph said no');
  });

  it('a refusal is not retriable', () => {
    assert.equal(
      channelFailureOf(channelError({ code: 'REJECTED', retriable: false, status: 400 })).retriable,
      false,
    );
  });

  it('an error that is not a channel error is an unknown outcome, retried', () => {
    const failure = channelFailureOf(new TypeError('fetch failed'));
    assert.equal(failure.code, 'UNKNOWN');
    assert.equal(failure.retriable, true);
    assert.equal(describeFailure(failure), 'UNKNOWN: TypeError: fetch failed');
  });
});
