import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { consumerLag, createKafkaClient, FleetConsumer, subscribe } from '../src';
import { captureLogger, uniqueGroupId, waitFor } from '../src/testing';
import { harness, type Harness } from './harness';

/** `counts[p]` records on partition p, written straight to the partition (no key hashing). */
async function writeRecords(h: Harness, counts: number[]): Promise<void> {
  const producer = h.kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic: h.topic.name,
      messages: counts.flatMap((count, partition) =>
        Array.from({ length: count }, (_, n) => ({
          partition,
          value: JSON.stringify({ id: `${partition}-${n}`, n }),
        })),
      ),
    });
  } finally {
    await producer.disconnect();
  }
}

describe('consumerLag against a real broker', () => {
  test("a group without members: each partition's lag is its end minus the commit (the low watermark without one)", async () => {
    const h = await harness('lag-idle', 3);
    const groupId = uniqueGroupId('lag-idle');
    try {
      await writeRecords(h, [4, 3, 2]);
      const admin = h.kafka.admin();
      await admin.connect();
      // Partition 0 read up to offset 1, partition 1 fully read, partition 2 never committed.
      await admin.setOffsets({
        groupId,
        topic: h.topic.name,
        partitions: [
          { partition: 0, offset: '1' },
          { partition: 1, offset: '3' },
        ],
      });
      await admin.disconnect();

      const lag = await consumerLag(h.kafka, { groups: (id) => id === groupId });
      assert.deepEqual(lag, [
        {
          groupId,
          state: 'Empty',
          members: 0,
          lag: 5,
          topics: [
            {
              topic: h.topic.name,
              lag: 5,
              partitions: [
                { partition: 0, committedOffset: '1', endOffset: '4', lag: 3 },
                { partition: 1, committedOffset: '3', endOffset: '3', lag: 0 },
                { partition: 2, committedOffset: null, endOffset: '2', lag: 2 },
              ],
            },
          ],
        },
      ]);
      assert.deepEqual(
        await consumerLag(h.kafka, { groups: (id) => id === groupId, topics: (t) => t !== h.topic.name }),
        [],
        'a group with no topic left after the filter is left out',
      );
    } finally {
      await h.close();
    }
  });

  test('a running group that has read everything: lag 0, Stable with its member', async () => {
    const h = await harness('lag-live', 2);
    const groupId = uniqueGroupId('lag-live');
    let handled = 0;
    const consumer = new FleetConsumer(h.kafka, {
      groupId,
      producer: h.producer,
      registry: h.registry,
      logger: h.logger,
      autoCommitIntervalMs: 100,
      subscriptions: [subscribe(h.topic, async () => void handled++)],
      onFatalError: (error) => assert.fail(`unexpected fatal error: ${String(error)}`),
    });
    try {
      await writeRecords(h, [3, 2]);
      await consumer.start();
      await waitFor('the 5 records handled', () => handled === 5);
      const [group] = await waitFor('the commits to reach the broker', async () => {
        const found = await consumerLag(h.kafka, { groups: (id) => id === groupId });
        return found[0]?.lag === 0 && found[0].state === 'Stable' ? found : undefined;
      });
      assert.equal(group!.members, 1);
      assert.deepEqual(
        group!.topics.map((t) => [t.topic, t.lag, t.partitions.map((p) => p.committedOffset)]),
        [[h.topic.name, 0, ['3', '2']]],
      );
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('an unreachable cluster fails within the timeout instead of hanging the caller', async () => {
    const kafka = createKafkaClient({
      brokers: ['127.0.0.1:1'],
      clientId: 'test-lag-down',
      logger: captureLogger(),
      retries: 0,
      connectionTimeoutMs: 200,
    });
    const started = Date.now();
    await assert.rejects(consumerLag(kafka, { timeoutMs: 1_500 }));
    assert.ok(Date.now() - started < 5_000, `failed after ${Date.now() - started} ms`);
  });
});
