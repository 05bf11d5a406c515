import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@fleet/kafka/testing';
import {
  acceptedPerMessage,
  createConversations,
  orderViolations,
  sendMessages,
  startChatFleet,
  waitAllDelivered,
  type ChatFleet,
} from './harness';

const CONVERSATIONS = 50;
const PER_CONVERSATION = 20;

describe('chat path end to end: api → outbox → Kafka → 2 routers → fake WhatsApp → webhooks → api', () => {
  let fleet: ChatFleet;
  before(async () => {
    fleet = await startChatFleet({ routers: 2, readReceipts: false });
  });
  after(async () => {
    await fleet?.stop();
  });

  test('1,000 messages in 50 conversations: each delivered once, in order per conversation, DELIVERED in the api', async () => {
    const started = performance.now();
    const conversations = await createConversations(fleet, {
      count: CONVERSATIONS,
      userPrefix: 'user',
      phonePrefix: '1555',
    });
    const sent = await sendMessages(fleet, conversations, {
      perConversation: PER_CONVERSATION,
      keyPrefix: '',
    });
    assert.equal(sent.size, CONVERSATIONS * PER_CONVERSATION);
    const accepted = performance.now();

    await waitFor(
      'every message at the fake channel',
      () => new Set(fleet.fake.callsFor('whatsapp').map((call) => call.messageId)).size >= sent.size,
      180_000,
    );
    const delivered = performance.now();
    const calls = fleet.fake.callsFor('whatsapp').filter((call) => call.status === 200);
    const perMessage = acceptedPerMessage(calls);
    const twice = [...perMessage].filter(([, count]) => count > 1);
    assert.deepEqual(twice, [], 'no message delivered twice');
    assert.deepEqual(
      [...sent.keys()].filter((id) => !perMessage.has(id)),
      [],
      'no message lost',
    );
    // Order at the channel: for each recipient, the message numbers arrive increasing.
    assert.deepEqual(orderViolations(calls, sent), [], 'per-conversation order at the channel');

    // The channel's webhooks (sent, delivered) come back through the api's outbox and consumer.
    await waitAllDelivered(fleet, conversations, PER_CONVERSATION);
    const done = performance.now();
    console.log(
      `chat e2e: ${sent.size} messages in ${CONVERSATIONS} conversations, 2 routers: accepted in ${((accepted - started) / 1000).toFixed(1)} s, ` +
        `all at the channel after ${((delivered - started) / 1000).toFixed(1)} s, all DELIVERED after ${((done - started) / 1000).toFixed(1)} s; ` +
        `${calls.length} channel calls, 0 duplicates, per-conversation order held`,
    );
  });
});
