import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyHandlerError,
  classifyPublishError,
  KafkaRuntimeError,
  errorCodeOf,
  isDependencyUnavailable,
  NonRetriableError,
  RetriableError,
  retryAfterMsOf,
} from './errors';

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

test('a retriable error may carry the delay the failing side asked for; others ask for none', () => {
  assert.equal(retryAfterMsOf(new RetriableError('429', 'RATE_LIMITED', { retryAfterMs: 2_500 })), 2_500);
  assert.equal(retryAfterMsOf(new RetriableError('503')), 0);
  assert.equal(retryAfterMsOf(Object.assign(new Error('x'), { retryAfterMs: -5 })), 0);
  assert.equal(retryAfterMsOf(null), 0);
});

describe('classifyPublishError', () => {
  // Shaped like kafkajs' KafkaJSProtocolError / KafkaJSNumberOfRetriesExceeded, without a broker.
  const protocolError = (type: string) =>
    Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type });

  test('a record the broker refuses is rejected, also when wrapped by the retrier', () => {
    assert.equal(classifyPublishError(protocolError('MESSAGE_TOO_LARGE')), 'rejected');
    const wrapped = new Error('retries exceeded', { cause: protocolError('UNKNOWN_TOPIC_OR_PARTITION') });
    assert.equal(classifyPublishError(wrapped), 'rejected');
    assert.equal(classifyPublishError(new KafkaRuntimeError('PAYLOAD_INVALID', 'bad')), 'rejected');
  });

  test('connection trouble, timeouts and leadership moves mean the broker is unavailable', () => {
    assert.equal(
      classifyPublishError(Object.assign(new Error('refused'), { name: 'KafkaJSConnectionError' })),
      'unavailable',
    );
    assert.equal(classifyPublishError(protocolError('NOT_LEADER_OR_FOLLOWER')), 'unavailable');
    assert.equal(classifyPublishError(new KafkaRuntimeError('PRODUCER_NOT_CONNECTED', 'x')), 'unavailable');
    assert.equal(classifyPublishError('a string'), 'unavailable');
  });
});

describe('isDependencyUnavailable', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const cases: Array<[string, unknown, boolean]> = [
    ['a socket refusal', refused, true],
    [
      'PostgreSQL shutting down (57P01)',
      Object.assign(new Error('terminating connection'), { code: '57P01' }),
      true,
    ],
    ['pg losing its connection', new Error('Connection terminated unexpectedly'), true],
    ['ioredis with the connection closed', new Error('Connection is closed.'), true],
    ['TypeORM around a refusal', Object.assign(new Error('query failed'), { driverError: refused }), true],
    ['a cause chain', new Error('outer', { cause: new Error('middle', { cause: refused }) }), true],
    ['an AggregateError of refusals', new AggregateError([refused, refused]), true],
    ['a unique violation', Object.assign(new Error('duplicate key'), { code: '23505' }), false],
    ['a plain bug report', new Error('cannot read the payload'), false],
    ['a handler verdict: RetriableError', new RetriableError('connect ECONNREFUSED upstream'), false],
    ['a handler verdict: NonRetriableError', new NonRetriableError('ECONNREFUSED'), false],
    ['not an error', 'ECONNREFUSED', false],
  ];
  for (const [name, error, expected] of cases) {
    test(`${name} → ${expected}`, () => assert.equal(isDependencyUnavailable(error), expected));
  }
});
