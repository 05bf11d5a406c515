import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeChannelServer } from '../testing';
import { createInstagramConnector } from '../instagram';
import { type ChannelStatusEvent } from '../types';
import { parseInstagramWebhook, parseWhatsAppWebhook } from '../webhook-payloads';
import { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from '../webhook-signature';
import { createWhatsAppConnector } from '../whatsapp';
import { waitUntil, WebhookReceiver, type ReceivedWebhook } from './receiver.test-helper';

const SECRET = 'callback-test-secret';
const IG_SECRET = 'instagram-app-secret';
const messageId = 'a4a3e1d2-5b6c-4d7e-8f90-0123456789ab';

let receiver: WebhookReceiver;
let fake: FakeChannelServer;

function connectors(server: FakeChannelServer) {
  return {
    whatsApp: createWhatsAppConnector({
      baseUrl: server.url,
      apiVersion: 'v21.0',
      phoneNumberId: '100000000000001',
      accessToken: 'fake-whatsapp-token',
    }),
    instagram: createInstagramConnector({
      baseUrl: server.url,
      apiVersion: 'v21.0',
      accessToken: 'fake-instagram-token',
    }),
  };
}

/** Verifies the signature of each webhook (failing the test otherwise) and parses it. */
function eventsOf(webhooks: ReceivedWebhook[]): ChannelStatusEvent[] {
  return webhooks.flatMap((webhook) => {
    const channel = webhook.path.endsWith('/instagram') ? 'instagram' : 'whatsapp';
    const signature = webhook.headers[WEBHOOK_SIGNATURE_HEADER] as string | undefined;
    assert.ok(
      verifyWebhookSignature(webhook.raw, signature, channel === 'instagram' ? IG_SECRET : SECRET),
      `bad signature on ${webhook.path}`,
    );
    const body: unknown = JSON.parse(webhook.raw.toString('utf8'));
    return channel === 'instagram' ? parseInstagramWebhook(body) : parseWhatsAppWebhook(body);
  });
}

before(async () => {
  receiver = new WebhookReceiver();
  await receiver.start();
  fake = await FakeChannelServer.start({
    appSecret: SECRET,
    appSecrets: { instagram: IG_SECRET },
    webhookUrls: { whatsapp: receiver.url('/hooks/whatsapp'), instagram: receiver.url('/hooks/instagram') },
    callbackDelaysMs: { sent: 10, delivered: 20, read: 30 },
    callbackRetry: { initialBackoffMs: 20, maxBackoffMs: 50 },
  });
});
afterEach(() => {
  fake.reset();
  receiver.received.length = 0;
  receiver.answers = [];
});
after(async () => {
  await fake.stop();
  await receiver.stop();
});

describe('status webhooks', () => {
  test('a WhatsApp message is followed by signed sent, delivered and read webhooks that parse to its events', async () => {
    const { whatsApp } = connectors(fake);
    const { channelMessageId } = await whatsApp.sendText({ messageId, to: '+15551234567', text: 'hi' });
    await waitUntil('three webhooks', () => receiver.received.length >= 3);
    await fake.callbacksSettled();
    const events = eventsOf(receiver.received);
    assert.deepEqual(
      events.map((e) => [e.channel, e.status, e.channelMessageId, e.messageId]),
      [
        ['whatsapp', 'SENT', channelMessageId, messageId],
        ['whatsapp', 'DELIVERED', channelMessageId, messageId],
        ['whatsapp', 'READ', channelMessageId, messageId],
      ],
    );
    const raw = JSON.parse(receiver.received[0].raw.toString()) as {
      entry: Array<{ changes: Array<{ value: { statuses: Array<{ recipient_id: string }> } }> }>;
    };
    assert.equal(raw.entry[0].changes[0].value.statuses[0].recipient_id, '15551234567');
    assert.ok(events.every((e) => Math.abs(Date.parse(e.occurredAt) - Date.now()) < 10_000));
  });

  test('an Instagram message is followed by signed delivery and read webhooks that parse to its events', async () => {
    const { instagram } = connectors(fake);
    const { channelMessageId } = await instagram.sendText({ messageId, to: '1254459154682919', text: 'hi' });
    await waitUntil('two webhooks', () => receiver.received.length >= 2);
    await fake.callbacksSettled();
    assert.deepEqual(
      eventsOf(receiver.received).map((e) => [e.channel, e.status, e.channelMessageId, e.messageId]),
      [
        ['instagram', 'DELIVERED', channelMessageId, undefined],
        ['instagram', 'READ', channelMessageId, undefined],
      ],
    );
  });

  test('a message scripted to fail on delivery gets sent, then failed with the error as reason', async () => {
    fake.script({ responses: [{ callbacks: 'failed' }] });
    const { whatsApp } = connectors(fake);
    await whatsApp.sendText({ messageId, to: '+15551234567', text: 'hi' });
    await waitUntil('two webhooks', () => receiver.received.length >= 2);
    await fake.callbacksSettled();
    const events = eventsOf(receiver.received);
    assert.deepEqual(
      events.map((e) => e.status),
      ['SENT', 'FAILED'],
    );
    assert.equal(events[1].reason, '131026: Message undeliverable (Message Undeliverable.)');
  });

  test('when the receiver answers 500 twice, the webhook is retried and arrives on the third attempt', async () => {
    receiver.answers = [500, 503];
    const { instagram } = connectors(fake);
    await instagram.sendText({ messageId, to: '1254459154682919', text: 'hi' });
    await waitUntil('four requests', () => receiver.received.length >= 4);
    await fake.callbacksSettled();
    const [delivery, read] = fake.callbacks;
    assert.deepEqual([delivery.event, delivery.outcome, delivery.attempts], ['delivered', 'delivered', 3]);
    assert.deepEqual([read.event, read.outcome, read.attempts], ['read', 'delivered', 1]);
    // Retries carry the very same bytes and signature.
    assert.deepEqual(receiver.received[0].raw, receiver.received[2].raw);
  });
});

test('with read receipts off, only sent and delivered are sent', async () => {
  const quiet = await FakeChannelServer.start({
    appSecret: SECRET,
    webhookUrls: { whatsapp: receiver.url('/hooks/whatsapp') },
    callbackDelaysMs: { sent: 5, delivered: 10, read: 15 },
    sendReadReceipts: false,
  });
  try {
    await connectors(quiet).whatsApp.sendText({ messageId, to: '+15551234567', text: 'hi' });
    await waitUntil('two webhooks', () => receiver.received.length >= 2);
    await quiet.callbacksSettled();
    assert.deepEqual(
      eventsOf(receiver.received).map((e) => e.status),
      ['SENT', 'DELIVERED'],
    );
  } finally {
    await quiet.stop();
  }
});

test('with a batch window, statuses falling due together arrive in one signed webhook, in order, each once', async () => {
  const batching = await FakeChannelServer.start({
    appSecret: SECRET,
    appSecrets: { instagram: IG_SECRET },
    webhookUrls: { whatsapp: receiver.url('/hooks/whatsapp'), instagram: receiver.url('/hooks/instagram') },
    callbackDelaysMs: { sent: 5, delivered: 60, read: 120 },
    callbackBatchWindowMs: 30,
    sendReadReceipts: false,
  });
  try {
    receiver.answers = [500]; // the first batch is retried whole
    const { whatsApp, instagram } = connectors(batching);
    const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    const sent = await Promise.all([
      whatsApp.sendText({ messageId: ids[0]!, to: '+15551234567', text: 'one' }),
      whatsApp.sendText({ messageId: ids[1]!, to: '+15551234567', text: 'two' }),
      instagram.sendText({ messageId: ids[0]!, to: '1234567890', text: 'three' }),
    ]);
    await batching.callbacksSettled();
    const whatsAppHooks = receiver.received.filter((w) => w.path.endsWith('/whatsapp'));
    // sent ×2 (one batch, posted twice: 500 then 200), delivered ×2 (one batch).
    assert.equal(whatsAppHooks.length, 3, 'two batches, the first one retried');
    assert.deepEqual(whatsAppHooks[0]!.raw, whatsAppHooks[1]!.raw, 'a retry carries the same bytes');
    const events = eventsOf(whatsAppHooks.slice(1));
    assert.deepEqual(
      events.map((e) => [e.messageId, e.status]),
      [
        [ids[0], 'SENT'],
        [ids[1], 'SENT'],
        [ids[0], 'DELIVERED'],
        [ids[1], 'DELIVERED'],
      ],
    );
    assert.deepEqual(
      events.map((e) => e.channelMessageId),
      [
        sent[0]!.channelMessageId,
        sent[1]!.channelMessageId,
        sent[0]!.channelMessageId,
        sent[1]!.channelMessageId,
      ],
    );
    const igEvents = eventsOf(receiver.received.filter((w) => w.path.endsWith('/instagram')));
    assert.deepEqual(
      igEvents.map((e) => [e.channelMessageId, e.status]),
      [[sent[2]!.channelMessageId, 'DELIVERED']],
    );
    const records = batching.callbacks;
    assert.equal(records.length, 5);
    assert.ok(records.every((r) => r.outcome === 'delivered'));
    assert.deepEqual(
      records.filter((r) => r.event === 'sent').map((r) => r.attempts),
      [2, 2],
    );
  } finally {
    await batching.stop();
  }
});

test('when the receiver is down, webhooks are given up after the retries and the fake keeps serving', async () => {
  const down = new WebhookReceiver();
  await down.start();
  const url = down.url('/hooks/whatsapp');
  await down.stop();
  const lonely = await FakeChannelServer.start({
    webhookUrls: { whatsapp: url },
    callbackDelaysMs: { sent: 0, delivered: 0, read: 0 },
    callbackRetry: { attempts: 3, initialBackoffMs: 10 },
  });
  try {
    const { whatsApp } = connectors(lonely);
    await whatsApp.sendText({ messageId, to: '+15551234567', text: 'first' });
    await lonely.callbacksSettled();
    const outcomes = lonely.callbacks.map((c) => [c.event, c.outcome, c.attempts]);
    assert.deepEqual(outcomes, [
      ['sent', 'gave-up', 3],
      ['delivered', 'gave-up', 3],
      ['read', 'gave-up', 3],
    ]);
    assert.match(lonely.callbacks[0].lastError ?? '', /ECONNREFUSED/);
    await whatsApp.sendText({ messageId, to: '+15551234567', text: 'second' });
  } finally {
    await lonely.stop();
  }
});

test('reset cancels pending webhooks and forgets calls and rules', async () => {
  const slow = await FakeChannelServer.start({
    webhookUrls: { whatsapp: receiver.url('/hooks/whatsapp') },
    callbackDelaysMs: { sent: 300, delivered: 300, read: 300 },
  });
  try {
    slow.script({ responses: [{ status: 500 }], then: 'repeat-last', match: (c) => c.text === 'never' });
    await connectors(slow).whatsApp.sendText({ messageId, to: '+15551234567', text: 'hi' });
    slow.reset();
    await slow.callbacksSettled();
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(receiver.received.length, 0);
    assert.equal(slow.calls.length, 0);
    await connectors(slow).whatsApp.sendText({ messageId, to: '+15551234567', text: 'never' });
    assert.deepEqual(
      slow.calls.map((c) => c.status),
      [200],
    );
  } finally {
    await slow.stop();
  }
});

describe('HTTP controls', () => {
  const control = (path: string, init?: RequestInit) => fetch(`${fake.url}/_fake/${path}`, init);
  const post = (path: string, body?: unknown) =>
    control(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });

  test('a JSON rule scripts failures for matching text only; /_fake/calls shows the calls; reset clears', async () => {
    const created = await post('script', {
      channel: 'whatsapp',
      textContains: 'boom',
      responses: [{ status: 503 }],
      then: 'repeat-last',
    });
    assert.equal(created.status, 201);
    const { whatsApp } = connectors(fake);
    await assert.rejects(whatsApp.sendText({ messageId, to: '+15551234567', text: 'boom!' }), {
      code: 'UNAVAILABLE',
    });
    await whatsApp.sendText({ messageId, to: '+15551234567', text: 'fine' });

    const listed = (await (await control('calls?channel=whatsapp')).json()) as {
      calls: Array<{ text: string; status: number; body: unknown }>;
    };
    assert.deepEqual(
      listed.calls.map((c) => [c.text, c.status]),
      [
        ['boom!', 503],
        ['fine', 200],
      ],
    );
    assert.equal((await control('calls?channel=sms')).status, 400);

    assert.equal((await post('reset')).status, 200);
    const after = (await (await control('calls')).json()) as { calls: unknown[] };
    assert.deepEqual(after.calls, []);
    await whatsApp.sendText({ messageId, to: '+15551234567', text: 'boom again' });
  });

  test('an invalid JSON rule is refused with 400 naming the problem', async () => {
    const response = await post('script', { responses: [{ status: 'x' }] });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: string }).error, /responses\[0\]\.status/);
    const notJson = await control('script', { method: 'POST', body: '{' });
    assert.equal(notJson.status, 400);
    assert.equal((await control('nope')).status, 404);
  });

  test('a delayed answer via JSON rule makes the connector time out', async () => {
    await post('script', { responses: [{ delayMs: 2_000 }] });
    const hasty = createWhatsAppConnector({
      baseUrl: fake.url,
      apiVersion: 'v21.0',
      phoneNumberId: '100000000000001',
      accessToken: 'fake-whatsapp-token',
      timeoutMs: 200,
    });
    await assert.rejects(hasty.sendText({ messageId, to: '+15551234567', text: 'slow' }), {
      code: 'TIMEOUT',
    });
  });
});

