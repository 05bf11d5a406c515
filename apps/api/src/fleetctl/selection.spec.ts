import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from './client';
import { describeSelection, parseFilter, parseSelection, parseTime, positiveInt } from './selection';

const NOW = new Date('2026-12-07T12:00:00.000Z');
const ID = '3f2c1a9e-8b7d-4c6e-9f01-23456789abcd';

describe('parseFilter', () => {
  test('kebab and camel keys both name the api field; times become ISO', () => {
    assert.deepEqual(
      parseFilter(
        [
          'topic=chat.message.outgoing.1',
          'error-code=CHANNEL_REJECTED',
          'eventId=e-1',
          'from=-2h',
          'to=2026-12-07',
        ],
        NOW,
      ),
      {
        topic: 'chat.message.outgoing.1',
        errorCode: 'CHANNEL_REJECTED',
        eventId: 'e-1',
        from: '2026-12-07T10:00:00.000Z',
        to: '2026-12-07T00:00:00.000Z',
      },
    );
  });

  test('a value may hold "=" (only the first one splits)', () => {
    assert.deepEqual(parseFilter(['topic=t', 'key=a=b'], NOW), { topic: 't', key: 'a=b' });
  });

  for (const [pairs, message] of [
    [['group=g'], /needs topic=/],
    [['topic=t', 'colour=red'], /key one of topic, group/],
    [['topic=t', 'nokey'], /expected key=value/],
    [['topic=t', 'key='], /empty value/],
    [['topic=t', 'group=a', 'group=b'], /group given twice/],
    [['topic=t', 'from=yesterday'], /ISO time/],
  ] as const) {
    test(`${pairs.join(' ')} is a usage error`, () => {
      assert.throws(
        () => parseFilter(pairs, NOW),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
      );
    });
  }
});

describe('parseSelection', () => {
  test('ids, deduplicated', () => {
    assert.deepEqual(parseSelection([ID, ID.toUpperCase(), ID], []), { ids: [ID, ID.toUpperCase()] });
  });

  test('a filter', () => {
    assert.deepEqual(parseSelection([], ['topic=t']), { filter: { topic: 't' } });
  });

  test('both, neither, or an id that is not a uuid: usage errors', () => {
    assert.throws(() => parseSelection([ID], ['topic=t']), /not both/);
    assert.throws(() => parseSelection([], []), /give dead-letter ids/);
    assert.throws(() => parseSelection(['42'], []), /not dead-letter ids \(uuids\): 42/);
  });

  test('described for the prompt', () => {
    assert.equal(describeSelection({ ids: [ID] }), '1 dead letter by id');
    assert.equal(
      describeSelection({ filter: { topic: 't', group: 'g' } }),
      'every DEAD record matching topic=t group=g',
    );
  });
});

describe('parseTime and positiveInt', () => {
  test('relative times in s, m, h, d', () => {
    assert.equal(parseTime('-30s', 'x', NOW), '2026-12-07T11:59:30.000Z');
    assert.equal(parseTime('-7d', 'x', NOW), '2026-11-30T12:00:00.000Z');
  });

  test('an integer flag out of range or not an integer names the flag', () => {
    const limit = positiveInt('--limit', 500);
    assert.equal(limit('50'), 50);
    for (const bad of ['0', '501', '1.5', '-1', 'ten']) {
      assert.throws(() => limit(bad), new RegExp(`--limit: expected an integer from 1 to 500, got "${bad}"`));
    }
  });
});
