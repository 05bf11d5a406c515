import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  chatMessageStatus,
  inNamespace,
  type DeliveryChannel,
  type MessageStatusUpdate,
  type StatusUpdateKind,
} from '@fleet/contracts';
import { type TestSchema } from '@fleet/db/testing';
import { createKafkaClient, FleetProducer } from '@fleet/kafka';
import { captureLogger, waitFor } from '@fleet/kafka/testing';
import { Registry } from 'prom-client';
import { WebSocket } from 'ws';
import {
  BROKERS,
  call,
  createApiSchema,
  createConversation,
  createKeys,
  startApi,
  tokenFor,
  type ApiUnderTest,
  type TestKeys,
} from './harness';

interface LiveEvent {
  type: string;
  messageId?: string;
  channel?: string;
  status?: string;
  messageStatus?: string;
  reason?: string | null;
  channelMessageId?: string | null;
}

/** A WebSocket subscription that keeps every event; resolves once the server confirmed the subscription. */
async function subscribe(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ events: LiveEvent[]; close(): void }> {
  const ws = new WebSocket(url, { headers });
  const events: LiveEvent[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const event = JSON.parse(data.toString()) as LiveEvent;
      if (event.type === 'subscribed') resolve();
      else events.push(event);
    });
    ws.on('unexpected-response', (_request, response) =>
      reject(new Error(`upgrade refused: ${response.statusCode}`)),
    );
    ws.on('error', reject);
  });
  return { events, close: () => ws.close() };
}

/** The HTTP status a refused upgrade answered with. */
function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => reject(new Error('upgrade was accepted')));
    ws.on('error', () => undefined);
  });
}

