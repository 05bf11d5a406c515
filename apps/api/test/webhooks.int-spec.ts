import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { signWebhookBody } from '@fleet/channels';
import { messageStatusUpdateSchema } from '@fleet/contracts';
import { type TestSchema } from '@fleet/db/testing';
import {
  call,
  counts,
  createApiSchema,
  createConversation,
  createKeys,
  INSTAGRAM_SECRET,
  startApi,
  tokenFor,
  VERIFY_TOKEN,
  WHATSAPP_SECRET,
  type ApiUnderTest,
  type TestKeys,
} from './harness';

const whatsAppBody = (messageId: string, wamid: string, status: string, extra: object = {}) => ({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: 'waba-1',
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550000000', phone_number_id: 'pn-1' },
            statuses: [
              {
                id: wamid,
                status,
                timestamp: String(Math.floor(Date.now() / 1000)),
                recipient_id: '5511999990000',
                biz_opaque_callback_data: messageId,
                ...extra,
              },
            ],
          },
        },
      ],
    },
  ],
});

const instagramReadBody = (mid: string) => ({
  object: 'instagram',
  entry: [
    {
      id: 'ig-1',
      time: Date.now(),
      messaging: [
        {
          sender: { id: '17841400000000' },
          recipient: { id: 'page-1' },
          timestamp: Date.now(),
          read: { mid },
        },
      ],
    },
  ],
});

