/**
 * A poison near the broker's size limit: its DLQ copy (the failure headers on top) or its retry
 * record (the retry headers on top) no longer fits. The topic's limit is lowered to 8 KiB so the
 * records stay small.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dlqTopicOf, FleetHeaders, retryTopicOf } from '@fleet/contracts';
import { FleetConsumer, RetriableError, subscribe } from '../src';
import { collectMessages, uniqueGroupId, waitFor } from '../src/testing';
import { harness, type Harness, type Item } from './harness';

const LIMIT = 8_192;

async function limited(purpose: string): Promise<Harness> {
  const h = await harness(purpose);
  const admin = h.kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [h.topic.name, retryTopicOf(h.topic.name), dlqTopicOf(h.topic.name)].map((name) => ({
        type: 2,
        name,
        configEntries: [{ name: 'max.message.bytes', value: String(LIMIT) }],
      })),
    });
  } finally {
    await admin.disconnect();
  }
  return h;
}

function consumerFor(h: Harness, handler: (value: Item) => Promise<void>) {
  return new FleetConsumer(h.kafka, {
    groupId: uniqueGroupId('size'),
    producer: h.producer,
    registry: h.registry,
    logger: h.logger,
    retry: { maxAttempts: 3, initialBackoffMs: 100, backoffMultiplier: 2 },
    heartbeatIntervalMs: 1_000,
    subscriptions: [subscribe(h.topic, handler)],
    onFatalError: (error) => assert.fail(`unexpected fatal error: ${String(error)}`),
  });
}

describe('poison records near the broker limit', () => {
  test('when the DLQ copy is over the limit, the dead letter goes without its value and the next message flows', async () => {
    const h = await limited('dlq-size');
    const handled: Item[] = [];
    const consumer = consumerFor(h, async (value) => void handled.push(value));
    try {
      const huge = `not json ${'x'.repeat(LIMIT - 400)}`;
      await h.producer.sendRaw(h.topic.name, [{ key: 'k', value: huge, headers: {} }]);
      await h.producer.sendRaw(h.topic.name, [
        { key: 'k', value: JSON.stringify({ id: 'good', n: 1 }), headers: {} },
      ]);
      await consumer.start();
      await waitFor('the next message handled', () => handled.length === 1, 30_000);
      const [dead] = await collectMessages(h.kafka, dlqTopicOf(h.topic.name), { count: 1 });
      assert.equal(dead!.headers[FleetHeaders.dlqReason], 'MALFORMED_JSON');
      assert.equal(dead!.headers[FleetHeaders.originalOffset], '0');
      assert.equal(dead!.value, null);
      assert.match(
        dead!.headers[FleetHeaders.dlqValueDropped] ?? '',
        new RegExp(`^${Buffer.byteLength(huge)} bytes: `),
      );
    } finally {
      await consumer.stop();
      await h.close();
    }
  });

  test('when the retry record is over the limit, the message is dead-lettered at once and the next one flows', async () => {
    const h = await limited('retry-size');
    const handled: Item[] = [];
    const consumer = consumerFor(h, async (value) => {
      if (value.id === 'huge') throw new RetriableError('downstream busy', 'BUSY');
      handled.push(value);
    });
    try {
      const huge = JSON.stringify({ id: 'huge', n: 1, pad: 'x'.repeat(LIMIT - 250) });
      await h.producer.sendRaw(h.topic.name, [{ key: 'k', value: huge, headers: {} }]);
      await h.producer.sendRaw(h.topic.name, [
        { key: 'k', value: JSON.stringify({ id: 'good', n: 2 }), headers: {} },
      ]);
      await consumer.start();
      await waitFor('the next message handled', () => handled.length === 1, 30_000);
      const [dead] = await collectMessages(h.kafka, dlqTopicOf(h.topic.name), { count: 1 });
      assert.equal(dead!.headers[FleetHeaders.dlqReason], 'NON_RETRIABLE');
      assert.equal(dead!.headers[FleetHeaders.dlqErrorCode], 'RETRY_RECORD_REJECTED');
      assert.match(dead!.headers[FleetHeaders.dlqErrorMessage] ?? '', /BUSY: downstream busy/);
    } finally {
      await consumer.stop();
      await h.close();
    }
  });
});
