import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookPayloadError } from './errors';
import { parseInstagramWebhook, parseWhatsAppWebhook } from './webhook-payloads';

/** Shaped like the Cloud API's status webhooks (developers.facebook.com, "Status messages" examples). */
function whatsAppStatuses(statuses: unknown[], extraChanges: unknown[] = []) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          ...extraChanges,
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
              statuses,
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

const sent = {
  id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDNjgxNDNBMjJDQzYyNDNERjAA',
  status: 'sent',
  timestamp: '1750263773',
  recipient_id: '16505551234',
  biz_opaque_callback_data: '6f1c2b8e-0a5e-4c1b-9a57-9f6b8d1a2c3d',
  conversation: { id: '3ee6bea5d5e8b2a0b1f5b1d1c3e2a9b8', origin: { type: 'service' } },
  pricing: { billable: true, pricing_model: 'CBP', category: 'service' },
};

describe('parseWhatsAppWebhook', () => {
  test('sent, delivered and read statuses become events carrying our message id', () => {
    const events = parseWhatsAppWebhook(
      whatsAppStatuses([
        sent,
        { ...sent, status: 'delivered', timestamp: '1750263774' },
        { id: sent.id, status: 'read', timestamp: '1750263780', recipient_id: '16505551234' },
      ]),
    );
    assert.deepEqual(events, [
      {
        channel: 'whatsapp',
        channelMessageId: sent.id,
        messageId: sent.biz_opaque_callback_data,
        status: 'SENT',
        reason: undefined,
        occurredAt: '2025-06-18T16:22:53.000Z',
      },
      {
        channel: 'whatsapp',
        channelMessageId: sent.id,
        messageId: sent.biz_opaque_callback_data,
        status: 'DELIVERED',
        reason: undefined,
        occurredAt: '2025-06-18T16:22:54.000Z',
      },
      {
        channel: 'whatsapp',
        channelMessageId: sent.id,
        messageId: undefined,
        status: 'READ',
        reason: undefined,
        occurredAt: '2025-06-18T16:23:00.000Z',
      },
    ]);
  });

  test('a failed status carries the error code and title as the reason', () => {
    const [event] = parseWhatsAppWebhook(
      whatsAppStatuses([
        {
          id: sent.id,
          status: 'failed',
          timestamp: '1750263790',
          recipient_id: '16505551234',
          errors: [
            {
              code: 131026,
              title: 'Message undeliverable',
              message: 'Message undeliverable',
              error_data: { details: 'Message Undeliverable.' },
            },
          ],
        },
      ]),
    );
    assert.equal(event.status, 'FAILED');
    assert.equal(event.reason, '131026: Message undeliverable (Message Undeliverable.)');
  });

  test('inbound messages, other fields and unknown statuses are skipped', () => {
    const inbound = {
      field: 'messages',
      value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
        contacts: [{ profile: { name: 'Kerry' }, wa_id: '16505551234' }],
        messages: [
          {
            from: '16505551234',
            id: 'wamid.in',
            timestamp: '1750263700',
            type: 'text',
            text: { body: 'hi' },
          },
        ],
      },
    };
    const template = { field: 'message_template_status_update', value: { event: 'APPROVED' } };
    const events = parseWhatsAppWebhook(
      whatsAppStatuses([{ ...sent, status: 'deleted' }, sent], [inbound, template]),
    );
    assert.deepEqual(
      events.map((e) => e.status),
      ['SENT'],
    );
  });

  test('another object is refused as UNEXPECTED_OBJECT', () => {
    assert.throws(
      () => parseWhatsAppWebhook({ ...whatsAppStatuses([sent]), object: 'instagram' }),
      (error: unknown) =>
        error instanceof WebhookPayloadError &&
        error.code === 'UNEXPECTED_OBJECT' &&
        /"instagram".*whatsapp_business_account/.test(error.message),
    );
  });

  const malformed: Array<[string, unknown, RegExp]> = [
    ['a body that is not an object', 'hello', /JSON object/],
    ['an array body', [], /JSON object/],
    ['entry that is not an array', { object: 'whatsapp_business_account', entry: {} }, /entry/],
    [
      'a status timestamp that is a number',
      whatsAppStatuses([{ ...sent, timestamp: 1750263773 }]),
      /statuses\[0\]\.timestamp/,
    ],
    ['a status without id', whatsAppStatuses([{ ...sent, id: undefined }]), /statuses\[0\]\.id/],
    ['errors of the wrong type', whatsAppStatuses([{ ...sent, status: 'failed', errors: 'bad' }]), /errors/],
    [
      'another messaging_product',
      {
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '1',
            changes: [
              { field: 'messages', value: { messaging_product: 'sms', metadata: { phone_number_id: '1' } } },
            ],
          },
        ],
      },
      /messaging_product/,
    ],
  ];
  for (const [name, body, message] of malformed) {
    test(`${name} is refused as INVALID_PAYLOAD naming the field`, () => {
      assert.throws(
        () => parseWhatsAppWebhook(body),
        (error: unknown) =>
          error instanceof WebhookPayloadError &&
          error.code === 'INVALID_PAYLOAD' &&
          message.test(error.message),
      );
    });
  }
});