describe('api status consumer and live events', () => {
  let db: TestSchema;
  let keys: TestKeys;
  let api: ApiUnderTest;
  let producer: FleetProducer;
  let alice: string;
  // A fresh namespace: the api consumes `<namespace>.chat.message.status.1`, a topic of its own.
  const namespace = `t${randomBytes(4).toString('hex')}`;
  const topic = inNamespace(chatMessageStatus, namespace);
  const kafka = createKafkaClient({
    brokers: BROKERS.split(','),
    clientId: 'test-api-status',
    logger: captureLogger(),
  });

  before(async () => {
    db = await createApiSchema();
    keys = await createKeys();
    api = await startApi(db.schema, keys, { CHAT_STATUS_CONSUMER: '1', KAFKA_TOPIC_NAMESPACE: namespace });
    producer = new FleetProducer(kafka, { registry: new Registry() });
    await producer.connect();
    alice = await tokenFor(keys, 'alice');
    await waitFor(
      'status consumer joined',
      () => api.process.logs().some((l) => l.message === 'status consumer joined'),
      60_000,
    );
  });
  after(async () => {
    await producer?.disconnect();
    await api?.stop();
    await db?.drop();
  });

  const sendMessage = async (conversationId: string): Promise<string> => {
    const answer = await call<{ id: string }>(api, 'POST', `/v1/conversations/${conversationId}/messages`, {
      token: alice,
      body: { text: 'hi' },
      headers: { 'idempotency-key': randomUUID() },
    });
    assert.equal(answer.status, 202, answer.text);
    return answer.body.id;
  };

  /** A status record keyed by its conversation (`source: 'router'` unless `extra` says otherwise). */
  const statusRecord = (
    conversationId: string,
    messageId: string,
    channel: DeliveryChannel,
    status: StatusUpdateKind,
    extra: Partial<MessageStatusUpdate> = {},
  ) => ({
    key: conversationId,
    eventId: randomUUID(),
    value: {
      messageId,
      conversationId,
      channel,
      status,
      occurredAt: new Date().toISOString(),
      source: 'router' as const,
      ...extra,
    },
  });

  const publish = (...record: Parameters<typeof statusRecord>) =>
    producer.send(topic, [statusRecord(...record)]);

  const delivery = async (messageId: string, channel: DeliveryChannel) => {
    const [row] = await db.dataSource.query(
      `SELECT d.status, d.reason, d.channel_message_id, m.status AS message_status
         FROM message_deliveries d JOIN messages m ON m.id = d.message_id WHERE d.message_id = $1 AND d.channel = $2`,
      [messageId, channel],
    );
    return row as {
      status: string;
      reason: string | null;
      channel_message_id: string | null;
      message_status: string;
    };
  };

  test('statuses move only forward: a late older status and a duplicate change nothing; subscribers see each change once', async () => {
    const conversationId = await createConversation(api, alice, 'all', ['bob']);
    const messageId = await sendMessage(conversationId);
    const bob = await tokenFor(keys, 'bob');
    // Browsers pass the token in the query; other clients in the header.
    const live = await subscribe(
      `ws://127.0.0.1:${api.port}/v1/conversations/${conversationId}/events?access_token=${bob}`,
    );
    try {
      await publish(conversationId, messageId, 'whatsapp', 'SENT', { channelMessageId: 'wamid.1' });
      await publish(conversationId, messageId, 'whatsapp', 'DELIVERED');
      await publish(conversationId, messageId, 'whatsapp', 'SENT'); // late, older
      await publish(conversationId, messageId, 'whatsapp', 'DELIVERED'); // duplicate
      await publish(conversationId, messageId, 'instagram', 'READ', { channelMessageId: 'mid.1' }); // marker: same key, after them
      await waitFor(
        'instagram READ applied',
        async () => (await delivery(messageId, 'instagram')).status === 'READ',
      );

      const whatsapp = await delivery(messageId, 'whatsapp');
      assert.equal(whatsapp.status, 'DELIVERED');
      assert.equal(whatsapp.channel_message_id, 'wamid.1');
      assert.equal(whatsapp.message_status, 'DELIVERED', 'overall: the least advanced channel');

      await waitFor('three live events', () => live.events.length >= 3);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(
        live.events.map((e) => [e.channel, e.status, e.messageStatus]),
        [
          ['whatsapp', 'SENT', 'PENDING'],
          ['whatsapp', 'DELIVERED', 'PENDING'],
          ['instagram', 'READ', 'DELIVERED'],
        ],
      );
      assert.ok(live.events.every((e) => e.type === 'message.status' && e.messageId === messageId));

      const view = await call<{
        status: string;
        deliveries: Array<{ channel: string; status: string; channelMessageId: string }>;
      }>(api, 'GET', `/v1/conversations/${conversationId}/messages/${messageId}`, { token: alice });
      assert.equal(view.body.status, 'DELIVERED');
      assert.deepEqual(
        view.body.deliveries.map((d) => [d.channel, d.status, d.channelMessageId]),
        [
          ['instagram', 'READ', 'mid.1'],
          ['whatsapp', 'DELIVERED', 'wamid.1'],
        ],
      );
    } finally {
      live.close();
    }
  });

  test('a run of updates fetched together is applied in order as one statement: same outcome as one by one', async () => {
    const conversationId = await createConversation(api, alice, 'all', ['bob']);
    const first = await sendMessage(conversationId);
    const second = await sendMessage(conversationId);
    const live = await subscribe(`ws://127.0.0.1:${api.port}/v1/conversations/${conversationId}/events`, {
      authorization: `Bearer ${alice}`,
    });
    try {
      const update = (
        messageId: string,
        channel: DeliveryChannel,
        status: StatusUpdateKind,
        extra: Partial<MessageStatusUpdate> = {},
      ) => statusRecord(conversationId, messageId, channel, status, { source: 'webhook', ...extra });
      // One produce request: the records land together and are fetched together.
      await producer.send(topic, [
        update(first, 'whatsapp', 'SENT', { channelMessageId: 'wamid.b1' }),
        update(second, 'whatsapp', 'SENT', { channelMessageId: 'wamid.b2' }),
        update(first, 'whatsapp', 'DELIVERED'),
        update(first, 'whatsapp', 'SENT'), // stale
        update(randomUUID(), 'whatsapp', 'SENT'), // unknown
        update(second, 'instagram', 'FAILED', { reason: 'USER_BLOCKED' }),
        update(first, 'instagram', 'READ', { channelMessageId: 'mid.b1' }),
      ]);
      await waitFor(
        'the last update applied',
        async () => (await delivery(first, 'instagram')).status === 'READ',
      );
      assert.deepEqual(await delivery(first, 'whatsapp'), {
        status: 'DELIVERED',
        reason: null,
        channel_message_id: 'wamid.b1',
        message_status: 'DELIVERED',
      });
      const failed = await delivery(second, 'instagram');
      assert.equal(failed.status, 'FAILED');
      assert.equal(failed.reason, 'USER_BLOCKED');
      assert.equal(failed.message_status, 'SENT', 'whatsapp SENT, instagram FAILED → SENT');
      await waitFor('five live events', () => live.events.length >= 5);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(
        live.events.map((e) => [
          e.messageId === first ? 'first' : 'second',
          e.channel,
          e.status,
          e.messageStatus,
        ]),
        [
          ['first', 'whatsapp', 'SENT', 'PENDING'],
          ['second', 'whatsapp', 'SENT', 'PENDING'],
          ['first', 'whatsapp', 'DELIVERED', 'PENDING'],
          ['second', 'instagram', 'FAILED', 'SENT'],
          ['first', 'instagram', 'READ', 'DELIVERED'],
        ],
      );
    } finally {
      live.close();
    }
  });

  test('FAILED is final and carries its reason; the message fails when every channel failed', async () => {
    const conversationId = await createConversation(api, alice, 'whatsapp');
    const messageId = await sendMessage(conversationId);
    const marker = await sendMessage(conversationId);
    const live = await subscribe(`ws://127.0.0.1:${api.port}/v1/conversations/${conversationId}/events`, {
      authorization: `Bearer ${alice}`,
    });
    try {
      await publish(conversationId, messageId, 'whatsapp', 'FAILED', {
        reason: 'REJECTED: 131026 undeliverable',
      });
      await publish(conversationId, messageId, 'whatsapp', 'READ');
      await publish(conversationId, marker, 'whatsapp', 'SENT');
      await waitFor('marker applied', async () => (await delivery(marker, 'whatsapp')).status === 'SENT');
      const failed = await delivery(messageId, 'whatsapp');
      assert.equal(failed.status, 'FAILED');
      assert.equal(failed.reason, 'REJECTED: 131026 undeliverable');
      assert.equal(failed.message_status, 'FAILED');
      await waitFor('two live events', () => live.events.length >= 2);
      assert.deepEqual(
        live.events.map((e) => [e.messageId, e.status, e.reason ?? null]),
        [
          [messageId, 'FAILED', 'REJECTED: 131026 undeliverable'],
          [marker, 'SENT', null],
        ],
      );
    } finally {
      live.close();
    }
  });

  test('a status for an unknown message is ignored and counted; the next one flows', async () => {
    const conversationId = await createConversation(api, alice, 'whatsapp');
    const messageId = await sendMessage(conversationId);
    const unknownBefore =
      (await api.process.metric('chat_status_updates_total', { outcome: 'unknown_message' })) ?? 0;
    await publish(conversationId, randomUUID(), 'whatsapp', 'SENT');
    await publish(conversationId, messageId, 'instagram', 'SENT'); // a channel this message does not use
    await publish(conversationId, messageId, 'whatsapp', 'SENT');
    await waitFor(
      'known message applied',
      async () => (await delivery(messageId, 'whatsapp')).status === 'SENT',
    );
    assert.equal(
      await api.process.metric('chat_status_updates_total', { outcome: 'unknown_message' }),
      unknownBefore + 2,
    );
    const [{ n }] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM message_deliveries WHERE message_id = $1`,
      [messageId],
    );
    assert.equal(n, 1, 'no delivery row invented for the unused channel');
  });

  test('a subscriber on another replica (no consumer there) gets the change through Redis', async () => {
    const other = await startApi(db.schema, keys, { CHAT_STATUS_CONSUMER: '0' });
    try {
      const conversationId = await createConversation(api, alice, 'whatsapp');
      const messageId = await sendMessage(conversationId);
      const live = await subscribe(
        `ws://127.0.0.1:${other.port}/v1/conversations/${conversationId}/events?access_token=${alice}`,
      );
      try {
        await publish(conversationId, messageId, 'whatsapp', 'SENT');
        await waitFor('event on the other replica', () => live.events.length >= 1);
        assert.equal(live.events[0]!.status, 'SENT');
      } finally {
        live.close();
      }
    } finally {
      await other.stop();
    }
  });

  test('the events socket is for participants with a valid token only', async () => {
    const conversationId = await createConversation(api, alice, 'whatsapp');
    const base = `ws://127.0.0.1:${api.port}/v1/conversations`;
    assert.equal(await refusedUpgrade(`${base}/${conversationId}/events`), 401);
    assert.equal(await refusedUpgrade(`${base}/${conversationId}/events?access_token=garbage`), 401);
    const mallory = await tokenFor(keys, 'mallory');
    assert.equal(
      await refusedUpgrade(`${base}/${conversationId}/events`, { authorization: `Bearer ${mallory}` }),
      403,
    );
    assert.equal(await refusedUpgrade(`${base}/${randomUUID()}/events?access_token=${alice}`), 404);
    assert.equal(await refusedUpgrade(`${base}/nope/events?access_token=${alice}`), 400);
  });
});
