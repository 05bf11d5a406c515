import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FleetHeaders, retryTopicOf, type MessageStatusUpdate } from '@fleet/contracts';
import { sqlOf, type Sql } from '@fleet/db';
import {
  captureLogger,
  recordTopic,
  uniqueGroupId,
  waitFor,
  type TopicRecording,
} from '@fleet/kafka/testing';
import { DeadLetterIndexer, OPS_MIGRATIONS, Redriver } from '@fleet/ops';
import { type AppProcess } from '@fleet/service-kit/testing';
import { Registry } from 'prom-client';
import { makeMessage, RouterFixture } from './harness';

/**
 * A delivery the channel refused is FAILED, and FAILED is final for the router's dedup: a replay
 * never calls the channel again. An operator's redrive (after fixing the cause) is the one
 * exception, once per redrive: the real dead-letter indexer and redriver of `@fleet/ops` on the
 * router's DLQ, one router process, a fake WhatsApp.
 */
describe('message-router and an operator redrive (real Kafka, PostgreSQL, Redis; fake WhatsApp)', () => {
  let f: RouterFixture;
  let router: AppProcess;
  let sql: Sql;
  let indexer: DeadLetterIndexer;
  let redriver: Redriver;
  let retries: TopicRecording;
  const logger = captureLogger();

  before(async () => {
    f = await RouterFixture.create(OPS_MIGRATIONS);
    sql = sqlOf(f.db.dataSource.manager);
    const registry = new Registry();
    indexer = new DeadLetterIndexer({
      kafka: f.kafka,
      sql,
      contracts: [f.input],
      logger,
      registry,
      groupId: uniqueGroupId('router-redrive-indexer'),
    });
    await indexer.start();
    redriver = new Redriver({ sql, producer: f.producer, logger, registry });
    retries = await recordTopic(f.kafka, retryTopicOf(f.input.name));
    router = await f.startRouter();
  });

  after(async () => {
    await router?.stop();
    await retries?.stop();
    await indexer?.stop();
    await f?.close();
  });

  const statusesOf = async (messageId: string): Promise<MessageStatusUpdate[]> =>
    (await f.statuses(messageId)).map((row) => row.payload);

  /** The conversation's dead letters as the indexer stored them, oldest first. */
  const deadLetters = (conversationId: string) =>
    sql.rows<{ id: string; status: string; redrive_count: number }>(
      `SELECT id, status, redrive_count FROM ops_dead_letters WHERE key = $1 ORDER BY dlq_offset`,
      [conversationId],
    );

  const groupOffset = async (groupId: string, topic: string, partition: number): Promise<bigint> => {
    const admin = f.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const at = offsets?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
      return BigInt(at);
    } finally {
      await admin.disconnect();
    }
  };

  /** A message WhatsApp refuses (400) on the first call, and the router dead-letters. */
  const refused = async (then?: 'repeat-last') => {
    const message = makeMessage({ channel: 'whatsapp' });
    f.fake.script({
      channel: 'whatsapp',
      match: (call) => call.to === message.recipients.whatsapp,
      responses: [{ status: 400 }],
      ...(then ? { then } : {}),
    });
    await f.send([message]);
    const [dead] = await waitFor('the refused message indexed', async () => {
      const rows = await deadLetters(message.conversationId);
      return rows.length > 0 ? rows : undefined;
    });
    assert.equal(dead!.status, 'DEAD');
    assert.equal((await f.delivery(message.messageId, 'whatsapp'))?.state, 'FAILED');
    return { message, deadLetterId: dead!.id };
  };

  test('refused, then redriven after the fix: one more channel call, SENT carrying the redrive id; the same redriven record again calls nothing', async () => {
    const { message, deadLetterId } = await refused();
    const preview = await redriver.preview({ ids: [deadLetterId] }, 'test');
    assert.equal(preview.matched, 1);
    const { redrive, done } = await redriver.start({ ids: [deadLetterId] }, 'test');
    assert.equal((await done).redriven, 1);

    await waitFor(
      'the SENT status after the redrive',
      async () => (await statusesOf(message.messageId)).length >= 2,
    );
    const statuses = await statusesOf(message.messageId);
    assert.deepEqual(
      statuses.map((s) => [s.status, s.redriveId ?? null]),
      [
        ['FAILED', null],
        ['SENT', redrive.id],
      ],
    );
    assert.equal(f.callsFor(message, 'whatsapp').length, 2, 'the refused call and the redrive’s');
    const row = await f.delivery(message.messageId, 'whatsapp');
    assert.equal(row?.state, 'SENT');
    assert.equal(row?.attempts, 2);

    // The redriven record delivered again (a rebalance, a crash before the commit): a duplicate.
    const redriven = retries.messages.find((m) => m.headers[FleetHeaders.redriveId] === redrive.id);
    assert.ok(redriven, 'the redriven record on the retry topic');
    await f.producer.sendRaw(redriven.topic, [
      { key: redriven.key, value: redriven.value!.toString(), headers: redriven.headers },
    ]);
    const copies = () => retries.messages.filter((m) => m.headers[FleetHeaders.redriveId] === redrive.id);
    await waitFor('the copy on the retry topic', async () => copies().length === 2);
    const copy = copies()[1]!;
    await waitFor('the router’s retry group committed past the copy', async () => {
      const committed = await groupOffset(`${f.namespace}.message-router.retry`, copy.topic, copy.partition);
      return committed > BigInt(copy.offset);
    });
    assert.equal(f.callsFor(message, 'whatsapp').length, 2, 'no third call');
    assert.equal((await statusesOf(message.messageId)).length, 2, 'no third status');
    // And a redrive of the same dead letter again has nothing to take.
    const again = await redriver.start({ ids: [deadLetterId] }, 'test');
    assert.deepEqual([(await again.done).redriven, (await again.done).skipped], [0, 1]);
  });

  test('redriven while the channel still refuses: one more call, FAILED again, back in the DLQ with its redrive count', async () => {
    const { message, deadLetterId } = await refused('repeat-last');
    const { done } = await redriver.start({ ids: [deadLetterId] }, 'test');
    assert.equal((await done).redriven, 1);
    const rows = await waitFor('the second dead letter', async () => {
      const found = await deadLetters(message.conversationId);
      return found.length >= 2 ? found : undefined;
    });
    assert.deepEqual(
      rows.map((r) => [r.status, r.redrive_count]),
      [
        ['REDRIVEN', 0],
        ['DEAD', 1],
      ],
    );
    assert.equal(f.callsFor(message, 'whatsapp').length, 2);
    // The redrive's own outcome is reported too (the api keeps FAILED: it is not a redrive's SENT).
    assert.deepEqual(
      (await statusesOf(message.messageId)).map((s) => s.status),
      ['FAILED', 'FAILED'],
    );
    assert.equal((await f.delivery(message.messageId, 'whatsapp'))?.state, 'FAILED');
  });
});