describe('request validation', () => {
  const send = (path: string, body: string, token = 'fake-whatsapp-token') =>
    fetch(`${fake.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
  const graphError = async (response: Response) =>
    (
      (await response.json()) as {
        error: { message: string; type: string; code: number; fbtrace_id: string };
      }
    ).error;

  test('missing fields and bad JSON are answered 400 with a Graph OAuthException error', async () => {
    const path = '/v21.0/100000000000001/messages';
    const cases: Array<[string, RegExp]> = [
      ['{', /Invalid JSON/],
      ['{"to":"+15551234567","type":"text","text":{"body":"x"}}', /messaging_product is required/],
      ['{"messaging_product":"whatsapp","type":"text","text":{"body":"x"}}', /to is required/],
      [
        '{"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{}}',
        /text\['body'\] is required/,
      ],
      ['{"messaging_product":"whatsapp","to":"+15551234567","type":"image"}', /not supported/],
    ];
    for (const [body, message] of cases) {
      const response = await send(path, body);
      assert.equal(response.status, 400, body);
      const error = await graphError(response);
      assert.match(error.message, message);
      assert.equal(error.type, 'OAuthException');
      assert.equal(error.code, 100);
      assert.ok(error.fbtrace_id.length > 0);
    }
    assert.equal(fake.calls.length, cases.length);
  });

  test('a call without a token is answered 401 and recorded', async () => {
    const response = await fetch(`${fake.url}/v21.0/me/messages`, {
      method: 'POST',
      body: '{"recipient":{"id":"1"},"message":{"text":"x"}}',
    });
    assert.equal(response.status, 401);
    assert.equal((await graphError(response)).code, 104);
    assert.deepEqual(
      fake.calls.map((c) => [c.channel, c.status, c.to]),
      [['instagram', 401, '1']],
    );
  });
});