describe('api channel status webhooks', () => {
  let db: TestSchema;
  let keys: TestKeys;
  let api: ApiUnderTest;
  let alice: string;

  before(async () => {
    db = await createApiSchema();
    keys = await createKeys();
    api = await startApi(db.schema, keys);
    alice = await tokenFor(keys, 'alice');
  });
  after(async () => {
    await api?.stop();
    await db?.drop();
  });

  const newMessage = async (channel: 'whatsapp' | 'instagram' | 'all' = 'all') => {
    const conversationId = await createConversation(api, alice, channel);
    const sent = await call<{ id: string }>(api, 'POST', `/v1/conversations/${conversationId}/messages`, {
      token: alice,
      body: { text: 'hi' },
      headers: { 'idempotency-key': randomUUID() },
    });
    return { conversationId, messageId: sent.body.id };
  };

  const deliver = (channel: string, raw: string, signature: string | undefined) =>
    call<{
      received: number;
      enqueued: number;
      ignored: number;
      skipped: number;
      error: { code: string };
    }>(api, 'POST', `/v1/webhooks/${channel}`, {
      body: raw,
      headers: signature === undefined ? {} : { 'x-hub-signature-256': signature },
    });

  const statusRows = (): Promise<Array<{ aggregate_key: string; payload: unknown }>> =>
    db.dataSource.query(
      `SELECT aggregate_key, payload FROM outbox_events WHERE topic = 'chat.message.status.1' ORDER BY seq`,
    );

  test('the subscription handshake echoes hub.challenge only with the right verify token', async () => {
    for (const channel of ['whatsapp', 'instagram']) {
      const ok = await call(
        api,
        'GET',
        `/v1/webhooks/${channel}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=12345`,
      );
      assert.equal(ok.status, 200);
      assert.equal(ok.text, '12345');
      const wrong = await call<{ error: { code: string } }>(
        api,
        'GET',
        `/v1/webhooks/${channel}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=12345`,
      );
      assert.equal(wrong.status, 403);
      assert.equal(wrong.body.error.code, 'WEBHOOK_VERIFY_FAILED');
    }
    assert.equal((await call(api, 'GET', '/v1/webhooks/telegram?hub.mode=subscribe')).status, 404);
  });

  test('a signed WhatsApp status becomes a chat.message.status.1 outbox event (source webhook, keyed by conversation)', async () => {
    const { conversationId, messageId } = await newMessage();
    const before = (await statusRows()).length;
    const raw = JSON.stringify(whatsAppBody(messageId, 'wamid.A', 'delivered'));
    const answer = await deliver('whatsapp', raw, signWebhookBody(raw, WHATSAPP_SECRET));
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body, { received: 1, enqueued: 1, ignored: 0, skipped: 0 });
    const rows = (await statusRows()).slice(before);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.aggregate_key, conversationId);
    const update = messageStatusUpdateSchema.parse(rows[0]!.payload);
    assert.equal(update.messageId, messageId);
    assert.equal(update.channel, 'whatsapp');
    assert.equal(update.status, 'DELIVERED');
    assert.equal(update.channelMessageId, 'wamid.A');
    assert.equal(update.source, 'webhook');
  });

  test('an Instagram read is matched through the channel message id the router stored', async () => {
    const { conversationId, messageId } = await newMessage('instagram');
    // What the router's SENT status left on the delivery row.
    await db.dataSource.query(
      `UPDATE message_deliveries SET status = 'SENT', channel_message_id = 'mid.XYZ' WHERE message_id = $1 AND channel = 'instagram'`,
      [messageId],
    );
    const before = (await statusRows()).length;
    const raw = JSON.stringify(instagramReadBody('mid.XYZ'));
    const answer = await deliver('instagram', raw, signWebhookBody(raw, INSTAGRAM_SECRET));
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.enqueued, 1);
    const update = messageStatusUpdateSchema.parse((await statusRows()).slice(before)[0]!.payload);
    assert.deepEqual(
      [update.messageId, update.conversationId, update.status],
      [messageId, conversationId, 'READ'],
    );
  });

  test('a tampered body, a wrong secret or no signature → 401 and nothing changes', async () => {
    const { messageId } = await newMessage();
    const raw = JSON.stringify(whatsAppBody(messageId, 'wamid.B', 'read'));
    const signature = signWebhookBody(raw, WHATSAPP_SECRET);
    const before = await counts(db);
    for (const [body, sig] of [
      [raw.replace('"read"', '"sent"'), signature],
      [raw, signWebhookBody(raw, 'not-the-secret')],
      [raw, undefined],
      [raw, signWebhookBody(raw, INSTAGRAM_SECRET)],
    ] as const) {
      const answer = await deliver('whatsapp', body, sig);
      assert.equal(answer.status, 401, answer.text);
      assert.equal(answer.body.error.code, 'WEBHOOK_SIGNATURE_INVALID');
    }
    // Unparseable JSON with a bad signature is still a 401: the signature is judged first.
    assert.equal((await deliver('whatsapp', '{not json', 'sha256=00')).status, 401);
    assert.deepEqual(await counts(db), before);
  });

  test('a signed but malformed payload → 400 and nothing changes', async () => {
    const before = await counts(db);
    for (const raw of [
      '{not json',
      JSON.stringify({ object: 'page', entry: [] }),
      JSON.stringify({ object: 'whatsapp_business_account', entry: 'x' }),
    ]) {
      const answer = await deliver('whatsapp', raw, signWebhookBody(raw, WHATSAPP_SECRET));
      assert.equal(answer.status, 400, `${raw}: ${answer.text}`);
    }
    assert.deepEqual(await counts(db), before);
  });

  test('statuses of unknown messages are ignored (200, counted), known ones in the same delivery still go out', async () => {
    const { messageId } = await newMessage();
    const body = whatsAppBody(randomUUID(), 'wamid.unknown', 'delivered');
    const known = whatsAppBody(messageId, 'wamid.C', 'sent').entry[0]!.changes[0]!.value.statuses[0]!;
    body.entry[0]!.changes[0]!.value.statuses.push(known);
    const raw = JSON.stringify(body);
    const answer = await deliver('whatsapp', raw, signWebhookBody(raw, WHATSAPP_SECRET));
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body, { received: 2, enqueued: 1, ignored: 1, skipped: 0 });
    assert.ok((await api.process.metric('chat_webhook_events_total', { outcome: 'unknown_message' }))! >= 1);
  });

  test('a delivery carrying many statuses (as Meta batches them) is enqueued whole, in its order', async () => {
    const messages = await Promise.all([
      newMessage('whatsapp'),
      newMessage('whatsapp'),
      newMessage('whatsapp'),
    ]);
    const body = whatsAppBody(messages[0]!.messageId, 'wamid.B0', 'sent');
    const statuses = body.entry[0]!.changes[0]!.value.statuses;
    statuses.push(
      whatsAppBody(messages[1]!.messageId, 'wamid.B1', 'delivered').entry[0]!.changes[0]!.value.statuses[0]!,
    );
    statuses.push(
      whatsAppBody(messages[2]!.messageId, 'wamid.B2', 'read').entry[0]!.changes[0]!.value.statuses[0]!,
    );
    statuses.push(
      whatsAppBody(messages[0]!.messageId, 'wamid.B0', 'delivered').entry[0]!.changes[0]!.value.statuses[0]!,
    );
    const before = (await statusRows()).length;
    const raw = JSON.stringify(body);
    const answer = await deliver('whatsapp', raw, signWebhookBody(raw, WHATSAPP_SECRET));
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body, { received: 4, enqueued: 4, ignored: 0, skipped: 0 });
    const rows = (await statusRows()).slice(before).map((row) => ({
      key: row.aggregate_key,
      update: messageStatusUpdateSchema.parse(row.payload),
    }));
    assert.deepEqual(
      rows.map((r) => [r.update.messageId, r.update.status, r.update.channelMessageId, r.key]),
      [
        [messages[0]!.messageId, 'SENT', 'wamid.B0', messages[0]!.conversationId],
        [messages[1]!.messageId, 'DELIVERED', 'wamid.B1', messages[1]!.conversationId],
        [messages[2]!.messageId, 'READ', 'wamid.B2', messages[2]!.conversationId],
        [messages[0]!.messageId, 'DELIVERED', 'wamid.B0', messages[0]!.conversationId],
      ],
    );
  });

  test('statuses the delivery is already at or past are skipped (200, counted, not enqueued), unless they bring its missing channel id', async () => {
    const sent = await newMessage('whatsapp');
    const failed = await newMessage('whatsapp');
    const idMissing = await newMessage('whatsapp');
    const at = (messageId: string, status: string, wamid: string | null) =>
      db.dataSource.query(
        `UPDATE message_deliveries SET status = $2, channel_message_id = $3 WHERE message_id = $1 AND channel = 'whatsapp'`,
        [messageId, status, wamid],
      );
    // What the router's SENT (with the channel's id), a FAILED, and a SENT without an id left.
    await at(sent.messageId, 'SENT', 'wamid.S');
    await at(failed.messageId, 'FAILED', 'wamid.F');
    await at(idMissing.messageId, 'SENT', null);
    const status = (messageId: string, wamid: string, event: string) =>
      whatsAppBody(messageId, wamid, event).entry[0]!.changes[0]!.value.statuses[0]!;
    const body = whatsAppBody(sent.messageId, 'wamid.S', 'sent');
    body.entry[0]!.changes[0]!.value.statuses.push(
      status(sent.messageId, 'wamid.S', 'delivered'),
      status(failed.messageId, 'wamid.F', 'delivered'),
      status(idMissing.messageId, 'wamid.M', 'sent'),
    );
    const before = (await statusRows()).length;
    const skippedBefore = (await api.process.metric('chat_webhook_events_total', { outcome: 'stale' })) ?? 0;
    const raw = JSON.stringify(body);
    const answer = await deliver('whatsapp', raw, signWebhookBody(raw, WHATSAPP_SECRET));
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body, { received: 4, enqueued: 2, ignored: 0, skipped: 2 });
    const updates = (await statusRows())
      .slice(before)
      .map((row) => messageStatusUpdateSchema.parse(row.payload));
    assert.deepEqual(
      updates.map((u) => [u.messageId, u.status, u.channelMessageId]),
      [
        [sent.messageId, 'DELIVERED', 'wamid.S'],
        [idMissing.messageId, 'SENT', 'wamid.M'],
      ],
    );
    assert.equal(
      await api.process.metric('chat_webhook_events_total', { outcome: 'stale' }),
      skippedBefore + 2,
    );
  });
});
