import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type MessageStatusUpdate, type OutgoingMessage } from '@fleet/contracts';
import { waitFor } from '@fleet/kafka/testing';
import { type AppProcess } from '@fleet/service-kit/testing';
import { makeMessage, RouterFixture } from './harness';

/** Longer than the lease (4 s) plus the rebalance after the kill (session 6 s), so the takeover waits. */
const GRACE_MS = 15_000;
const ENV = { ROUTER_SESSION_TIMEOUT_MS: '6000', ROUTER_CONFIRMATION_GRACE_MS: String(GRACE_MS) };

interface Row {
  state: string;
  attempts: number;
  channel_message_id: string | null;
  confirmed_channel_message_id: string | null;
  /** ms from the last call's start to the row's last update. */
  decided_after_ms: number;
}

async function row(f: RouterFixture, messageId: string): Promise<Row | undefined> {
  const rows = await f.db.dataSource.query<Row[]>(
    `SELECT state, attempts, channel_message_id, confirmed_channel_message_id,
            (EXTRACT(EPOCH FROM (updated_at - call_started_at)) * 1000)::int AS decided_after_ms
       FROM router_deliveries WHERE message_id = $1 AND channel = 'whatsapp'`,
    [messageId],
  );
  return rows[0];
}

const status = (
  message: OutgoingMessage,
  overrides: Pick<MessageStatusUpdate, 'status' | 'source'> & Partial<MessageStatusUpdate>,
): MessageStatusUpdate => ({
  messageId: message.messageId,
  conversationId: message.conversationId,
  channel: 'whatsapp',
  occurredAt: new Date().toISOString(),
  ...overrides,
});

/**
 * The first router calls WhatsApp (the fake holds the answer back) and is SIGKILLed mid-call; a
 * second router gets the message again, takes the delivery over once the lease ran out, and logs
 * that it waits for a confirmation. Resolves with the second router.
 */