/** Shaped like the Instagram Messaging API's webhooks (Meta for Developers, "Webhooks" examples). */
function instagram(messaging: unknown[]) {
  return { object: 'instagram', entry: [{ id: '17841405822304914', time: 1750263773000, messaging }] };
}
const user = { id: '1254459154682919' };
const business = { id: '17841405822304914' };

describe('parseInstagramWebhook', () => {
  test('a delivery becomes one DELIVERED per mid and a read becomes READ', () => {
    const events = parseInstagramWebhook(
      instagram([
        {
          sender: user,
          recipient: business,
          timestamp: 1750263773500,
          delivery: { mids: ['mid.1', 'mid.2'], watermark: 1750263773400 },
        },
        { sender: user, recipient: business, timestamp: 1750263780000, read: { mid: 'mid.2' } },
      ]),
    );
    assert.deepEqual(events, [
      {
        channel: 'instagram',
        channelMessageId: 'mid.1',
        messageId: undefined,
        status: 'DELIVERED',
        reason: undefined,
        occurredAt: '2025-06-18T16:22:53.500Z',
      },
      {
        channel: 'instagram',
        channelMessageId: 'mid.2',
        messageId: undefined,
        status: 'DELIVERED',
        reason: undefined,
        occurredAt: '2025-06-18T16:22:53.500Z',
      },
      {
        channel: 'instagram',
        channelMessageId: 'mid.2',
        messageId: undefined,
        status: 'READ',
        reason: undefined,
        occurredAt: '2025-06-18T16:23:00.000Z',
      },
    ]);
  });

  test('messages, echoes, reactions and entries without messaging are skipped', () => {
    const body = {
      object: 'instagram',
      entry: [
        { id: business.id, time: 1, changes: [{ field: 'comments', value: { id: 'c1', text: 'nice' } }] },
        {
          id: business.id,
          time: 1,
          messaging: [
            { sender: user, recipient: business, timestamp: 1, message: { mid: 'mid.in', text: 'hi' } },
            {
              sender: business,
              recipient: user,
              timestamp: 1,
              message: { mid: 'mid.echo', text: 'yo', is_echo: true },
            },
            {
              sender: user,
              recipient: business,
              timestamp: 1,
              reaction: { mid: 'mid.1', action: 'react', emoji: '❤' },
            },
          ],
        },
      ],
    };
    assert.deepEqual(parseInstagramWebhook(body), []);
  });

  test('another object is refused as UNEXPECTED_OBJECT', () => {
    assert.throws(
      () => parseInstagramWebhook({ ...instagram([]), object: 'page' }),
      (error: unknown) => error instanceof WebhookPayloadError && error.code === 'UNEXPECTED_OBJECT',
    );
    assert.throws(
      () => parseInstagramWebhook({ entry: [] }),
      (error: unknown) => error instanceof WebhookPayloadError && /missing/.test(error.message),
    );
  });

  const malformed: Array<[string, unknown, RegExp]> = [
    ['null', null, /JSON object/],
    [
      'an entry time that is a string',
      { object: 'instagram', entry: [{ id: '1', time: '1', messaging: [] }] },
      /entry\[0\]\.time/,
    ],
    [
      'mids that are not strings',
      instagram([{ sender: user, recipient: business, timestamp: 1, delivery: { mids: [1], watermark: 1 } }]),
      /mids/,
    ],
    [
      'a read without timestamp',
      instagram([{ sender: user, recipient: business, read: { mid: 'mid.1' } }]),
      /timestamp/,
    ],
    [
      'a read with an empty mid',
      instagram([{ sender: user, recipient: business, timestamp: 1, read: { mid: '' } }]),
      /read\.mid/,
    ],
  ];
  for (const [name, body, message] of malformed) {
    test(`${name} is refused as INVALID_PAYLOAD naming the field`, () => {
      assert.throws(
        () => parseInstagramWebhook(body),
        (error: unknown) =>
          error instanceof WebhookPayloadError &&
          error.code === 'INVALID_PAYLOAD' &&
          message.test(error.message),
      );
    });
  }
});
