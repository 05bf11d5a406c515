import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyHandlerError, errorCodeOf, NonRetriableError, RetriableError } from './errors';

describe('classifyHandlerError', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a RetriableError', new RetriableError('db down'), 'retry'],
    ['a plain Error (unknown cause, assumed transient)', new Error('boom'), 'retry'],
    ['a NonRetriableError', new NonRetriableError('no such user'), 'dead-letter'],
    ['an error marked retriable: false', Object.assign(new Error('x'), { retriable: false }), 'dead-letter'],
    ['a TypeError', new TypeError('x is not a function'), 'crash'],
    ['a ReferenceError', new ReferenceError('y is not defined'), 'crash'],
    ['a RangeError', new RangeError('bad length'), 'crash'],
    ['a thrown string', 'oops', 'retry'],
  ];
  for (const [name, error, outcome] of cases) {
    test(`when the handler throws ${name}, the outcome is ${outcome}`, () => {
      assert.equal(classifyHandlerError(error), outcome);
    });
  }
});

test('errorCodeOf prefers a string code, then the class name', () => {
  assert.equal(errorCodeOf(new NonRetriableError('m', 'USER_UNKNOWN')), 'USER_UNKNOWN');
  assert.equal(errorCodeOf(new TypeError('m')), 'TypeError');
  assert.equal(errorCodeOf(42), 'UNKNOWN');
});
