import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FallbackRecord } from '@fleet/contracts';
import { backoffDelayMs, groupByTopic, RejectionCounter, toTopicBatches } from './batch';

const rec = (
  id: string,
  topic: string,
  key: string | null = 'k',
): { raw: string; record: FallbackRecord } => ({
  raw: id,
  record: {
    id,
    topic,
    key,
    value: `{"id":"${id}"}`,
    headers: { 'x-event-id': id, traceparent: `00-${id}` },
    queuedAt: '2025-01-01T00:00:00.000Z',
    reason: 'down',
  },
});

describe('toTopicBatches', () => {
  it('groups by topic in first-seen order and keeps record order within each topic', () => {
    const batches = toTopicBatches([rec('1', 'a.x.1'), rec('2', 'b.x.1'), rec('3', 'a.x.1', null)]);
    assert.deepEqual(batches, [
      {
        topic: 'a.x.1',
        records: [
          { key: 'k', value: '{"id":"1"}', headers: { 'x-event-id': '1', traceparent: '00-1' } },
          { key: null, value: '{"id":"3"}', headers: { 'x-event-id': '3', traceparent: '00-3' } },
        ],
      },
      {
        topic: 'b.x.1',
        records: [{ key: 'k', value: '{"id":"2"}', headers: { 'x-event-id': '2', traceparent: '00-2' } }],
      },
    ]);
  });

  it('groupByTopic keeps the claimed items themselves', () => {
    const items = [rec('1', 't'), rec('2', 't')];
    assert.deepEqual(groupByTopic(items), [{ topic: 't', items }]);
  });
});

describe('backoffDelayMs', () => {
  it('doubles from the initial delay and stops at the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 30].map((n) => backoffDelayMs(n, 1_000, 10_000)),
      [1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000],
    );
  });
});

describe('RejectionCounter', () => {
  it('when a record is rejected limit times, it is reported used up once and forgotten', () => {
    const counter = new RejectionCounter(3);
    assert.equal(counter.reject('a'), false);
    assert.equal(counter.reject('a'), false);
    assert.equal(counter.reject('b'), false);
    assert.equal(counter.reject('a'), true);
    assert.equal(counter.count('a'), 0);
    assert.equal(counter.size, 1);
  });

  it('with a limit of 1, the first rejection uses the record up', () => {
    assert.equal(new RejectionCounter(1).reject('a'), true);
  });
});
