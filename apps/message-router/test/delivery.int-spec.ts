import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type MessageStatusUpdate } from '@fleet/contracts';
import { captureLogger, waitFor } from '@fleet/kafka/testing';
import { closeRedisClient, createRedisClient } from '@fleet/redis';
import { type AppProcess } from '@fleet/service-kit/testing';
import { makeMessage, REDIS_URL, RouterFixture } from './harness';

/**
 * One router process and one fake channel server for the whole file; every test uses messages
 * and recipients of its own, and scripts the fake only for its own recipients.
 */
describe('message-router delivers outgoing messages (real Kafka, PostgreSQL, Redis; fake channels)', () => {
  let f: RouterFixture;
  let router: AppProcess;

  before(async () => {
    f = await RouterFixture.create();
    // The budget these tests count on (the default is 6).
    router = await f.startRouter({ ROUTER_MAX_ATTEMPTS: '3' });
  });

  after(async () => {
    if (router) {
      assert.deepEqual(await router.stop(), { code: 0, signal: null }, 'SIGTERM exits 0');
    }
    await f?.close();
  });

  const statusesOf = async (messageId: string): Promise<MessageStatusUpdate[]> =>
    (await f.statuses(messageId)).map((row) => row.payload);

  const waitForStatuses = (messageId: string, count: number, timeoutMs = 30_000) =>
    waitFor(
      `${count} status(es) for ${messageId}`,
      async () => (await statusesOf(messageId)).length >= count,
      timeoutMs,
    ).catch((error: unknown) => {
      console.error(router.tail(40));
      throw error;
    });

  test('a message to each channel and one to all are delivered once per channel, with SENT statuses in the outbox keyed by conversation', async () => {
    const toWhatsApp = makeMessage({ channel: 'whatsapp' });
    const toInstagram = makeMessage({ channel: 'instagram' });
    const toAll = makeMessage({ channel: 'all' });
    await f.send([toWhatsApp, toInstagram, toAll]);
    await Promise.all([
      waitForStatuses(toWhatsApp.messageId, 1),
      waitForStatuses(toInstagram.messageId, 1),
      waitForStatuses(toAll.messageId, 2),
    ]);

    for (const [message, channel] of [
      [toWhatsApp, 'whatsapp'],
      [toInstagram, 'instagram'],
      [toAll, 'whatsapp'],
      [toAll, 'instagram'],
    ] as const) {
      const calls = f.callsFor(message, channel);
      assert.equal(calls.length, 1, `${channel} called once for ${message.channel}`);
      assert.equal(calls[0]!.text, message.text);
      assert.equal(calls[0]!.status, 200);
      const row = await f.delivery(message.messageId, channel);
      assert.equal(row?.state, 'SENT');
      assert.equal(row?.channel_message_id, calls[0]!.channelMessageId);
      assert.equal(row?.attempts, 1);
    }
    assert.equal(f.callsFor(toWhatsApp, 'instagram').length, 0, 'a WhatsApp message never goes to Instagram');
    assert.equal(f.callsFor(toInstagram, 'whatsapp').length, 0);

    const rows = await f.statuses(toAll.messageId);
    assert.deepEqual(rows.map((r) => [r.topic, r.key, r.eventType]).sort(), [
      [f.statusTopic.name, toAll.conversationId, 'message.status.sent'],
      [f.statusTopic.name, toAll.conversationId, 'message.status.sent'],
    ]);
    const byChannel = Object.fromEntries(rows.map((r) => [r.payload.channel, r.payload]));
    assert.equal(byChannel.whatsapp!.channelMessageId, f.callsFor(toAll, 'whatsapp')[0]!.channelMessageId);
    assert.match(byChannel.whatsapp!.channelMessageId ?? '', /^wamid\./);
    assert.equal(byChannel.instagram!.status, 'SENT');
    assert.equal(byChannel.instagram!.source, 'router');

    assert.ok(
      (await router.metric('router_deliveries_total', { channel: 'whatsapp', outcome: 'sent' }))! >= 2,
    );
    assert.ok(
      (await router.metric('router_channel_call_duration_seconds_count', {
        channel: 'instagram',
        result: 'ok',
      }))! >= 2,
    );
    const ready = await fetch(`http://127.0.0.1:${router.port}/health/ready`);
    assert.equal(ready.status, 200, JSON.stringify(await ready.json()));
  });

  test('a replayed message (same record again, even with the Redis fast path wiped) is not sent a second time', async () => {
    const message = makeMessage({ channel: 'all' });
    await f.send([message]);
    await waitForStatuses(message.messageId, 2);

    await f.send([message]); // replay: Redis knows it is final
    const redis = createRedisClient({
      url: REDIS_URL,
      connectionName: 'router-test',
      logger: captureLogger(),
    });
    try {
      await waitFor(
        'the Redis fast path to hold both channels',
        async () =>
          (await redis.exists(
            `router:delivery:${message.messageId}:whatsapp`,
            `router:delivery:${message.messageId}:instagram`,
          )) === 2,
      );
      await redis.del(
        `router:delivery:${message.messageId}:whatsapp`,
        `router:delivery:${message.messageId}:instagram`,
      );
    } finally {
      await closeRedisClient(redis);
    }
    await f.send([message]); // replay again: now only the database can tell
    const marker = makeMessage({ channel: 'whatsapp', conversationId: message.conversationId });
    await f.send([marker]); // same key → same partition: once it is done, the replays were handled
    await waitForStatuses(marker.messageId, 1);

    assert.equal(f.callsFor(message, 'whatsapp').length, 1, 'WhatsApp got it once');
    assert.equal(f.callsFor(message, 'instagram').length, 1, 'Instagram got it once');
    assert.equal((await statusesOf(message.messageId)).length, 2, 'no second SENT status');
    assert.ok((await router.metric('router_dedup_cache_total', { result: 'hit' }))! >= 2, 'fast path hit');
    assert.ok((await router.metric('router_deliveries_total', { outcome: 'duplicate' }))! >= 4);
  });

  test('a schema-invalid record goes to the DLQ with the reason, and the next message of its key flows', async () => {
    const next = makeMessage({ channel: 'whatsapp' });
    await f.sendRaw(next.conversationId, JSON.stringify({ messageId: 'not-a-uuid', text: 'x' }));
    await f.send([next]);
    await waitForStatuses(next.messageId, 1);
    await f.dlq.until('the invalid record in the DLQ', (messages) =>
      messages.some((m) => m.key === next.conversationId),
    );
    const dead = f.dlq.messages.find((m) => m.key === next.conversationId)!;
    assert.equal(dead.headers['x-dlq-reason'], 'SCHEMA_INVALID');
    assert.match(dead.headers['x-dlq-error-message'] ?? '', /messageId/);
    assert.equal(
      dead.headers['x-dlq-consumer-group'],
      `${f.namespace}.message-router`,
      'the group, in the namespace',
    );
    assert.equal(
      dead.value?.toString(),
      JSON.stringify({ messageId: 'not-a-uuid', text: 'x' }),
      'original bytes',
    );
    assert.equal(f.callsFor(next, 'whatsapp').length, 1);
  });

  test('when WhatsApp answers 500 twice then 200, the message is delivered once, on the third attempt', async () => {
    const message = makeMessage({ channel: 'whatsapp' });
    f.fake.script({
      channel: 'whatsapp',
      match: (call) => call.to === message.recipients.whatsapp,
      responses: [{ status: 500 }, { status: 500 }],
    });
    const started = Date.now();
    await f.send([message]);
    await waitForStatuses(message.messageId, 1);
    const calls = f.callsFor(message, 'whatsapp');
    assert.deepEqual(
      calls.map((c) => c.status),
      [500, 500, 200],
    );
    assert.ok(Date.now() - started >= 3_000, 'backoff 1 s then 2 s');
    const [status] = await statusesOf(message.messageId);
    assert.equal(status!.status, 'SENT');
    assert.equal(status!.channelMessageId, calls[2]!.channelMessageId);
    const row = await f.delivery(message.messageId, 'whatsapp');
    assert.equal(row?.state, 'SENT');
    assert.equal(row?.attempts, 3);
    assert.equal(f.dlqFor(message.messageId).length, 0, 'not dead-lettered');
  });

  test('when Instagram always answers 500, the message goes to the DLQ after 3 attempts with the reason, and a FAILED status is written', async () => {
    const message = makeMessage({ channel: 'instagram' });
    f.fake.script({
      channel: 'instagram',
      match: (call) => call.to === message.recipients.instagram,
      responses: [{ status: 500 }],
      then: 'repeat-last',
    });
    await f.send([message]);
    await f.dlq.until('the failing message in the DLQ', () => f.dlqFor(message.messageId).length > 0, 30_000);
    const [dead] = f.dlqFor(message.messageId);
    assert.equal(dead!.headers['x-dlq-reason'], 'RETRIES_EXHAUSTED');
    assert.equal(dead!.headers['x-dlq-attempts'], '3');
    assert.match(dead!.headers['x-dlq-error-message'] ?? '', /instagram: UNAVAILABLE \(HTTP 500\)/);
    assert.equal(f.callsFor(message, 'instagram').length, 3);
    const statuses = await statusesOf(message.messageId);
    assert.equal(statuses.length, 1);
    assert.equal(statuses[0]!.status, 'FAILED');
    assert.match(statuses[0]!.reason ?? '', /^RETRIES_EXHAUSTED: UNAVAILABLE \(HTTP 500\)/);
    assert.equal((await f.delivery(message.messageId, 'instagram'))?.state, 'FAILED');
  });

  test('when WhatsApp answers 400, the message goes to the DLQ at once with a FAILED status, without a retry', async () => {
    const message = makeMessage({ channel: 'whatsapp' });
    f.fake.script({
      channel: 'whatsapp',
      match: (call) => call.to === message.recipients.whatsapp,
      responses: [{ status: 400 }],
      then: 'repeat-last',
    });
    await f.send([message]);
    await f.dlq.until('the refused message in the DLQ', () => f.dlqFor(message.messageId).length > 0);
    const [dead] = f.dlqFor(message.messageId);
    assert.equal(dead!.headers['x-dlq-reason'], 'NON_RETRIABLE');
    assert.equal(dead!.headers['x-dlq-error-code'], 'CHANNEL_REJECTED');
    assert.equal(dead!.headers['x-dlq-attempts'], '1');
    await sleep(3_500); // a retry would have come by now
    assert.equal(f.callsFor(message, 'whatsapp').length, 1, 'called once, never retried');
    const statuses = await statusesOf(message.messageId);
    assert.equal(statuses.length, 1);
    assert.equal(statuses[0]!.status, 'FAILED');
    assert.match(statuses[0]!.reason ?? '', /^CHANNEL_REJECTED: REJECTED \(HTTP 400\)/);
  });

  test('when Instagram answers 429 with Retry-After: 3, the retry waits 3 s (longer than the 1 s backoff) and then delivers', async () => {
    const message = makeMessage({ channel: 'instagram' });
    f.fake.script({
      channel: 'instagram',
      match: (call) => call.to === message.recipients.instagram,
      responses: [{ status: 429, retryAfter: 3 }],
    });
    await f.send([message]);
    await waitForStatuses(message.messageId, 1);
    const calls = f.callsFor(message, 'instagram');
    assert.deepEqual(
      calls.map((c) => c.status),
      [429, 200],
    );
    const waitedMs = Date.parse(calls[1]!.receivedAt) - Date.parse(calls[0]!.receivedAt);
    assert.ok(waitedMs >= 2_900, `waited ${waitedMs} ms before the retry`);
    assert.equal((await statusesOf(message.messageId))[0]!.status, 'SENT');
  });

  test('text over the Instagram limit on an all message: Instagram FAILED with the reason and never called, WhatsApp still sent, nothing retried', async () => {
    const message = makeMessage({ channel: 'all', text: 'x'.repeat(1_001) });
    const noRecipient = makeMessage({ channel: 'instagram', recipients: { whatsapp: '+15550001111' } });
    await f.send([message, noRecipient]);
    await waitForStatuses(message.messageId, 2);
    await waitForStatuses(noRecipient.messageId, 1);
    assert.equal(f.callsFor(message, 'instagram').length, 0, 'never sent to Instagram');
    assert.equal(f.callsFor(message, 'whatsapp').length, 1, '1001 characters fit WhatsApp');
    const byChannel = Object.fromEntries((await statusesOf(message.messageId)).map((s) => [s.channel, s]));
    assert.equal(byChannel.whatsapp!.status, 'SENT');
    assert.equal(byChannel.instagram!.status, 'FAILED');
    assert.equal(byChannel.instagram!.reason, 'TEXT_TOO_LONG: 1001 > 1000 characters (instagram)');
    const [missing] = await statusesOf(noRecipient.messageId);
    assert.equal(missing!.status, 'FAILED');
    assert.match(missing!.reason ?? '', /^RECIPIENT_MISSING/);
    await sleep(1_500);
    assert.equal(f.dlqFor(message.messageId).length, 0, 'a limit violation is a status, not a DLQ record');
    assert.equal((await statusesOf(message.messageId)).length, 2, 'no retry wrote anything more');
  });
});