async function killMidCallAndTakeOver(f: RouterFixture, message: OutgoingMessage): Promise<AppProcess> {
  f.fake.script({ match: (c) => c.to === message.recipients.whatsapp, responses: [{ delayMs: 5_000 }] });
  const first = await f.startRouter(ENV);
  await f.send([message]);
  await waitFor('the first call at the fake', () => f.callsFor(message, 'whatsapp').length === 1, 30_000);
  assert.deepEqual(await first.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
  assert.equal((await row(f, message.messageId))?.state, 'SENDING', 'killed before recording an outcome');

  const second = await f.startRouter(ENV);
  await waitFor(
    'the takeover waiting for a confirmation',
    () =>
      second
        .logs()
        .some(
          (line) =>
            line.messageId === message.messageId &&
            String(line.message).includes('waiting for a channel confirmation'),
        ),
    40_000,
  ).catch((error: unknown) => {
    console.error(second.tail(40));
    throw error;
  });
  return second;
}

describe('message-router takeover after a crash mid-call (real Kafka, PostgreSQL, Redis; fake channels)', () => {
  test('when a webhook-sourced SENT status for the message arrives during the grace, the takeover records SENT and never calls the channel again', async () => {
    const f = await RouterFixture.create();
    try {
      const message = makeMessage({ channel: 'whatsapp' });
      const second = await killMidCallAndTakeOver(f, message);
      // The fake took the message (its delayed answer went to the dead router).
      await waitFor(
        'the fake accepted the first call',
        () => f.callsFor(message, 'whatsapp')[0]?.status === 200,
      );
      const wamid = f.callsFor(message, 'whatsapp')[0]!.channelMessageId!;
      assert.equal((await row(f, message.messageId))?.state, 'SENDING', 'still waiting, nothing decided');

      // The router's own statuses are no confirmation; the api's webhook status is.
      await f.sendStatus([
        status(message, { status: 'SENT', source: 'router', channelMessageId: 'wamid.not-a-webhook' }),
        status(message, { status: 'SENT', source: 'webhook', channelMessageId: wamid }),
      ]);
      await waitFor(
        'the delivery SENT',
        async () => (await row(f, message.messageId))?.state === 'SENT',
        30_000,
      );

      const sent = (await row(f, message.messageId))!;
      assert.equal(sent.channel_message_id, wamid);
      assert.equal(sent.attempts, 1, 'no second call was started');
      assert.ok(
        sent.decided_after_ms >= GRACE_MS,
        `decided only after the grace (${sent.decided_after_ms} ms after the call started)`,
      );
      assert.equal(f.callsFor(message, 'whatsapp').length, 1, 'the channel was called once');
      const statuses = await f.statuses(message.messageId);
      assert.deepEqual(
        statuses.map((s) => [s.payload.status, s.payload.source, s.payload.channelMessageId]),
        [['SENT', 'router', wamid]],
        'exactly one SENT status, carrying the confirmed id',
      );
      assert.equal(
        await second.metric('router_deliveries_resumed_unknown_total', { outcome: 'confirmed' }),
        1,
      );
      assert.equal(
        (await second.metric('router_deliveries_resumed_unknown_total', { outcome: 'resent' })) ?? 0,
        0,
      );
      assert.equal(await second.metric('router_confirmations_total', { outcome: 'recorded' }), 1);

      // A later webhook (DELIVERED, another id) for the now final row changes nothing.
      await f.sendStatus([
        status(message, { status: 'DELIVERED', source: 'webhook', channelMessageId: 'wamid.other' }),
      ]);
      await waitFor(
        'the late webhook read',
        async () => ((await second.metric('router_confirmations_total', { outcome: 'final' })) ?? 0) >= 1,
        30_000,
      );
      assert.equal((await row(f, message.messageId))?.channel_message_id, wamid);
      await sleep(500);
      assert.equal(f.callsFor(message, 'whatsapp').length, 1);
      assert.equal(f.dlq.messages.length, 0, 'nothing dead-lettered');
    } finally {
      await f.close();
    }
  });

  test('when no confirmation arrives within the grace, the takeover sends again after it, once', async () => {
    const f = await RouterFixture.create();
    try {
      const message = makeMessage({ channel: 'whatsapp' });
      const second = await killMidCallAndTakeOver(f, message);
      // Only the router's own status: not a webhook, so no confirmation.
      await f.sendStatus([
        status(message, { status: 'SENT', source: 'router', channelMessageId: 'wamid.not-a-webhook' }),
      ]);
      await waitFor(
        'the delivery SENT',
        async () => (await row(f, message.messageId))?.state === 'SENT',
        40_000,
      );

      const calls = f.callsFor(message, 'whatsapp');
      assert.equal(calls.length, 2, 'called again once (the unavoidable duplicate when nothing confirms)');
      const gapMs = Date.parse(calls[1]!.receivedAt) - Date.parse(calls[0]!.receivedAt);
      assert.ok(gapMs >= GRACE_MS - 500, `resent only after the grace (${gapMs} ms after the first call)`);
      const sent = (await row(f, message.messageId))!;
      assert.equal(sent.attempts, 2);
      assert.equal(sent.confirmed_channel_message_id, null);
      assert.equal(sent.channel_message_id, calls[1]!.channelMessageId);
      assert.deepEqual(
        (await f.statuses(message.messageId)).map((s) => [s.payload.status, s.payload.source]),
        [['SENT', 'router']],
      );
      assert.equal(await second.metric('router_deliveries_resumed_unknown_total', { outcome: 'resent' }), 1);
      assert.equal(
        (await second.metric('router_deliveries_resumed_unknown_total', { outcome: 'confirmed' })) ?? 0,
        0,
      );
      assert.equal(await second.metric('router_confirmations_total', { outcome: 'ignored' }), 1);
      assert.equal(f.dlq.messages.length, 0, 'nothing dead-lettered');
    } finally {
      await f.close();
    }
  });
});
