import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobError } from '@fleet/jobs';
import { LlmAbortedError, LlmOutputError, LlmRequestError, LlmUnavailableError } from '@fleet/llm';
import { classifyFailure, JobRejected } from './failure';

describe('classifyFailure', () => {
  it('LLM unavailable is retriable with the "LLM unavailable" reason and the breaker’s wait', () => {
    const failure = classifyFailure(
      new LlmUnavailableError('breaker_open', 'primary', 'breaker llm-primary is open', {
        retryAfterMs: 1234,
      }),
    );
    assert.ok(failure !== 'crash');
    assert.equal(failure.retriable, true);
    assert.equal(failure.code, 'LLM_UNAVAILABLE');
    assert.match(failure.message, /^LLM unavailable: /);
    assert.equal(failure.retryAfterMs, 1234);
  });

  it('invalid output after the client’s retries is retried at the job level; a 4xx is permanent', () => {
    const output = classifyFailure(
      new LlmOutputError('story_enhancement', [
        { reason: 'invalid_json', detail: 'Unexpected token', excerpt: '{', endpoint: 'primary' },
      ]),
    );
    assert.ok(output !== 'crash');
    assert.deepEqual([output.retriable, output.code], [true, 'LLM_INVALID_OUTPUT']);
    const rejected = classifyFailure(new LlmRequestError(404, 'primary', 'model not found'));
    assert.ok(rejected !== 'crash');
    assert.deepEqual([rejected.retriable, rejected.code], [false, 'LLM_REQUEST_REJECTED']);
  });

  it('a rejected job is permanent with its code; other errors are retriable; programmer errors crash', () => {
    assert.deepEqual(classifyFailure(new JobRejected('STORY_NOT_FOUND', 'gone')), {
      retriable: false,
      code: 'STORY_NOT_FOUND',
      message: 'gone',
    });
    const db = classifyFailure(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    assert.ok(db !== 'crash');
    assert.deepEqual([db.retriable, db.code], [true, 'DEPENDENCY_FAILED']);
    assert.equal(classifyFailure(new TypeError('x is undefined')), 'crash');
    assert.equal(classifyFailure(new JobError('JOB_INVALID', 'bad progress')), 'crash');
    const aborted = classifyFailure(new LlmAbortedError());
    assert.ok(aborted !== 'crash' && aborted.retriable);
  });
});
