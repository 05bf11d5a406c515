import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chatMessageOutgoing, inNamespace, retryTopicOf } from '@fleet/contracts';
import { createKafkaClient } from '@fleet/kafka';
import { captureLogger, recordTopic, waitFor, type TopicRecording } from '@fleet/kafka/testing';
import { type AppProcess } from '@fleet/service-kit/testing';
import {
  acceptedPerMessage,
  BROKERS,
  createConversations,
  orderViolations,
  sendMessages,
  startChatFleet,
  waitAllDelivered,
  type ChatFleet,
} from './harness';

const CONVERSATIONS = 30;
const PER_CONVERSATION = 10;
const TOTAL = CONVERSATIONS * PER_CONVERSATION;

/**
 * Short lease and session so the takeover comes quickly; the grace (from the dead router's call to
 * the resend decision) well above the `sent` webhook's way back: fake 50 ms → api webhook → outbox
 * → poller → Kafka → the routers' confirmations group.
 */
const ROUTER_ENV = {
  CHANNEL_TIMEOUT_MS: '2000',
  ROUTER_SEND_LEASE_MS: '5000',
  ROUTER_SESSION_TIMEOUT_MS: '6000',
  ROUTER_CONFIRMATION_GRACE_MS: '10000',
};

async function takeovers(routers: readonly AppProcess[], outcome: 'confirmed' | 'resent'): Promise<number> {
  let sum = 0;
  for (const router of routers) {
    sum += (await router.metric('router_deliveries_resumed_unknown_total', { outcome })) ?? 0;
  }
  return sum;
}

describe('chat path end to end with a router SIGKILLed mid-stream (WhatsApp, webhook confirmations)', () => {
  let fleet: ChatFleet;
  let retries: TopicRecording;
  before(async () => {
    fleet = await startChatFleet({ routers: 2, readReceipts: false, routerEnv: ROUTER_ENV });
    const kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'e2e-crash',
      logger: captureLogger(),
    });
    // Messages that went through the retry topic may legitimately fall behind their conversation.
    retries = await recordTopic(kafka, retryTopicOf(inNamespace(chatMessageOutgoing, fleet.namespace).name));
  });
  after(async () => {
    await retries?.stop();
    await fleet?.stop();
  });

  test(`${TOTAL} messages, one of 2 routers SIGKILLed and a new one started: each at the channel exactly once, none lost, order held, all DELIVERED`, async () => {
    // Slow answers keep calls in flight on every router, so the kill lands mid-call.
    fleet.fake.script({ channel: 'whatsapp', responses: [{ delayMs: 100 }], then: 'repeat-last' });
    const conversations = await createConversations(fleet, {
      count: CONVERSATIONS,
      userPrefix: 'crash-user',
      phonePrefix: '1556',
    });
    const sending = sendMessages(fleet, conversations, {
      perConversation: PER_CONVERSATION,
      keyPrefix: 'crash-',
    });
    const atChannel = () => new Set(fleet.fake.callsFor('whatsapp').map((c) => c.messageId)).size;
    await waitFor('a third of the messages at the channel', () => atChannel() >= TOTAL / 3, 120_000);
    const [victim, survivor] = fleet.routers;
    assert.deepEqual(await victim!.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
    const atKill = atChannel();
    assert.ok(atKill < TOTAL, `killed mid-stream (${atKill} of ${TOTAL} at the channel)`);
    const replacement = await fleet.startRouter();
    const sent = await sending;
    assert.equal(sent.size, TOTAL);

    await waitFor('every message at the channel', () => atChannel() >= TOTAL, 180_000);
    // Takeovers decide after the grace: wait until no delivery is unfinished before counting.
    await waitFor(
      'no unfinished delivery left',
      async () => {
        const [row] = await fleet.db.dataSource.query<Array<{ n: string }>>(
          `SELECT count(*) AS n FROM router_deliveries WHERE state NOT IN ('SENT', 'FAILED')`,
        );
        return Number(row!.n) === 0;
      },
      120_000,
    );

    const calls = fleet.fake.callsFor('whatsapp').filter((c) => c.status === 200);
    const perMessage = acceptedPerMessage(calls);
    const twice = [...perMessage].filter(([, count]) => count > 1);
    const confirmed = await takeovers([survivor!, replacement], 'confirmed');
    const resent = await takeovers([survivor!, replacement], 'resent');
    const retried = new Set(
      retries.messages.map((m) => (JSON.parse(m.value!.toString()) as { messageId: string }).messageId),
    );
    console.log(
      `router crash e2e: SIGKILL at ${atKill}/${TOTAL} messages at the channel; takeovers confirmed ${confirmed}, resent ${resent}; ` +
        `${twice.length} message(s) at the channel twice; ${retried.size} message(s) retried`,
    );
    assert.deepEqual(twice, [], 'no message at the channel twice');
    assert.deepEqual(
      [...sent.keys()].filter((id) => !perMessage.has(id)),
      [],
      'no message lost',
    );

    // Order at the channel per conversation, for the messages that never went through a retry.
    assert.deepEqual(
      orderViolations(calls, sent, retried),
      [],
      'per-conversation order at the channel (messages not retried)',
    );

    await waitAllDelivered(fleet, conversations, PER_CONVERSATION);
  });
});
